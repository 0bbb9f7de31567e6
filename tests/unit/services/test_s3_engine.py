from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from lambic.services.s3 import (
    NotificationConfiguration,
    NotificationRule,
    ObjectEvent,
    S3Error,
    create_service,
)
from lambic.services.s3._metering import stored_bytes
from lambic.services.s3.engine import Preconditions, S3Engine, multipart_etag
from lambic.services.s3.names import bucket_name_problem
from lambic.services.s3.store import ObjectAttrs


@pytest.fixture
def engine() -> S3Engine:
    engine = create_service(None).engine
    engine.create_bucket("bucket")
    return engine


def test_bucket_name_rules_follow_aws() -> None:
    assert bucket_name_problem("my-bucket.example") is None
    for bad in (
        "ab",
        "a" * 64,
        "Caps",
        "under_score",
        "a..b",
        "10.0.0.1",
        "end-",
        "sthree-x",
        "x-s3alias",
    ):
        assert bucket_name_problem(bad) is not None, bad


def test_keys_longer_than_1024_utf8_bytes_are_refused(engine: S3Engine) -> None:
    engine.put_object("bucket", "é" * 512, b"", ObjectAttrs())
    with pytest.raises(S3Error) as exc:
        engine.put_object("bucket", "é" * 513, b"", ObjectAttrs())
    assert exc.value.code == "KeyTooLongError"


def test_conditional_put_if_none_match_star_refuses_to_overwrite(engine: S3Engine) -> None:
    engine.put_object("bucket", "k", b"v1", ObjectAttrs(), preconditions=Preconditions(None, "*"))
    with pytest.raises(S3Error) as exc:
        engine.put_object(
            "bucket", "k", b"v2", ObjectAttrs(), preconditions=Preconditions(None, "*")
        )
    assert exc.value.status == 412
    assert engine.read(engine.head("bucket", "k")) == b"v1"


def test_conditional_put_if_none_match_etag_refuses_only_that_object(engine: S3Engine) -> None:
    first = engine.put_object("bucket", "k", b"v1", ObjectAttrs())
    with pytest.raises(S3Error) as exc:
        engine.put_object(
            "bucket", "k", b"v2", ObjectAttrs(), preconditions=Preconditions(None, first.etag)
        )
    assert exc.value.status == 412
    engine.put_object(
        "bucket", "k", b"v3", ObjectAttrs(), preconditions=Preconditions(None, '"other"')
    )
    assert engine.read(engine.head("bucket", "k")) == b"v3"


def test_conditional_put_if_match_needs_the_current_etag(engine: S3Engine) -> None:
    first = engine.put_object("bucket", "k", b"v1", ObjectAttrs())
    with pytest.raises(S3Error):
        engine.put_object(
            "bucket", "k", b"v2", ObjectAttrs(), preconditions=Preconditions('"abc"', None)
        )
    engine.put_object(
        "bucket", "k", b"v2", ObjectAttrs(), preconditions=Preconditions(first.etag, None)
    )
    assert engine.read(engine.head("bucket", "k")) == b"v2"


def test_multipart_etag_is_md5_of_part_digests_with_count() -> None:
    parts = [b"one", b"two"]
    etags = [f'"{hashlib.md5(p).hexdigest()}"' for p in parts]
    combined = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    assert multipart_etag(etags) == f'"{combined}-2"'


def test_listing_jumps_over_a_large_common_prefix_in_one_page(engine: S3Engine) -> None:
    for n in range(2500):
        engine.put_object("bucket", f"logs/{n:05d}", b"", ObjectAttrs())
    engine.put_object("bucket", "readme", b"", ObjectAttrs())
    page = engine.list_objects("bucket", delimiter="/", max_keys=10)
    assert page.common_prefixes == ["logs/"]
    assert [o.key for o in page.contents] == ["readme"]
    assert page.is_truncated is False
    resumed = engine.list_objects("bucket", delimiter="/", after="logs/", max_keys=10)
    assert [o.key for o in resumed.contents] == ["readme"]
    assert resumed.common_prefixes == []


def test_listing_truncates_exactly_at_max_keys(engine: S3Engine) -> None:
    for n in range(5):
        engine.put_object("bucket", f"k{n}", b"", ObjectAttrs())
    page = engine.list_objects("bucket", max_keys=5)
    assert len(page.contents) == 5
    assert page.is_truncated is False
    page = engine.list_objects("bucket", max_keys=4)
    assert page.is_truncated is True
    assert page.last == "k3"


def test_a_failing_listener_does_not_fail_the_write(engine: S3Engine) -> None:
    def broken(event: object) -> None:
        raise RuntimeError("subscriber bug")

    engine.add_listener(broken)
    engine.put_object("bucket", "k", b"v", ObjectAttrs())
    assert engine.read(engine.head("bucket", "k")) == b"v"


def test_deleting_a_bucket_removes_its_abandoned_uploads(engine: S3Engine) -> None:
    upload = engine.create_upload("bucket", "k", ObjectAttrs())
    engine.upload_part("bucket", "k", upload.upload_id, 1, b"part")
    engine.delete_bucket("bucket")
    assert engine.store.get_upload(upload.upload_id) is None
    assert engine.store.live_blobs() == set()


def test_s3_facade_all_is_sorted_and_exported() -> None:
    import lambic.services.s3 as facade

    assert facade.__all__ == sorted(facade.__all__)
    for name in facade.__all__:
        assert getattr(facade, name) is not None


def test_file_blob_cache_forgets_deleted_blobs_and_stays_bounded(tmp_path: Path) -> None:
    from lambic.services.s3 import _blobs

    store = _blobs.FileBlobStore(tmp_path / "blobs")
    small = store.put(b"small")
    assert store.read(small) == b"small"
    assert store.read(small, 1, 3) == b"ma"
    store.delete(small)
    with pytest.raises(FileNotFoundError):
        store.read(small)
    ids = [store.put(bytes([n]) * _blobs.CACHE_OBJECT_BYTES) for n in range(8)]
    for blob_id in ids:
        store.read(blob_id)
    assert store._cached_bytes <= _blobs.CACHE_TOTAL_BYTES
    assert [store.read(blob_id)[:1] for blob_id in ids] == [bytes([n]) for n in range(8)]


_TWO_RULES = b"""<NotificationConfiguration>
  <CloudFunctionConfiguration><Id>images</Id>
    <CloudFunction>arn:aws:lambda:us-east-1:000000000000:function:images</CloudFunction>
    <Event>s3:ObjectCreated:*</Event>
    <Filter><S3Key><FilterRule><Name>suffix</Name><Value>.jpg</Value></FilterRule></S3Key></Filter>
  </CloudFunctionConfiguration>
  <QueueConfiguration><Id>removals</Id>
    <Queue>arn:aws:sqs:us-east-1:000000000000:audit</Queue>
    <Event>s3:ObjectRemoved:*</Event>
  </QueueConfiguration>
</NotificationConfiguration>"""


def test_listeners_get_the_rules_an_object_event_fires_already_parsed(engine: S3Engine) -> None:
    events: list[ObjectEvent] = []
    engine.add_listener(events.append)
    config = engine.put_notification("bucket", _TWO_RULES)
    engine.put_object("bucket", "cat.jpg", b"v", ObjectAttrs())
    engine.put_object("bucket", "notes.txt", b"v", ObjectAttrs())
    engine.delete_object("bucket", "cat.jpg")
    assert [[rule.id for rule in event.rules] for event in events] == [
        ["images"],
        [],
        ["removals"],
    ]
    # The very rule objects the configuration was parsed into: nothing re-read per event.
    assert events[0].rules[0] is config.rules[0]


def test_a_new_notification_configuration_applies_to_the_next_object_event(
    engine: S3Engine,
) -> None:
    events: list[ObjectEvent] = []
    engine.add_listener(events.append)
    engine.put_notification("bucket", _TWO_RULES)
    engine.put_object("bucket", "a.jpg", b"v", ObjectAttrs())
    rule = NotificationRule(
        "CloudFunctionConfiguration", "texts", "arn:aws:lambda:::function:t", ("s3:*",)
    )
    with pytest.raises(S3Error, match="not supported"):
        engine.replace_notification("bucket", NotificationConfiguration((rule,)))
    rule = NotificationRule(
        "CloudFunctionConfiguration",
        "texts",
        "arn:aws:lambda:::function:t",
        ("s3:ObjectCreated:Put",),
        suffix=".txt",
    )
    engine.replace_notification("bucket", NotificationConfiguration((rule,)))
    engine.put_object("bucket", "b.jpg", b"v", ObjectAttrs())
    engine.put_object("bucket", "c.txt", b"v", ObjectAttrs())
    assert [[r.id for r in event.rules] for event in events] == [["images"], [], ["texts"]]
    assert "texts" in (engine.store.get_notification("bucket") or "")  # GET and restarts read it


def test_a_restarted_engine_fires_the_stored_rules(tmp_path: Path) -> None:
    service = create_service(tmp_path)
    service.engine.create_bucket("bucket")
    service.engine.put_notification("bucket", _TWO_RULES)
    service.close()
    service = create_service(tmp_path)
    events: list[ObjectEvent] = []
    service.engine.add_listener(events.append)
    service.engine.put_object("bucket", "dog.jpg", b"v", ObjectAttrs())
    assert [rule.id for rule in events[0].rules] == ["images"]
    service.close()


def test_a_deleted_and_recreated_bucket_fires_no_old_rules(engine: S3Engine) -> None:
    events: list[ObjectEvent] = []
    engine.add_listener(events.append)
    engine.put_notification("bucket", _TWO_RULES)
    engine.delete_bucket("bucket")
    engine.create_bucket("bucket")
    engine.put_object("bucket", "cat.jpg", b"v", ObjectAttrs())
    assert events[-1].rules == ()


def test_a_policy_stored_in_the_old_buckets_column_moves_to_the_bucket_settings(
    tmp_path: Path,
) -> None:
    # A state directory written before policies became bucket settings kept them in
    # `buckets.policy`: opening it moves them over, and they still open the bucket.
    text = (
        '{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",'
        ' "Resource": "arn:aws:s3:::site/*"}]}'
    )
    conn = sqlite3.connect(tmp_path / "s3.sqlite3")
    conn.execute(
        "CREATE TABLE buckets (name TEXT PRIMARY KEY, region TEXT NOT NULL, "
        "created REAL NOT NULL, notification TEXT, cors TEXT, policy TEXT) WITHOUT ROWID"
    )
    conn.execute("INSERT INTO buckets VALUES ('site', 'us-east-1', 0, NULL, NULL, ?)", (text,))
    conn.execute("INSERT INTO buckets VALUES ('closed', 'us-east-1', 0, NULL, NULL, NULL)")
    conn.commit()
    conn.close()

    service = create_service(tmp_path)
    try:
        engine = service.engine
        assert engine.setting("site", "policy") == text
        assert engine.setting("closed", "policy") is None
        assert engine.allows_anonymous("site", "s3:GetObject", "index.html")
        assert not engine.allows_anonymous("closed", "s3:GetObject", "index.html")
        columns = {row[1] for row in engine.store.conn.execute("PRAGMA table_info(buckets)")}
        assert "policy" not in columns
    finally:
        service.close()


def test_stored_bytes_count_noncurrent_versions_but_not_delete_markers(tmp_path: Path) -> None:
    service = create_service(tmp_path)
    try:
        engine = service.engine
        engine.create_bucket("photos")
        engine.put_versioning("photos", "Enabled")
        engine.put_object("photos", "a.jpg", b"x" * 100, ObjectAttrs())
        engine.put_object("photos", "a.jpg", b"y" * 10, ObjectAttrs())
        engine.delete_object("photos", "a.jpg")  # a delete marker: no bytes
        engine.put_object("photos", "b.jpg", b"z" * 1, ObjectAttrs())
        # AWS bills every version's bytes as stored.
        assert stored_bytes(tmp_path / "s3.sqlite3") == {("s3", "photos"): 111}
    finally:
        service.close()
