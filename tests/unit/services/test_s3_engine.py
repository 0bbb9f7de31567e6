from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from lambic.services.s3 import S3Error, create_service
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
