"""Kinesis over CBOR (`application/x-amz-cbor-1.1`, the AWS SDK for Java's and the KCL's
default), by wire bytes against a real `lambic services` process.

Requests are written byte by byte from RFC 8949 (major type and length in the initial
byte), with indefinite-length maps where Jackson's CBOR generator, which the Java SDK
uses, writes them; answers are read with Lambic's codec (tests/unit/services/test_cbor.py
checks it against the RFC's Appendix A).
"""

from __future__ import annotations

import base64
import functools
import http.client
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from lambic.services._cbor import Tagged, loads
from tests._support.services_process import ServicesProcess

pytestmark = pytest.mark.slow

CBOR = "application/x-amz-cbor-1.1"
JSON = "application/x-amz-json-1.1"


def _head(major: int, length: int) -> bytes:
    """RFC 8949 §3: the initial byte (major type, additional info) and its argument."""
    if length < 24:
        return bytes([major << 5 | length])
    if length < 0x100:
        return bytes([major << 5 | 24, length])
    return bytes([major << 5 | 25]) + length.to_bytes(2, "big")


def text(value: str) -> bytes:
    raw = value.encode()
    return _head(3, len(raw)) + raw


def blob(value: bytes) -> bytes:
    return _head(2, len(value)) + value


def uint(value: int) -> bytes:
    return _head(0, value) if value < 0x10000 else b"\x1b" + value.to_bytes(8, "big")


def imap(*pairs: tuple[str, bytes]) -> bytes:
    """An indefinite-length map (0xbf ... 0xff) of text keys to encoded values."""
    return b"\xbf" + b"".join(text(key) + value for key, value in pairs) + b"\xff"


def epoch_millis(millis: int) -> bytes:
    """Tag 1 (0xc1) around an integer: AWS's CBOR timestamp, epoch milliseconds."""
    return b"\xc1" + uint(millis)


class Answer:
    def __init__(self, status: int, content_type: str, error_type: str, body: bytes) -> None:
        self.status, self.content_type, self.error_type, self.raw = (
            status,
            content_type,
            error_type,
            body,
        )

    @property
    def body(self) -> Any:
        if not self.raw:
            return {}
        return loads(self.raw) if self.content_type == CBOR else json.loads(self.raw)


@pytest.fixture(scope="module")
def services() -> Iterator[ServicesProcess]:
    process = ServicesProcess()
    try:
        yield process
    finally:
        process.stop()


def _send(port: int, operation: str, body: bytes, content_type: str = CBOR) -> Answer:
    """One POST over a fresh socket, as an SDK sends it (the target in X-Amz-Target)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"X-Amz-Target": f"Kinesis_20131202.{operation}", "Content-Type": content_type}
        connection.request("POST", "/", body=body, headers=headers)
        response = connection.getresponse()
        return Answer(
            response.status,
            response.getheader("Content-Type") or "",
            response.getheader("x-amzn-ErrorType") or "",
            response.read(),
        )
    finally:
        connection.close()


@pytest.fixture
def call(services: ServicesProcess) -> Any:
    return functools.partial(_send, services.port)


def _stream(call: Any, name: str) -> str:
    """A one-shard stream created over CBOR; its shard id."""
    created = call("CreateStream", imap(("StreamName", text(name)), ("ShardCount", uint(1))))
    assert (created.status, created.content_type, created.raw) == (200, CBOR, b"")
    shards = call("ListShards", imap(("StreamName", text(name)))).body["Shards"]
    return str(shards[0]["ShardId"])


def _iterator(call: Any, name: str, shard: str) -> bytes:
    answer = call(
        "GetShardIterator",
        imap(
            ("StreamName", text(name)),
            ("ShardId", text(shard)),
            ("ShardIteratorType", text("TRIM_HORIZON")),
        ),
    )
    assert answer.status == 200, answer.body
    return text(answer.body["ShardIterator"])


BINARY = bytes(range(256)) + b"\x00\xff"


def test_binary_data_put_and_read_back_as_cbor_byte_strings(call: Any) -> None:
    shard = _stream(call, "cbor-roundtrip")
    before = int(time.time() * 1000)
    put = call(
        "PutRecord",
        imap(
            ("StreamName", text("cbor-roundtrip")),
            ("Data", blob(BINARY)),
            ("PartitionKey", text("pk")),
        ),
    )
    assert (put.status, put.content_type) == (200, CBOR)
    assert put.body["ShardId"] == shard

    got = call("GetRecords", imap(("ShardIterator", _iterator(call, "cbor-roundtrip", shard))))
    assert (got.status, got.content_type) == (200, CBOR)
    (record,) = got.body["Records"]
    assert record["Data"] == BINARY  # a byte string, not base64 text
    assert record["PartitionKey"] == "pk"
    assert record["SequenceNumber"] == put.body["SequenceNumber"]
    arrival = record["ApproximateArrivalTimestamp"]
    assert isinstance(arrival, Tagged) and arrival.tag == 1 and isinstance(arrival.value, int)
    assert before - 1000 <= arrival.value <= int(time.time() * 1000) + 1000  # milliseconds
    assert isinstance(got.body["NextShardIterator"], str)


def test_json_and_cbor_clients_share_records(call: Any) -> None:
    shard = _stream(call, "cbor-mixed")
    as_json = json.dumps(
        {
            "StreamName": "cbor-mixed",
            "Data": base64.b64encode(b"\x01json").decode(),
            "PartitionKey": "k",
        }
    ).encode()
    assert call("PutRecord", as_json, JSON).status == 200
    records = call(
        "PutRecords",
        imap(
            ("StreamName", text("cbor-mixed")),
            (
                "Records",
                b"\x9f" + imap(("Data", blob(b"\x02cbor")), ("PartitionKey", text("k"))) + b"\xff",
            ),
        ),
    )
    assert records.status == 200 and records.body["FailedRecordCount"] == 0

    read_cbor = call("GetRecords", imap(("ShardIterator", _iterator(call, "cbor-mixed", shard))))
    assert [r["Data"] for r in read_cbor.body["Records"]] == [b"\x01json", b"\x02cbor"]
    json_iterator = call(
        "GetShardIterator",
        json.dumps(
            {"StreamName": "cbor-mixed", "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}
        ).encode(),
        JSON,
    ).body["ShardIterator"]
    read_json = call("GetRecords", json.dumps({"ShardIterator": json_iterator}).encode(), JSON)
    assert read_json.content_type == JSON
    assert [r["Data"] for r in read_json.body["Records"]] == [
        base64.b64encode(b"\x01json").decode(),
        base64.b64encode(b"\x02cbor").decode(),
    ]
    assert all(
        isinstance(r["ApproximateArrivalTimestamp"], float) for r in read_json.body["Records"]
    )


def test_stream_creation_timestamp_is_tagged_epoch_millis(call: Any) -> None:
    before = time.time()
    _stream(call, "cbor-summary")
    answer = call("DescribeStreamSummary", imap(("StreamName", text("cbor-summary"))))
    created = answer.body["StreamDescriptionSummary"]["StreamCreationTimestamp"]
    assert isinstance(created, Tagged) and created.tag == 1
    assert before - 1 <= created.value / 1000 <= time.time() + 1


def test_a_request_timestamp_is_read_as_tagged_epoch_millis(call: Any) -> None:
    shard = _stream(call, "cbor-at")
    call(
        "PutRecord",
        imap(("StreamName", text("cbor-at")), ("Data", blob(b"x")), ("PartitionKey", text("k"))),
    )

    def at(millis: int) -> Answer:
        return call(
            "GetShardIterator",
            imap(
                ("StreamName", text("cbor-at")),
                ("ShardId", text(shard)),
                ("ShardIteratorType", text("AT_TIMESTAMP")),
                ("Timestamp", epoch_millis(millis)),
            ),
        )

    past = at(int((time.time() - 3600) * 1000))
    got = call("GetRecords", imap(("ShardIterator", text(past.body["ShardIterator"]))))
    assert [r["Data"] for r in got.body["Records"]] == [b"x"]
    # 2100-01-01 in milliseconds: refused with the very value sent, so it was read as ms.
    future = at(4102444800000)
    assert (future.status, future.body["__type"]) == (400, "InvalidArgumentException")
    assert "timestampInMillis: 4102444800000," in future.body["message"]


def test_an_error_is_answered_in_cbor(call: Any) -> None:
    answer = call("DescribeStreamSummary", imap(("StreamName", text("cbor-missing"))))
    assert (answer.status, answer.content_type) == (400, CBOR)
    assert answer.error_type == "ResourceNotFoundException"
    assert answer.body == {
        "__type": "ResourceNotFoundException",
        "message": "Stream cbor-missing under account 000000000000 not found.",
    }
    unknown = call("NoSuchOperation", imap())
    assert (unknown.status, unknown.content_type) == (400, CBOR)
    assert unknown.body["__type"] == "UnknownOperationException"


def test_cbor_and_json_requests_get_the_same_checks(call: Any) -> None:
    wrong_type_cbor = call("CreateStream", imap(("StreamName", b"\xf5")))  # true
    wrong_type_json = call("CreateStream", b'{"StreamName": true}', JSON)
    assert wrong_type_cbor.status == wrong_type_json.status == 400
    assert wrong_type_cbor.body == wrong_type_json.body
    bad_name_cbor = call(
        "CreateStream", imap(("StreamName", text("bad name!")), ("ShardCount", uint(1)))
    )
    bad_name_json = call("CreateStream", b'{"StreamName": "bad name!", "ShardCount": 1}', JSON)
    assert bad_name_cbor.body == bad_name_json.body
    assert bad_name_cbor.body["__type"] == "ValidationException"


@pytest.fixture(scope="module")
def bad_stream_shard(services: ServicesProcess) -> str:
    """The shard of the stream the malformed requests aim at (created once)."""
    body = imap(("StreamName", text("cbor-bad")), ("ShardCount", uint(1)))
    assert _send(services.port, "CreateStream", body).status == 200
    return "shardId-000000000000"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            b"\xbf" + text("StreamName") + text("cbor-bad"), id="indefinite-map-without-break"
        ),
        pytest.param(b"\xa1" + text("StreamName"), id="map-missing-its-value"),
        pytest.param(
            b"\xa1" + text("Data") + b"\x5a\xff\xff\xff\xff", id="byte-string-longer-than-body"
        ),
        pytest.param(b"\xa0\x00", id="trailing-bytes"),
        pytest.param(b"\x1c", id="reserved-additional-information"),
        pytest.param(b"\x83\x01\x02\x03", id="array-not-map"),
        pytest.param(b"\xa1" + text("StreamName") + b"\x62\xc3\x28", id="invalid-utf8"),
        pytest.param(
            imap(
                ("StreamName", text("cbor-bad")),
                ("PartitionKey", text("k")),
                ("Data", b"\xc2" + blob(b"x")),  # tag 2 (bignum) around the blob
            ),
            id="stray-tag",
        ),
        pytest.param(
            imap(
                ("StreamName", text("cbor-bad")),
                ("PartitionKey", blob(b"k")),
                ("Data", blob(b"x")),
            ),
            id="bytes-for-a-string",
        ),
    ],
)
def test_malformed_cbor_is_refused_and_nothing_is_stored(
    call: Any, bad_stream_shard: str, body: bytes
) -> None:
    shard = bad_stream_shard
    answer = call("PutRecord", body)
    assert (answer.status, answer.content_type) == (400, CBOR)
    assert answer.error_type == answer.body["__type"] == "SerializationException"
    assert answer.body["Message"]
    got = call("GetRecords", imap(("ShardIterator", _iterator(call, "cbor-bad", shard))))
    assert got.status == 200 and got.body["Records"] == []
