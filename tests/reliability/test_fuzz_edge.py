"""Issue 18: a bounded fuzz run of the services' edge: zero 5xx and zero hangs.

Real boto3 calls over every protocol the edge speaks (S3 REST-XML, DynamoDB and SQS
JSON, SQS and SNS query, EventBridge JSON) are captured once as the requests botocore
sends; then, from a fixed seed, each is mutated (bytes of the body flipped, cut or
repeated, a lying Content-Length, path and header damage, deep nesting, JSON values of
the wrong type), re-signed with SigV4 most of the time so the mutation reaches the
service behind the signature check, and sent on loopback. Every answer must come (or
the connection close) within a bound, and none may be a 5xx. 501 NotImplemented is
AWS's own answer for sub-resources and services the edge does not serve, not a fault.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from reliability_wire import CREDENTIALS, client, make_edge, status_of

from lambic._http_limits import SERVICES_LIMITS
from lambic.services.server import EdgeServer

pytestmark = pytest.mark.slow

SEED = 18
BUDGET_S = 40.0
MAX_REQUESTS = 4000
ANSWER_BOUND_S = 5.0
# Short read timeouts: a lying Content-Length is closed quickly and the run goes on.
LIMITS = replace(SERVICES_LIMITS, header_timeout=0.3, body_idle_timeout=0.3)


@dataclass
class Captured:
    service: str
    method: str
    path: str  # with the query
    headers: dict[str, str]
    body: bytes


@pytest.fixture
def fuzz_edge(tmp_path: Path) -> Iterator[EdgeServer]:
    server = make_edge(tmp_path / "state", LIMITS)
    yield server
    server.stop()


def _capture(edge: EdgeServer) -> list[Captured]:
    """Run one scenario per protocol and keep every request botocore sent."""
    captured: list[Captured] = []

    def recorder(service: str) -> Any:
        def record(request: Any, **_: Any) -> None:
            url = urlsplit(request.url)
            path = url.path + (f"?{url.query}" if url.query else "")
            body = request.body
            if hasattr(body, "read"):
                position = body.tell()
                body = body.read()
                request.body.seek(position)
            headers = {
                k: (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()
            }
            if isinstance(body, str):
                body = body.encode()
            captured.append(Captured(service, request.method, path, headers, bytes(body or b"")))

        return record

    clients = {name: client(name, edge.url) for name in ("s3", "dynamodb", "sqs", "sns", "events")}
    for name, boto in clients.items():
        boto.meta.events.register("before-send", recorder(name))
    s3, ddb, sqs, sns, events = (clients[n] for n in ("s3", "dynamodb", "sqs", "sns", "events"))
    s3.create_bucket(Bucket="fuzz")
    s3.put_object(Bucket="fuzz", Key="a/b.txt", Body=b"hello" * 100, Metadata={"k": "v"})
    s3.get_object(Bucket="fuzz", Key="a/b.txt", Range="bytes=0-9")
    s3.list_objects_v2(Bucket="fuzz", Prefix="a/")
    s3.delete_objects(Bucket="fuzz", Delete={"Objects": [{"Key": "x"}]})
    upload = s3.create_multipart_upload(Bucket="fuzz", Key="m")["UploadId"]
    part = s3.upload_part(Bucket="fuzz", Key="m", UploadId=upload, PartNumber=1, Body=b"p" * 10)
    s3.complete_multipart_upload(
        Bucket="fuzz",
        Key="m",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    s3.put_object_tagging(Bucket="fuzz", Key="m", Tagging={"TagSet": [{"Key": "t", "Value": "v"}]})
    ddb.create_table(
        TableName="fuzz",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName="fuzz", Item={"k": {"S": "1"}, "m": {"M": {"l": {"L": [{"N": "1"}]}}}})
    ddb.query(
        TableName="fuzz",
        KeyConditionExpression="k = :k",
        ExpressionAttributeValues={":k": {"S": "1"}},
    )
    ddb.update_item(
        TableName="fuzz",
        Key={"k": {"S": "1"}},
        UpdateExpression="SET n = if_not_exists(n, :z) + :one",
        ExpressionAttributeValues={":z": {"N": "0"}, ":one": {"N": "1"}},
    )
    queue = sqs.create_queue(QueueName="fuzz")["QueueUrl"]
    sqs.send_message(
        QueueUrl=queue,
        MessageBody="hi",
        MessageAttributes={"a": {"DataType": "String", "StringValue": "v"}},
    )
    sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1, WaitTimeSeconds=0)
    topic = sns.create_topic(Name="fuzz")["TopicArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint="arn:aws:sqs:us-east-1:000000000000:fuzz",
        Attributes={"FilterPolicy": json.dumps({"a": ["v"]})},
    )
    sns.publish(
        TopicArn=topic,
        Message="m",
        MessageAttributes={"a": {"DataType": "String", "StringValue": "v"}},
    )
    events.put_events(
        Entries=[{"Source": "s", "DetailType": "d", "Detail": json.dumps({"x": [1]})}]
    )
    return captured


# -- mutations -------------------------------------------------------------------------


def _flip(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return bytes([rng.randrange(256)])
    raw = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        raw[rng.randrange(len(raw))] = rng.randrange(256)
    return bytes(raw)


def _cut(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def _splice(rng: random.Random, data: bytes) -> bytes:
    cut = rng.randrange(len(data) + 1)
    junk = rng.choice([b"\x00", b"\xff\xfe", b"%FF", b"{", b"[", b"<", b"&", b"]]>", b"\\u0000"])
    return data[:cut] + junk * rng.randint(1, 50) + data[cut:]


def _deepen(rng: random.Random, data: bytes) -> bytes:
    depth = rng.choice([100, 1000, 20_000])
    if data.startswith(b"{"):
        return b'{"Nested":' + b"[" * depth + b"]" * depth + b"," + data[1:]
    if data.startswith(b"<"):
        return data + b"<a>" * depth + b"</a>" * depth
    return data + b"&x=" + b"%5B" * depth


def _retype(rng: random.Random, data: bytes) -> bytes:
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        return _flip(rng, data)
    if not isinstance(document, dict) or not document:
        return data
    key = rng.choice(sorted(document))
    document[key] = rng.choice([None, 1, -1, 1e308, "x" * 1000, [], {}, [[[]]], True, "\ud800"])
    return json.dumps(document).encode()


BODY_MUTATIONS = (_flip, _cut, _splice, _deepen, _retype)


def _mutate(rng: random.Random, base: Captured) -> tuple[Captured, bool, int | None]:
    """A mutated copy, whether to re-sign it, and a Content-Length to claim instead."""
    request = Captured(base.service, base.method, base.path, dict(base.headers), base.body)
    for _ in range(rng.randint(1, 3)):
        kind = rng.random()
        if kind < 0.45:
            request.body = rng.choice(BODY_MUTATIONS)(rng, request.body)
        elif kind < 0.6:
            path, _, query = request.path.partition("?")
            path = _splice(rng, path.encode()).decode("latin-1").replace(" ", "%20")
            query = (
                _flip(rng, query.encode()).decode("latin-1")
                if query and rng.random() < 0.5
                else query
            )
            printable = "".join(
                c if 33 <= ord(c) < 127 else f"%{ord(c):02X}"
                for c in path + ("?" + query if query else "")
            )
            request.path = printable if printable.startswith("/") else "/" + printable
        elif kind < 0.75 and request.headers:
            name = rng.choice(sorted(request.headers))
            if rng.random() < 0.5:
                del request.headers[name]
            else:
                value = _flip(rng, request.headers[name].encode()).decode("latin-1")
                request.headers[name] = "".join(c if 32 <= ord(c) < 127 else "x" for c in value)
        elif kind < 0.85:
            request.method = rng.choice(
                ["GET", "PUT", "POST", "DELETE", "HEAD", "PATCH", "OPTIONS"]
            )
        else:
            request.headers["X-Amz-Target"] = rng.choice(
                [
                    "DynamoDB_20120810.DeleteTable",
                    "AmazonSQS.PurgeQueue",
                    "AWSEvents.PutRule",
                    "Nope.X",
                    "",
                ]
            )
    claimed = None
    if rng.random() < 0.1:
        claimed = max(0, len(request.body) + rng.choice([-5, -1, 1, 7, 1000]))
    return request, rng.random() < 0.85, claimed


def _wire(edge: EdgeServer, request: Captured, sign: bool, claimed: int | None) -> bytes:
    headers = {
        k: v
        for k, v in request.headers.items()
        if k.lower() not in ("content-length", "transfer-encoding")
    }
    headers["Host"] = f"127.0.0.1:{edge.port}"
    if sign:
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Content-SHA256"):
            headers.pop(name, None)
        aws = AWSRequest(
            method=request.method, url=edge.url + request.path, data=request.body, headers=headers
        )
        try:
            SigV4Auth(CREDENTIALS, request.service, "us-east-1").add_auth(aws)
            headers = dict(aws.headers.items())
        except Exception:
            pass  # a path botocore cannot canonicalise goes unsigned
    headers["Content-Length"] = str(len(request.body) if claimed is None else claimed)
    headers["Connection"] = "close"
    lines = [
        f"{request.method} {request.path} HTTP/1.1",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace") + request.body


def _send(port: int, raw: bytes) -> tuple[bytes, bool]:
    """(reply, answered or closed within the bound)."""
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_BOUND_S) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(raw)
        data = b""
        deadline = time.monotonic() + ANSWER_BOUND_S
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                return data, True
            except TimeoutError:
                return data, False
            if not chunk:
                return data, True
            data += chunk
        return data, False


def test_fuzzed_signed_requests_get_no_5xx_and_no_hang(fuzz_edge: EdgeServer) -> None:
    bases = _capture(fuzz_edge)
    assert len(bases) >= 20
    rng = random.Random(SEED)
    failures: list[str] = []
    hangs: list[str] = []
    sent = 0
    statuses: dict[int, int] = {}
    started = time.monotonic()
    while sent < MAX_REQUESTS and time.monotonic() - started < BUDGET_S:
        base = rng.choice(bases)
        request, sign, claimed = _mutate(rng, base)
        raw = _wire(fuzz_edge, request, sign, claimed)
        reply, finished = _send(fuzz_edge.port, raw)
        sent += 1
        while reply.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"):
            reply = reply[len(b"HTTP/1.1 100 Continue\r\n\r\n") :]
        status = status_of(reply)
        statuses[status] = statuses.get(status, 0) + 1
        summary = f"#{sent} {request.method} {request.path[:80]} -> {reply[:200]!r}"
        if not finished:
            hangs.append(summary)
        elif status >= 500 and status != 501:
            failures.append(summary)
    print(f"fuzz: {sent} requests, answers by status {sorted(statuses.items())}")
    assert sent >= 200, f"only {sent} requests in {BUDGET_S} s"
    assert hangs == [], f"{len(hangs)} hangs of {sent}: {hangs[:5]}"
    assert failures == [], f"{len(failures)} 5xx of {sent}: {failures[:5]}"
    # And the edge still serves.
    assert client("s3", fuzz_edge.url).head_bucket(Bucket="fuzz")
