"""The flagship tested the way a Lambic user tests their own app: with the pytest
plugin's `lambic_local` fixture (a fresh `lambic local` per test, on free ports, with
its own state), boto3 as the app's code uses it, and plain HTTP. These tests also run
under `pytest -n 2` (tests/unit/test_pytest_plugin.py checks it)."""

from __future__ import annotations

import json

import boto3
import pytest

from lambic.app.event_generator import EventGenerator

pytestmark = [pytest.mark.slow, pytest.mark.lambic_project("examples/trainstatus")]


def scheduled_event() -> bytes:
    """What EventBridge sends the check each minute, as JSON."""
    generator = EventGenerator(region="us-east-1", account_id="123456789012")
    return json.dumps(generator.schedule(rule="trainstatus-dev-update_status")).encode()


def test_a_status_check_records_the_lines_and_serves_them(lambic_local):
    status, body = lambic_local.get_json("/latest")
    assert status == 404, body  # nothing recorded before the first check

    # Run the scheduled check now instead of waiting a minute for the schedule.
    response = boto3.client("lambda").invoke(
        FunctionName="update_status", Payload=scheduled_event()
    )
    result = json.loads(response["Payload"].read())
    assert result.get("updated") is True, result

    lines = lambic_local.wait_for_invocation("update_status")
    assert any("Recorded" in line for line in lines), lines
    status, body = lambic_local.get_json("/latest")
    assert status == 200
    assert set(body["data"]) >= {"123", "ACE"}


def test_the_check_writes_the_status_page_to_the_site_bucket(lambic_local):
    boto3.client("lambda").invoke(
        FunctionName="update_status", InvocationType="Event", Payload=scheduled_event()
    )

    delivered = lambic_local.wait_for_delivery("update_status")
    assert "update_status" in delivered[0] and " ok " in delivered[0], delivered
    lambic_local.wait_for_invocation("update_status")
    page = boto3.client("s3").get_object(Bucket="trainstatus-site", Key="index.html")
    assert page["ContentType"] == "text/html; charset=utf-8"
    assert b"<html" in page["Body"].read().lower()
