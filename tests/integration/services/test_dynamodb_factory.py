"""DynamoDB as `lambic local` builds it: through the services factory, on one edge port."""

from __future__ import annotations

from pathlib import Path

from lambic.services.factory import create_services
from lambic.services.server import EdgeServer
from tests._support.clients import aws_client


def test_factory_serves_dynamodb_and_streams_and_state_survives_restart(tmp_path: Path) -> None:
    services = create_services(tmp_path, names=["dynamodb"])
    edge = EdgeServer(services.by_name()).start()
    try:
        ddb = aws_client("dynamodb", edge.url)
        arn = ddb.create_table(
            TableName="orders",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )["TableDescription"]["LatestStreamArn"]
        ddb.put_item(TableName="orders", Item={"id": {"S": "o-1"}})
        streams = aws_client("dynamodbstreams", edge.url)
        assert [s["StreamArn"] for s in streams.list_streams()["Streams"]] == [arn]
    finally:
        edge.stop()
        services.close()
    assert (tmp_path / "dynamodb.sqlite3").exists()
    services = create_services(tmp_path, names=["dynamodb"])
    edge = EdgeServer(services.by_name()).start()
    try:
        ddb = aws_client("dynamodb", edge.url)
        got = ddb.get_item(TableName="orders", Key={"id": {"S": "o-1"}})
        assert got["Item"] == {"id": {"S": "o-1"}}
    finally:
        edge.stop()
        services.close()
