"""Deferred services: built by the first request that needs them, the rest after it."""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from pathlib import Path

from lambic.services.base import Headers, ServiceRequest
from lambic.services.factory import create_deferred_services


def list_buckets() -> ServiceRequest:
    # Signed (S3 refuses an anonymous ListBuckets); the edge, not S3, checks signatures.
    owner = (
        "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, "
        "SignedHeaders=host, Signature=0"
    )
    headers = Headers([("host", "127.0.0.1"), ("authorization", owner)])
    return ServiceRequest("GET", "/", "", headers, b"")


def test_nothing_is_built_or_opened_until_a_request_arrives(tmp_path: Path) -> None:
    deferred = create_deferred_services(tmp_path / "state")
    try:
        assert sorted(deferred.by_name()) == [
            "dynamodb",
            "events",
            "kinesis",
            "s3",
            "sns",
            "sqs",
            "sts",
        ]
        assert not any(s.built for s in deferred._services.values())
        assert list((tmp_path / "state").iterdir()) == []
    finally:
        deferred.close()


def test_the_first_answer_builds_its_service_then_the_rest_in_the_background(
    tmp_path: Path,
) -> None:
    deferred = create_deferred_services(tmp_path / "state")
    s3 = deferred.by_name()["s3"]
    try:
        response = asyncio.run(s3.handle(list_buckets()))

        assert response.status == 200
        assert b"ListAllMyBucketsResult" in response.body
        assert deferred._warming is not None
        deferred._warming.join(timeout=30)
        built = {name for name, s in deferred._services.items() if s.built}
        # Every service but Kinesis (few apps use it: built by its own first request).
        assert built == set(deferred.by_name()) - {"kinesis"}
        # The same databases `create_services` opens, in the same place.
        assert (tmp_path / "state" / "sqs.sqlite3").exists()
        assert not (tmp_path / "state" / "kinesis.sqlite3").exists()
    finally:
        deferred.close()


def test_kinesis_is_built_by_its_first_request(tmp_path: Path) -> None:
    deferred = create_deferred_services(tmp_path / "state")
    try:
        request = ServiceRequest(
            "POST",
            "/",
            "",
            Headers([("X-Amz-Target", "Kinesis_20131202.ListStreams")]),
            b"{}",
        )
        response = asyncio.run(deferred.by_name()["kinesis"].handle(request))
        assert response.status == 200
        assert b'"StreamNames":[]' in response.body
        assert (tmp_path / "state" / "kinesis.sqlite3").exists()
    finally:
        deferred.close()


def test_without_warming_a_service_is_built_by_its_own_first_request_only(
    tmp_path: Path,
) -> None:
    deferred = create_deferred_services(tmp_path / "state", warm=False)
    s3 = deferred.by_name()["s3"]
    try:
        asyncio.run(s3.handle(list_buckets()))

        assert [name for name, s in deferred._services.items() if s.built] == ["s3"]
        assert deferred._warming is None
        assert not (tmp_path / "state" / "dynamodb.sqlite3").exists()
        # The next service is built when it is first needed, over the same state.
        deferred.get("dynamodb")
        assert (tmp_path / "state" / "dynamodb.sqlite3").exists()
    finally:
        deferred.close()


def test_the_first_answer_hooks_run_once(tmp_path: Path) -> None:
    deferred = create_deferred_services(None, warm=False)
    s3 = deferred.by_name()["s3"]
    calls: list[str] = []
    deferred.on_first_answer(lambda: calls.append("first"))
    try:
        asyncio.run(s3.handle(list_buckets()))
        asyncio.run(s3.handle(list_buckets()))
    finally:
        deferred.close()

    assert calls == ["first"]


def test_a_closed_set_builds_nothing_more(tmp_path: Path) -> None:
    deferred = create_deferred_services(None)
    deferred.close()

    deferred.warm()

    assert not any(s.built for s in deferred._services.values())


def test_a_deferred_s3_still_takes_uploads_as_files_in_its_spool_directory(
    tmp_path: Path,
) -> None:
    from lambic.services.base import SpoolingService

    deferred = create_deferred_services(tmp_path / "state")
    s3 = deferred.by_name()["s3"]
    put = ServiceRequest(
        "PUT",
        "/bucket/key",
        "",
        Headers([("host", "127.0.0.1"), ("content-length", "9999999")]),
        b"",
    )
    try:
        assert isinstance(s3, SpoolingService)
        assert s3.takes_upload(put)
        assert s3.spool_directory is not None
        assert str(tmp_path / "state") in s3.spool_directory
    finally:
        deferred.close()


def test_warming_builds_only_the_services_named(tmp_path: Path) -> None:
    # `lambic local` names those an earlier run used; the rest wait for their first call.
    deferred = create_deferred_services(tmp_path / "state", warm={"sqs", "kinesis"})
    s3 = deferred.by_name()["s3"]
    try:
        asyncio.run(s3.handle(list_buckets()))

        assert deferred._warming is not None
        deferred._warming.join(timeout=30)
        built = {name for name, s in deferred._services.items() if s.built}
        assert built == {"s3", "sqs", "kinesis"}
        assert not (tmp_path / "state" / "sns.sqlite3").exists()
    finally:
        deferred.close()


def test_held_requests_are_answered_only_once_the_hold_is_done(tmp_path: Path) -> None:
    # lambic local creates its declared resources while app.py is read: a request
    # meanwhile (an import-time call) comes after them, whatever their outcome.
    deferred = create_deferred_services(None, warm=False)
    hold: Future[object] = Future()
    deferred.hold_requests(hold)

    async def scenario() -> tuple[bool, int]:
        answer = asyncio.ensure_future(deferred.by_name()["s3"].handle(list_buckets()))
        await asyncio.sleep(0.2)
        waited = not answer.done()
        hold.set_exception(RuntimeError("the holder's to report"))
        return waited, (await asyncio.wait_for(answer, 10)).status

    try:
        assert asyncio.run(scenario()) == (True, 200)
    finally:
        deferred.close()
