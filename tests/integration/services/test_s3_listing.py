"""Listing through boto3: v1 markers, v2 tokens, delimiters, encoding, paginators."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambic.services.s3 import create_service

KEYS = [
    "a.txt",
    "photos/2024/jan.jpg",
    "photos/2024/feb.jpg",
    "photos/2025/mar.jpg",
    "photos/cover.jpg",
    "videos/clip.mp4",
    "z key with spaces+plus.txt",
]


@pytest.fixture
def s3(start_edge: Any, make_client: Any) -> Iterator[Any]:
    edge = start_edge({"s3": create_service(None)})
    client = make_client("s3", edge.url)
    client.create_bucket(Bucket="media")
    for key in KEYS:
        client.put_object(Bucket="media", Key=key, Body=key.encode())
    yield client
    client.close()


def test_v2_lists_in_binary_key_order_with_key_count(s3: Any) -> None:
    page = s3.list_objects_v2(Bucket="media")
    assert [o["Key"] for o in page["Contents"]] == sorted(KEYS)
    assert page["KeyCount"] == len(KEYS)
    assert page["IsTruncated"] is False


def test_v2_delimiter_folds_common_prefixes_and_counts_them_as_keys(s3: Any) -> None:
    top = s3.list_objects_v2(Bucket="media", Delimiter="/")
    assert [o["Key"] for o in top["Contents"]] == ["a.txt", "z key with spaces+plus.txt"]
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["photos/", "videos/"]
    assert top["KeyCount"] == 4
    inner = s3.list_objects_v2(Bucket="media", Prefix="photos/", Delimiter="/")
    assert [o["Key"] for o in inner["Contents"]] == ["photos/cover.jpg"]
    assert [p["Prefix"] for p in inner["CommonPrefixes"]] == ["photos/2024/", "photos/2025/"]


def test_v2_pages_with_continuation_tokens_and_start_after(s3: Any) -> None:
    seen: list[str] = []
    token = None
    while True:
        kwargs: dict[str, Any] = {"Bucket": "media", "MaxKeys": 2}
        if token:
            kwargs["ContinuationToken"] = token
        page = s3.list_objects_v2(**kwargs)
        assert page["KeyCount"] <= 2
        seen.extend(o["Key"] for o in page.get("Contents", []))
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert seen == sorted(KEYS)
    after = s3.list_objects_v2(Bucket="media", StartAfter="photos/cover.jpg")
    assert [o["Key"] for o in after["Contents"]] == sorted(KEYS)[5:]
    assert after["StartAfter"] == "photos/cover.jpg"


def test_paginator_with_delimiter_never_repeats_a_common_prefix(s3: Any) -> None:
    prefixes: list[str] = []
    keys: list[str] = []
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket="media", Delimiter="/", PaginationConfig={"PageSize": 1}):
        prefixes.extend(p["Prefix"] for p in page.get("CommonPrefixes", []))
        keys.extend(o["Key"] for o in page.get("Contents", []))
    assert prefixes == ["photos/", "videos/"]
    assert keys == ["a.txt", "z key with spaces+plus.txt"]


def test_v1_marker_and_next_marker_only_with_a_delimiter(s3: Any) -> None:
    first = s3.list_objects(Bucket="media", MaxKeys=3)
    assert first["IsTruncated"] is True
    assert "NextMarker" not in first  # AWS: only when a delimiter is given
    rest = s3.list_objects(Bucket="media", Marker=first["Contents"][-1]["Key"])
    assert [o["Key"] for o in first["Contents"] + rest["Contents"]] == sorted(KEYS)
    folded = s3.list_objects(Bucket="media", Delimiter="/", MaxKeys=2)
    assert folded["NextMarker"] == "photos/"
    after = s3.list_objects(Bucket="media", Delimiter="/", Marker=folded["NextMarker"])
    assert [p["Prefix"] for p in after["CommonPrefixes"]] == ["videos/"]


def test_max_keys_zero_and_missing_bucket(s3: Any) -> None:
    empty = s3.list_objects_v2(Bucket="media", MaxKeys=0)
    assert empty["KeyCount"] == 0
    with pytest.raises(ClientError) as exc:
        s3.list_objects_v2(Bucket="absent")
    assert exc.value.response["Error"]["Code"] == "NoSuchBucket"


def test_keys_with_xml_and_url_special_characters_round_trip(s3: Any) -> None:
    odd = ["a&b<c>.txt", "percent%41.txt", "tab\tand\nnewline", "emoji-😀.txt"]
    for key in odd:
        s3.put_object(Bucket="media", Key=key, Body=b"x")
    listed = {o["Key"] for o in s3.list_objects_v2(Bucket="media")["Contents"]}
    assert set(odd) <= listed
    for key in odd:
        assert s3.get_object(Bucket="media", Key=key)["Body"].read() == b"x"


def test_list_object_versions_on_an_unversioned_bucket_lists_null_versions(s3: Any) -> None:
    page = s3.list_object_versions(Bucket="media", Prefix="photos/", MaxKeys=2)
    assert [v["Key"] for v in page["Versions"]] == ["photos/2024/feb.jpg", "photos/2024/jan.jpg"]
    assert {v["VersionId"] for v in page["Versions"]} == {"null"}
    assert page["IsTruncated"] is True
    assert page["NextKeyMarker"] == "photos/2024/jan.jpg"
    rest = s3.list_object_versions(
        Bucket="media", Prefix="photos/", KeyMarker=page["NextKeyMarker"]
    )
    assert [v["Key"] for v in rest["Versions"]] == ["photos/2025/mar.jpg", "photos/cover.jpg"]


def test_acls_report_the_owner_with_full_control_and_versioning_starts_unset(s3: Any) -> None:
    grants = s3.get_bucket_acl(Bucket="media")["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]
    assert s3.get_object_acl(Bucket="media", Key="a.txt")["Grants"][0]["Grantee"]["Type"] == (
        "CanonicalUser"
    )
    assert "Status" not in s3.get_bucket_versioning(Bucket="media")


def test_url_encoded_listings_write_a_space_as_percent_20(s3: Any) -> None:
    s3.create_bucket(Bucket="encoded")
    for key in ("foo+1/bar", "quux ab/thud", "asdf+b"):
        s3.put_object(Bucket="encoded", Key=key, Body=b"")
    # Asked for explicitly, the encoding reaches the caller as AWS wrote it.
    listed = s3.list_objects(Bucket="encoded", Delimiter="/", EncodingType="url")
    assert [p["Prefix"] for p in listed["CommonPrefixes"]] == ["foo%2B1/", "quux%20ab/"]
    assert [c["Key"] for c in listed["Contents"]] == ["asdf%2Bb"]
    # Left to botocore (which asks for it and decodes), the keys come back as stored.
    plain = s3.list_objects_v2(Bucket="encoded", Delimiter="/")
    assert [p["Prefix"] for p in plain["CommonPrefixes"]] == ["foo+1/", "quux ab/"]


def test_list_objects_v1_returns_its_prefix_as_sent(s3: Any) -> None:
    s3.put_object(Bucket="media", Key="quux", Body=b"")
    assert s3.list_objects(Bucket="media", Prefix="\n")["Prefix"] == "\n"
    assert s3.list_objects_v2(Bucket="media", Prefix="\n")["Prefix"] == "\n"
