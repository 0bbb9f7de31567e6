"""S3 versioning over a real edge port with unchanged boto3: version ids, delete markers,
null versions, ListObjectVersions, versioned reads, deletes, copies and multipart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambic.services.s3 import create_service


@pytest.fixture
def s3(start_edge: Any, make_client: Any) -> Iterator[Any]:
    edge = start_edge({"s3": create_service(None)})
    client = make_client("s3", edge.url)
    client.create_bucket(Bucket="docs")
    yield client
    client.close()


def _enable(s3: Any, status: str = "Enabled") -> None:
    s3.put_bucket_versioning(Bucket="docs", VersioningConfiguration={"Status": status})


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = exc.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_versioning_status_is_unset_then_enabled_then_suspended(s3: Any) -> None:
    assert "Status" not in s3.get_bucket_versioning(Bucket="docs")
    _enable(s3)
    assert s3.get_bucket_versioning(Bucket="docs")["Status"] == "Enabled"
    _enable(s3, "Suspended")
    assert s3.get_bucket_versioning(Bucket="docs")["Status"] == "Suspended"
    with pytest.raises(ClientError) as exc:
        _enable(s3, "Sometimes")
    assert _error(exc) == ("MalformedXML", 400)


def test_each_put_is_a_version_readable_by_its_id(s3: Any) -> None:
    _enable(s3)
    first = s3.put_object(Bucket="docs", Key="a.txt", Body=b"one")["VersionId"]
    second = s3.put_object(Bucket="docs", Key="a.txt", Body=b"two")["VersionId"]
    assert first != second and len(first) == 32
    assert s3.get_object(Bucket="docs", Key="a.txt")["Body"].read() == b"two"
    old = s3.get_object(Bucket="docs", Key="a.txt", VersionId=first)
    assert (old["Body"].read(), old["VersionId"]) == (b"one", first)
    assert s3.head_object(Bucket="docs", Key="a.txt", VersionId=first)["ContentLength"] == 3
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="docs", Key="a.txt", VersionId="A" * 32)
    assert _error(exc) == ("NoSuchVersion", 404)


def test_delete_adds_a_marker_that_hides_the_key_until_removed(s3: Any) -> None:
    _enable(s3)
    v1 = s3.put_object(Bucket="docs", Key="a.txt", Body=b"one")["VersionId"]
    deleted = s3.delete_object(Bucket="docs", Key="a.txt")
    assert deleted["DeleteMarker"] is True
    marker = deleted["VersionId"]
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="docs", Key="a.txt")
    assert _error(exc) == ("NoSuchKey", 404)
    headers = exc.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amz-delete-marker"] == "true"
    assert headers["x-amz-version-id"] == marker
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket="docs", Key="a.txt", VersionId=marker)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 405
    assert s3.list_objects_v2(Bucket="docs")["KeyCount"] == 0
    # The old version is still there, and removing the marker brings it back.
    assert s3.get_object(Bucket="docs", Key="a.txt", VersionId=v1)["Body"].read() == b"one"
    gone = s3.delete_object(Bucket="docs", Key="a.txt", VersionId=marker)
    assert (gone["DeleteMarker"], gone["VersionId"]) == (True, marker)
    assert s3.get_object(Bucket="docs", Key="a.txt")["Body"].read() == b"one"


def test_deleting_the_current_version_promotes_the_previous_one(s3: Any) -> None:
    _enable(s3)
    v1 = s3.put_object(Bucket="docs", Key="a.txt", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket="docs", Key="a.txt", Body=b"two")["VersionId"]
    s3.delete_object(Bucket="docs", Key="a.txt", VersionId=v2)
    current = s3.get_object(Bucket="docs", Key="a.txt")
    assert (current["Body"].read(), current["VersionId"]) == (b"one", v1)
    s3.delete_object(Bucket="docs", Key="a.txt", VersionId=v1)
    assert s3.list_object_versions(Bucket="docs").get("Versions") is None
    s3.delete_bucket(Bucket="docs")  # no versions left: the bucket is empty


def test_a_bucket_with_only_noncurrent_versions_is_not_empty(s3: Any) -> None:
    _enable(s3)
    s3.put_object(Bucket="docs", Key="a.txt", Body=b"one")
    s3.delete_object(Bucket="docs", Key="a.txt")
    with pytest.raises(ClientError) as exc:
        s3.delete_bucket(Bucket="docs")
    assert _error(exc) == ("BucketNotEmpty", 409)


def test_objects_from_before_versioning_are_the_null_version(s3: Any) -> None:
    s3.put_object(Bucket="docs", Key="a.txt", Body=b"old")
    _enable(s3)
    new = s3.put_object(Bucket="docs", Key="a.txt", Body=b"new")["VersionId"]
    versions = s3.list_object_versions(Bucket="docs")["Versions"]
    assert [(v["VersionId"], v["IsLatest"]) for v in versions] == [(new, True), ("null", False)]
    null = s3.get_object(Bucket="docs", Key="a.txt", VersionId="null")
    assert null["Body"].read() == b"old"


def test_suspended_writes_replace_the_null_version_and_keep_the_others(s3: Any) -> None:
    _enable(s3)
    kept = s3.put_object(Bucket="docs", Key="a.txt", Body=b"v1")["VersionId"]
    _enable(s3, "Suspended")
    s3.put_object(Bucket="docs", Key="a.txt", Body=b"n1")
    s3.put_object(Bucket="docs", Key="a.txt", Body=b"n2")
    versions = s3.list_object_versions(Bucket="docs")["Versions"]
    assert [v["VersionId"] for v in versions] == ["null", kept]
    assert s3.get_object(Bucket="docs", Key="a.txt")["Body"].read() == b"n2"
    marker = s3.delete_object(Bucket="docs", Key="a.txt")
    assert (marker["DeleteMarker"], marker["VersionId"]) == (True, "null")
    listed = s3.list_object_versions(Bucket="docs")
    assert [v["VersionId"] for v in listed["Versions"]] == [kept]
    assert [(m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]] == [("null", True)]


def test_list_object_versions_pages_with_key_and_version_markers(s3: Any) -> None:
    _enable(s3)
    ids: dict[str, list[str]] = {}
    for key in ("a", "b", "dir/c", "dir/d"):
        for body in (b"1", b"2"):
            put = s3.put_object(Bucket="docs", Key=key, Body=body)
            ids.setdefault(key, []).insert(0, put["VersionId"])
    seen: list[tuple[str, str]] = []
    kwargs: dict[str, Any] = {"Bucket": "docs", "MaxKeys": 3}
    while True:
        page = s3.list_object_versions(**kwargs)
        seen += [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
        if not page["IsTruncated"]:
            break
        kwargs.update(KeyMarker=page["NextKeyMarker"], VersionIdMarker=page["NextVersionIdMarker"])
    assert seen == [(key, vid) for key in ("a", "b", "dir/c", "dir/d") for vid in ids[key]]
    folded = s3.list_object_versions(Bucket="docs", Delimiter="/")
    assert [p["Prefix"] for p in folded["CommonPrefixes"]] == ["dir/"]
    assert [v["Key"] for v in folded["Versions"]] == ["a", "a", "b", "b"]
    under = s3.list_object_versions(Bucket="docs", Prefix="dir/", KeyMarker="dir/c")
    assert [(v["Key"], v["IsLatest"]) for v in under["Versions"]] == [
        ("dir/d", True),
        ("dir/d", False),
    ]
    s3.put_object(Bucket="docs", Key="zz", Body=b"z")
    first = s3.list_object_versions(Bucket="docs", Delimiter="/", MaxKeys=5)
    assert first["IsTruncated"] and first["NextKeyMarker"] == "dir/"
    rest = s3.list_object_versions(Bucket="docs", Delimiter="/", KeyMarker="dir/")
    assert "CommonPrefixes" not in rest
    assert [v["Key"] for v in rest["Versions"]] == ["zz"]


def test_copy_from_an_old_version_and_multipart_get_version_ids(s3: Any) -> None:
    _enable(s3)
    v1 = s3.put_object(Bucket="docs", Key="a.txt", Body=b"one")["VersionId"]
    s3.put_object(Bucket="docs", Key="a.txt", Body=b"two")
    copied = s3.copy_object(
        Bucket="docs", Key="b.txt", CopySource={"Bucket": "docs", "Key": "a.txt", "VersionId": v1}
    )
    assert copied["CopySourceVersionId"] == v1
    assert copied["VersionId"] and copied["VersionId"] != v1
    assert s3.get_object(Bucket="docs", Key="b.txt")["Body"].read() == b"one"
    upload = s3.create_multipart_upload(Bucket="docs", Key="big")["UploadId"]
    part = s3.upload_part_copy(
        Bucket="docs",
        Key="big",
        UploadId=upload,
        PartNumber=1,
        CopySource={"Bucket": "docs", "Key": "a.txt", "VersionId": v1},
    )
    assert part["CopySourceVersionId"] == v1
    part = {"ETag": part["CopyPartResult"]["ETag"]}
    done = s3.complete_multipart_upload(
        Bucket="docs",
        Key="big",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    assert done["VersionId"] == s3.head_object(Bucket="docs", Key="big")["VersionId"]
    assert s3.get_object(Bucket="docs", Key="big")["Body"].read() == b"one"


def test_delete_objects_with_version_ids_and_markers(s3: Any) -> None:
    _enable(s3)
    v1 = s3.put_object(Bucket="docs", Key="a", Body=b"1")["VersionId"]
    s3.put_object(Bucket="docs", Key="b", Body=b"1")
    result = s3.delete_objects(
        Bucket="docs", Delete={"Objects": [{"Key": "a", "VersionId": v1}, {"Key": "b"}]}
    )
    by_key = {d["Key"]: d for d in result["Deleted"]}
    assert by_key["a"]["VersionId"] == v1 and "DeleteMarker" not in by_key["a"]
    assert by_key["b"]["DeleteMarker"] is True and by_key["b"]["DeleteMarkerVersionId"]
    assert s3.list_object_versions(Bucket="docs").get("Versions", [])[0]["Key"] == "b"


def test_tags_belong_to_one_version(s3: Any) -> None:
    _enable(s3)
    v1 = s3.put_object(Bucket="docs", Key="a", Body=b"1")["VersionId"]
    s3.put_object(Bucket="docs", Key="a", Body=b"2")
    s3.put_object_tagging(
        Bucket="docs", Key="a", VersionId=v1, Tagging={"TagSet": [{"Key": "k", "Value": "v"}]}
    )
    assert s3.get_object_tagging(Bucket="docs", Key="a", VersionId=v1)["TagSet"] == [
        {"Key": "k", "Value": "v"}
    ]
    assert s3.get_object_tagging(Bucket="docs", Key="a")["TagSet"] == []


def test_versions_survive_a_restart_of_the_store(
    tmp_path: Path, start_edge: Any, make_client: Any
) -> None:
    edge = start_edge({"s3": create_service(tmp_path)})
    s3 = make_client("s3", edge.url)
    s3.create_bucket(Bucket="docs")
    _enable(s3)
    v1 = s3.put_object(Bucket="docs", Key="a", Body=b"1")["VersionId"]
    s3.put_object(Bucket="docs", Key="a", Body=b"2")
    s3.delete_object(Bucket="docs", Key="a")
    s3.close()
    edge.stop()
    again = make_client("s3", start_edge({"s3": create_service(tmp_path)}).url)
    assert again.get_object(Bucket="docs", Key="a", VersionId=v1)["Body"].read() == b"1"
    listed = again.list_object_versions(Bucket="docs")
    assert len(listed["Versions"]) == 2 and len(listed["DeleteMarkers"]) == 1
    again.close()


def test_a_missing_key_says_it_is_not_a_delete_marker(s3: Any) -> None:
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket="docs", Key="never")
    assert exc.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "false"
