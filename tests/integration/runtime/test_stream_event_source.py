"""DynamoDB Streams → Lambda: changes made with boto3 reach the handler in order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from lambic.runtime.event_sources import Engines
from lambic.services.dynamodb import create_service as create_dynamodb
from lambic.services.server import EdgeServer
from tests.integration.runtime.conftest import RunSources

WaitFor = Callable[..., Awaitable[None]]
Recorded = Callable[[Path, str], list[dict[str, Any]]]
AppCopy = Callable[[Path], tuple[Path, Path]]
APP = Path(__file__).resolve().parents[2] / "apps" / "stream_handlers"


def test_inserts_updates_and_deletes_arrive_in_order_with_images_and_a_failure_is_retried(
    tmp_path: Path,
    app_copy: AppCopy,
    start_edge: Callable[..., EdgeServer],
    make_client: Callable[..., Any],
    event_sources: RunSources,
    wait_for: WaitFor,
    recorded: Recorded,
) -> None:
    project_dir, out = app_copy(APP)
    service = create_dynamodb(None)
    edge = start_edge({"dynamodb": service})
    dynamodb = make_client("dynamodb", edge.url)
    dynamodb.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    # Written before the mapping starts: TRIM_HORIZON must still deliver it.
    dynamodb.put_item(TableName="orders", Item={"id": {"S": "o1"}, "total": {"N": "10"}})

    async def scenario() -> None:
        async with event_sources(
            project_dir,
            out,
            "streamhandlers",
            Engines(dynamodb=service.engine),
            state_dir=tmp_path / "state",
        ):
            await wait_for(lambda: len(recorded(out, "stream")) == 1)
            await asyncio.to_thread(
                dynamodb.update_item,
                TableName="orders",
                Key={"id": {"S": "o1"}},
                UpdateExpression="SET #t = :t",
                ExpressionAttributeNames={"#t": "total"},  # TOTAL is a reserved word
                ExpressionAttributeValues={":t": {"N": "12"}},
            )
            await asyncio.to_thread(
                dynamodb.delete_item, TableName="orders", Key={"id": {"S": "o1"}}
            )
            await asyncio.to_thread(
                dynamodb.put_item,
                TableName="orders",
                Item={"id": {"S": "o2"}, "fail_once": {"BOOL": True}},
            )

            def retried() -> bool:
                records = recorded(out, "stream")
                o2 = [r for r in records if r["dynamodb"]["Keys"]["id"]["S"] == "o2"]
                return len({r["eventID"] for r in records}) == 4 and len(o2) == 2

            await wait_for(retried)

    asyncio.run(scenario())
    records = recorded(out, "stream")
    first_seen: dict[str, dict[str, Any]] = {}
    for record in records:
        first_seen.setdefault(record["eventID"], record)
    ordered = list(first_seen.values())
    assert [r["eventName"] for r in ordered] == ["INSERT", "MODIFY", "REMOVE", "INSERT"]
    insert, modify, remove, retried = ordered
    assert insert["dynamodb"]["NewImage"] == {"id": {"S": "o1"}, "total": {"N": "10"}}
    assert "OldImage" not in insert["dynamodb"]
    assert modify["dynamodb"]["OldImage"]["total"] == {"N": "10"}
    assert modify["dynamodb"]["NewImage"]["total"] == {"N": "12"}
    assert remove["dynamodb"]["Keys"] == {"id": {"S": "o1"}}
    assert "NewImage" not in remove["dynamodb"]
    assert all(r["eventSource"] == "aws:dynamodb" for r in ordered)
    assert all(r["eventSourceARN"].startswith("arn:aws:dynamodb:") for r in ordered)
    sequences = [int(r["dynamodb"]["SequenceNumber"]) for r in ordered]
    assert sequences == sorted(sequences)
    # The handler raised on the last record, so its batch was delivered again (AWS retries
    # the whole batch when the handler raises); records before that batch were not.
    assert sum(1 for r in records if r["eventID"] == retried["eventID"]) == 2
    assert sum(1 for r in records if r["eventID"] == insert["eventID"]) == 1
    # The retry came after the failure, in order: the stream never skips ahead.
    second_o2 = [i for i, r in enumerate(records) if r["eventID"] == retried["eventID"]][1]
    assert all(r["eventID"] == retried["eventID"] or i < second_o2 for i, r in enumerate(records))
