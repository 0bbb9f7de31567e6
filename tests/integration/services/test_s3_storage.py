"""S3 state on disk: blob names, persistence across restarts, concurrency, listeners."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from lambic.services.s3 import ObjectEvent, create_service


def _blob_files(state: Path) -> list[Path]:
    return [p for p in (state / "s3-blobs").rglob("*") if p.is_file()]


def test_hostile_keys_never_name_files_outside_the_blob_directory(
    tmp_path: Path, start_edge: Any, make_client: Any
) -> None:
    state = tmp_path / "state"
    edge = start_edge({"s3": create_service(state)})
    s3 = make_client("s3", edge.url)
    s3.create_bucket(Bucket="evil")
    hostile = ["../../escape.txt", "/etc/passwd", "..", "a/../../b", "nul\x00byte", "%2e%2e/x"]
    for key in hostile:
        s3.put_object(Bucket="evil", Key=key, Body=key.encode())
    for key in hostile:
        assert s3.get_object(Bucket="evil", Key=key)["Body"].read() == key.encode()
    everything = {p.resolve() for p in tmp_path.rglob("*") if p.is_file()}
    blob_root = (state / "s3-blobs").resolve()
    for path in everything:
        assert path.parent.parent == blob_root or path.parent == state.resolve(), path
    assert len(_blob_files(state)) == len(hostile)
    assert not (tmp_path / "escape.txt").exists()
    s3.close()


def test_objects_survive_a_restart_and_replaced_blobs_are_removed(
    tmp_path: Path, start_edge: Any, make_client: Any
) -> None:
    state = tmp_path / "state"
    first = create_service(state)
    edge = start_edge({"s3": first})
    s3 = make_client("s3", edge.url)
    s3.create_bucket(Bucket="keep")
    s3.put_object(Bucket="keep", Key="k", Body=b"v1", Metadata={"a": "1"})
    s3.put_object(Bucket="keep", Key="k", Body=b"v2", Metadata={"a": "2"})
    s3.put_object(Bucket="keep", Key="gone", Body=b"x")
    s3.delete_object(Bucket="keep", Key="gone")
    # Replaced bytes are unlinked just after each response is written; any later
    # request is answered after that.
    s3.head_bucket(Bucket="keep")
    assert len(_blob_files(state)) == 1  # v1 and the deleted object's bytes are gone
    s3.close()
    edge.stop()
    again = start_edge({"s3": create_service(state)})
    s3 = make_client("s3", again.url)
    got = s3.get_object(Bucket="keep", Key="k")
    assert (got["Body"].read(), got["Metadata"]) == (b"v2", {"a": "2"})
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["keep"]
    s3.close()


def test_concurrent_clients_on_the_same_keys_always_read_a_complete_version(
    tmp_path: Path, start_edge: Any, make_client: Any
) -> None:
    edge = start_edge({"s3": create_service(tmp_path / "state")})
    setup = make_client("s3", edge.url)
    setup.create_bucket(Bucket="busy")
    versions = {bytes([n]) * 4096 for n in range(8)}
    for n in range(4):
        setup.put_object(Bucket="busy", Key=f"k{n}", Body=bytes([0]) * 4096)
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        client = make_client("s3", edge.url)
        try:
            for i in range(40):
                key = f"k{(seed + i) % 4}"
                if i % 2:
                    client.put_object(Bucket="busy", Key=key, Body=bytes([(seed + i) % 8]) * 4096)
                else:
                    body = client.get_object(Bucket="busy", Key=key)["Body"].read()
                    assert body in versions
        except BaseException as exc:  # collected and re-raised on the test thread
            errors.append(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors[0]
    assert len(setup.list_objects_v2(Bucket="busy")["Contents"]) == 4
    assert len(_blob_files(tmp_path / "state")) == 4  # every replaced blob was removed
    setup.close()


def test_listeners_hear_committed_creates_copies_and_deletes(
    start_edge: Any, make_client: Any
) -> None:
    service = create_service(None)
    events: list[ObjectEvent] = []
    service.engine.add_listener(events.append)
    edge = start_edge({"s3": service})
    s3 = make_client("s3", edge.url)
    s3.create_bucket(Bucket="watched")
    put = s3.put_object(Bucket="watched", Key="a.txt", Body=b"hello")
    s3.copy_object(Bucket="watched", Key="b.txt", CopySource="watched/a.txt")
    s3.delete_object(Bucket="watched", Key="a.txt")
    s3.delete_object(Bucket="watched", Key="never-existed")
    assert [(e.event_name, e.key) for e in events] == [
        ("ObjectCreated:Put", "a.txt"),
        ("ObjectCreated:Copy", "b.txt"),
        ("ObjectRemoved:Delete", "a.txt"),
    ]
    created = events[0]
    assert (created.bucket, created.size, created.etag) == ("watched", 5, put["ETag"].strip('"'))
    assert created.request_id == put["ResponseMetadata"]["RequestId"]
    assert created.source_ip == "127.0.0.1"
    assert events[0].sequencer < events[1].sequencer < events[2].sequencer
    s3.close()


def test_multipart_completion_is_announced_on_the_edge_thread(
    start_edge: Any, make_client: Any
) -> None:
    service = create_service(None)
    seen: list[tuple[str, str]] = []
    service.engine.add_listener(
        lambda event: seen.append((event.event_name, threading.current_thread().name))
    )
    edge = start_edge({"s3": service})
    s3 = make_client("s3", edge.url)
    s3.create_bucket(Bucket="mparts")
    upload_id = s3.create_multipart_upload(Bucket="mparts", Key="k")["UploadId"]
    etag = s3.upload_part(Bucket="mparts", Key="k", UploadId=upload_id, PartNumber=1, Body=b"x")[
        "ETag"
    ]
    s3.complete_multipart_upload(
        Bucket="mparts",
        Key="k",
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
    )
    # Listeners may schedule work on the edge's loop; they are never called elsewhere.
    assert seen == [("ObjectCreated:CompleteMultipartUpload", "lambic-edge")]
    s3.close()
