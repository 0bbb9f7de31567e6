"""`lambic local`'s services open only what start-up needs: the declared resources'
services and the engines its event handlers feed from; the rest on first use."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from lambic.project.resources import parse_resources
from lambic.runtime.local_services import LocalServices

TABLE = {
    "TableName": "orders",
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}


def test_declared_resources_open_only_their_services_and_no_sdk(tmp_path: Path) -> None:
    state = tmp_path / "state"

    async def run() -> tuple[list[str], list[str], list[str]]:
        services = LocalServices(port=0)
        await services.open(state, lambda: None)
        try:
            created = await services.create_resources(parse_resources({"dynamodb_tables": [TABLE]}))
            assert services.services is not None
            built = sorted(n for n, s in services.services._services.items() if s.built)
            # An SQS handler's engine is built when its event source asks for it.
            engines = services.engines(["sqs"])
            assert engines.sqs is not None and engines.s3 is None
            after = sorted(n for n, s in services.services._services.items() if s.built)
            # Only a stored state can hold rules of handlers app.py no longer has, which
            # the S3 and SNS adapters remove: those engines are built when it exists.
            assert services.stored({"s3", "sns", "dynamodb"}) == {"dynamodb"}
            return created, built, after
        finally:
            await services.stop()

    created, built, after = asyncio.run(run())

    assert created == ["table orders"]
    assert built == ["dynamodb"]  # not S3, SQS, SNS or EventBridge: nothing asked for them
    assert after == ["dynamodb", "sqs"]
    assert sorted(p.name for p in state.glob("*.sqlite3")) == ["dynamodb.sqlite3", "sqs.sqlite3"]


def test_creating_the_declared_resources_imports_no_sdk(tmp_path: Path) -> None:
    # In a fresh interpreter: another test of this worker may have imported boto3.
    probe = f"""
import asyncio, sys
from lambic.project.resources import parse_resources
from lambic.runtime.local_services import LocalServices

async def run():
    services = LocalServices(port=0)
    await services.open(None, lambda: None)
    try:
        return await services.create_resources(parse_resources({{
            "dynamodb_tables": [{TABLE!r}], "s3_buckets": [{{"Bucket": "site"}}],
            "sqs_queues": [{{"QueueName": "jobs"}}], "sns_topics": [{{"Name": "news"}}],
        }}))
    finally:
        await services.stop()

print(asyncio.run(run()), sorted(m for m in ("boto3", "botocore") if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ("['table orders', 'bucket site', 'queue jobs', 'topic news'] []")


def test_the_engines_an_app_needs_import_only_their_own_services() -> None:
    # In a fresh interpreter: another test of this worker may have imported them all.
    # An app whose handlers feed only from S3 (and a stored state) does not pay on its
    # way to the first answer for importing SNS, SQS, Kinesis or EventBridge.
    probe = """
import asyncio, sys
from lambic.runtime.local_services import LocalServices

async def run():
    services = LocalServices(port=0)
    await services.open(None, lambda: None)
    try:
        engines = services.engines(["s3"])
        return engines.s3 is not None, sorted(engines.running())
    finally:
        await services.stop()

names = ("s3", "sqs", "sns", "kinesis", "events", "dynamodb")
print(asyncio.run(run()), [n for n in names if f"lambic.services.{n}" in sys.modules])
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "(True, ['s3']) ['s3']"


def test_after_the_first_answer_only_services_an_earlier_run_used_are_warmed(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"

    async def run(first: bool) -> set[str]:
        services = LocalServices(port=0)
        await services.open(state, lambda: None)
        try:
            group = services.services
            assert group is not None
            if first:
                services.engines(["sqs"])  # this run uses SQS: sqs.sqlite3 is created
            group.answered()  # the edge's first answer starts the warming
            if group._warming is not None:
                await asyncio.to_thread(group._warming.join, 30)
            return {name for name, s in group._services.items() if s.built}
        finally:
            await services.stop()

    assert asyncio.run(run(first=True)) == {"sqs"}  # nothing stored before: nothing warmed
    # The next run builds SQS in the background; SNS, EventBridge, STS, S3... wait for
    # their first call.
    assert asyncio.run(run(first=False)) == {"sqs"}
    assert sorted(p.name for p in state.glob("*.sqlite3")) == ["sqs.sqlite3"]
