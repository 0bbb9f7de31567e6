"""DynamoDB request and response compression through the edge."""

from __future__ import annotations

import gzip
import http.client
import json
import uuid
import zlib
from typing import Any
from urllib.parse import urlsplit

import pytest

from lambic.services.server import EdgeServer
from tests._support.clients import aws_client


@pytest.fixture(scope="module")
def table(dynamodb_edge: EdgeServer) -> str:
    name = "z-" + uuid.uuid4().hex[:10]
    aws_client("dynamodb", dynamodb_edge.url).create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def _post(
    dynamodb_edge: EdgeServer, operation: str, body: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(dynamodb_edge.url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        connection.request(
            "POST",
            "/",
            body=body,
            headers={
                "X-Amz-Target": f"DynamoDB_20120810.{operation}",
                "Content-Type": "application/x-amz-json-1.0",
                **headers,
            },
        )
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def _put_body(table: str, pk: str, value: str) -> bytes:
    item = {"pk": {"S": pk}, "v": {"S": value}}
    return json.dumps({"TableName": table, "Item": item}).encode()


def _get(dynamodb_edge: EdgeServer, table: str, pk: str) -> Any:
    return (
        aws_client("dynamodb", dynamodb_edge.url)
        .get_item(TableName=table, Key={"pk": {"S": pk}})
        .get("Item")
    )


@pytest.mark.parametrize(
    ("encoding", "pack"), [("gzip", gzip.compress), ("deflate", zlib.compress)]
)
def test_compressed_requests_are_decoded(
    dynamodb_edge: EdgeServer, table: str, encoding: str, pack: Any
) -> None:
    pk = uuid.uuid4().hex
    status, _, _ = _post(
        dynamodb_edge, "PutItem", pack(_put_body(table, pk, "v")), {"Content-Encoding": encoding}
    )
    assert status == 200
    assert _get(dynamodb_edge, table, pk) == {"pk": {"S": pk}, "v": {"S": "v"}}


@pytest.mark.parametrize(
    ("encoding", "mangle"),
    [
        ("garbage", lambda body: body),
        ("gzip", lambda body: body),
        ("gzip", lambda body: gzip.compress(body)[:-1]),
        ("deflate", lambda body: body),
    ],
)
def test_undecodable_requests_fail_with_500_and_change_nothing(
    dynamodb_edge: EdgeServer, table: str, encoding: str, mangle: Any
) -> None:
    pk = uuid.uuid4().hex
    status, _, body = _post(
        dynamodb_edge, "PutItem", mangle(_put_body(table, pk, "v")), {"Content-Encoding": encoding}
    )
    assert status == 500
    assert json.loads(body)["__type"].endswith("#InternalServerError")
    assert _get(dynamodb_edge, table, pk) is None


def test_botocore_request_compression_round_trips(dynamodb_edge: EdgeServer, table: str) -> None:
    client = aws_client("dynamodb", dynamodb_edge.url, request_min_compression_size_bytes=1)
    # botocore compresses only operations its model marks; mark PutItem as AWS may.
    client.meta.service_model._service_description["operations"]["PutItem"][
        "requestcompression"
    ] = {"encodings": ["gzip"]}
    pk = uuid.uuid4().hex
    client.put_item(TableName=table, Item={"pk": {"S": pk}, "v": {"S": "x" * 10_000}})
    assert _get(dynamodb_edge, table, pk) == {"pk": {"S": pk}, "v": {"S": "x" * 10_000}}


@pytest.mark.parametrize(
    ("accept", "expected", "unpack"),
    [("gzip, deflate", "gzip", gzip.decompress), ("deflate", "deflate", zlib.decompress)],
)
def test_large_responses_are_compressed_when_asked(
    dynamodb_edge: EdgeServer, table: str, accept: str, expected: str, unpack: Any
) -> None:
    pk = uuid.uuid4().hex
    aws_client("dynamodb", dynamodb_edge.url).put_item(
        TableName=table, Item={"pk": {"S": pk}, "v": {"S": "x" * 5000}}
    )
    get = json.dumps({"TableName": table, "Key": {"pk": {"S": pk}}}).encode()
    status, headers, body = _post(dynamodb_edge, "GetItem", get, {"Accept-Encoding": accept})
    assert status == 200
    assert headers["content-encoding"] == expected
    assert headers["x-amz-crc32"] == str(zlib.crc32(body))  # of the bytes sent
    assert int(headers["content-length"]) == len(body) < 1000
    assert json.loads(unpack(body))["Item"]["v"] == {"S": "x" * 5000}


def test_small_or_unasked_responses_are_not_compressed(
    dynamodb_edge: EdgeServer, table: str
) -> None:
    pk = uuid.uuid4().hex
    aws_client("dynamodb", dynamodb_edge.url).put_item(
        TableName=table, Item={"pk": {"S": pk}, "v": {"S": "x" * 5000}}
    )
    get = json.dumps({"TableName": table, "Key": {"pk": {"S": pk}}}).encode()
    for accept in ("identity", "br", "gzip;q=0"):
        _, headers, body = _post(dynamodb_edge, "GetItem", get, {"Accept-Encoding": accept})
        assert "content-encoding" not in headers
        assert json.loads(body)["Item"]["pk"] == {"S": pk}
    small = json.dumps({"TableName": table, "Key": {"pk": {"S": "absent"}}}).encode()
    _, headers, _ = _post(dynamodb_edge, "GetItem", small, {"Accept-Encoding": "gzip"})
    assert "content-encoding" not in headers
