"""--require-auth at the edge: SigV4 header/query and S3 SigV2 presigned, per-service errors."""

from __future__ import annotations

import hashlib
import hmac
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from lambic.services.auth import Authenticator
from lambic.services.base import ServiceRequest, ServiceResponse
from lambic.services.s3 import create_service
from lambic.services.server import EdgeServer

AK, SECRET = "AKIDLOCAL", "local-secret"


class JsonEcho:
    """Stands in for DynamoDB so the edge's JSON error shape can be checked."""

    name = "dynamodb"

    async def handle(self, request: ServiceRequest) -> ServiceResponse:
        return ServiceResponse(200, [("Content-Type", "application/x-amz-json-1.0")], b"{}")

    def close(self) -> None:
        pass


@pytest.fixture
def edge() -> Iterator[EdgeServer]:
    server = EdgeServer(
        {"s3": create_service(None), "dynamodb": JsonEcho()},
        auth=Authenticator({AK: SECRET}),
    ).start()
    yield server
    server.stop()


def _client(service: str, url: str, key: str = AK, secret: str = SECRET, **cfg: Any) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 0}, **cfg),
    )


def test_correctly_signed_requests_pass_and_wrong_secret_is_signature_does_not_match(
    edge: EdgeServer,
) -> None:
    good = _client("s3", edge.url)
    good.create_bucket(Bucket="secure")
    good.put_object(Bucket="secure", Key="dir/a b+ü.txt", Body=b"x", Metadata={"k": "v"})
    assert good.list_objects_v2(Bucket="secure", Prefix="dir/")["KeyCount"] == 1
    bad = _client("s3", edge.url, secret="wrong")
    with pytest.raises(ClientError) as exc:
        bad.list_objects_v2(Bucket="secure")
    assert exc.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError) as exc:
        bad.put_object(Bucket="secure", Key="new", Body=b"x")
    assert good.list_objects_v2(Bucket="secure")["KeyCount"] == 1  # nothing written
    good.close()
    bad.close()


def test_unknown_access_key_is_invalid_access_key_id_for_s3(edge: EdgeServer) -> None:
    client = _client("s3", edge.url, key="NOPE")
    with pytest.raises(ClientError) as exc:
        client.list_buckets()
    assert exc.value.response["Error"]["Code"] == "InvalidAccessKeyId"
    client.close()


def test_dynamodb_gets_json_invalid_signature_and_unrecognized_client(edge: EdgeServer) -> None:
    bad = _client("dynamodb", edge.url, secret="wrong")
    with pytest.raises(ClientError) as exc:
        bad.list_tables()
    assert exc.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    unknown = _client("dynamodb", edge.url, key="NOPE")
    with pytest.raises(ClientError) as exc:
        unknown.list_tables()
    assert exc.value.response["Error"]["Code"] == "UnrecognizedClientException"
    good = _client("dynamodb", edge.url)
    assert good.list_tables()["ResponseMetadata"]["HTTPStatusCode"] == 200
    for client in (bad, unknown, good):
        client.close()


def test_presigned_urls_v2_and_v4_verify_and_tampering_is_refused(edge: EdgeServer) -> None:
    client = _client("s3", edge.url)
    client.create_bucket(Bucket="secure")
    client.put_object(Bucket="secure", Key="a b.txt", Body=b"secret data")
    v4 = _client("s3", edge.url, signature_version="s3v4")
    for signer in (client, v4):
        url = signer.generate_presigned_url(
            "get_object", Params={"Bucket": "secure", "Key": "a b.txt"}, ExpiresIn=60
        )
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.read() == b"secret data"
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(url.replace("a%20b.txt", "other.txt"), timeout=5)
        assert exc.value.code == 403
        assert b"<Code>SignatureDoesNotMatch</Code>" in exc.value.read()
    put_url = v4.generate_presigned_url(
        "put_object", Params={"Bucket": "secure", "Key": "up.txt"}, ExpiresIn=60
    )
    request = urllib.request.Request(put_url, data=b"uploaded", method="PUT")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
    assert client.get_object(Bucket="secure", Key="up.txt")["Body"].read() == b"uploaded"
    client.close()
    v4.close()


def test_anonymous_request_is_access_denied_when_auth_is_required(edge: EdgeServer) -> None:
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(f"{edge.url}/", timeout=5)
    assert exc.value.code == 403
    assert b"<Code>AccessDenied</Code>" in exc.value.read()


def _chunk_signature(key: bytes, stamp: str, scope: str, previous: str, data: bytes) -> str:
    text = "\n".join(
        [
            "AWS4-HMAC-SHA256-PAYLOAD",
            stamp,
            scope,
            previous,
            hashlib.sha256(b"").hexdigest(),
            hashlib.sha256(data).hexdigest(),
        ]
    )
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


class _StreamingSigner(S3SigV4Auth):
    """botocore's S3 signer, declaring a signed streaming payload as the SDKs do."""

    def payload(self, request: AWSRequest) -> str:
        return "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"


def _signed_streaming_put(url: str, chunks: list[bytes], tamper: bool) -> int:
    """A PUT as the AWS SDKs send STREAMING-AWS4-HMAC-SHA256-PAYLOAD uploads."""
    decoded = b"".join(chunks)
    request = AWSRequest(
        method="PUT",
        url=f"{url}/secure/streamed",
        headers={
            "Content-Encoding": "aws-chunked",
            "x-amz-decoded-content-length": str(len(decoded)),
        },
    )
    _StreamingSigner(Credentials(AK, SECRET), "s3", "us-east-1").add_auth(request)
    seed = request.headers["Authorization"].rsplit("Signature=", 1)[1]
    stamp = request.headers["X-Amz-Date"]
    scope = f"{stamp[:8]}/us-east-1/s3/aws4_request"
    key = ("AWS4" + SECRET).encode()
    for part in (stamp[:8], "us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    body = b""
    previous = seed
    for data in [*chunks, b""]:
        signature = _chunk_signature(key, stamp, scope, previous, data)
        previous = signature
        if tamper and data:
            data = data[:-1] + b"!"
        body += f"{len(data):x};chunk-signature={signature}\r\n".encode() + data + b"\r\n"
    headers = dict(request.headers.items())
    http_request = urllib.request.Request(
        f"{url}/secure/streamed", data=body, method="PUT", headers=headers
    )
    try:
        with urllib.request.urlopen(http_request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_signed_aws_chunked_upload_is_decoded_and_each_chunk_verified(edge: EdgeServer) -> None:
    client = _client("s3", edge.url)
    client.create_bucket(Bucket="secure")
    chunks = [b"a" * 65536, b"b" * 1024]
    assert _signed_streaming_put(edge.url, chunks, tamper=False) == 200
    assert client.get_object(Bucket="secure", Key="streamed")["Body"].read() == b"".join(chunks)
    assert _signed_streaming_put(edge.url, [b"c" * 100], tamper=True) == 403
    assert client.get_object(Bucket="secure", Key="streamed")["Body"].read() == b"".join(chunks)
    client.close()


def test_expired_presigned_url_is_refused_even_without_require_auth(
    start_edge: Any, make_client: Any
) -> None:
    clock = [time.time()]
    edge = EdgeServer(
        {"s3": create_service(None)}, auth=Authenticator(clock=lambda: clock[0])
    ).start()
    try:
        client = make_client("s3", edge.url)
        client.create_bucket(Bucket="open")
        client.put_object(Bucket="open", Key="k", Body=b"x")
        url = client.generate_presigned_url(
            "get_object", Params={"Bucket": "open", "Key": "k"}, ExpiresIn=30
        )
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.read() == b"x"
        clock[0] += 60
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(url, timeout=5)
        body = exc.value.read()
        assert exc.value.code == 403
        assert b"<Code>AccessDenied</Code>" in body
        assert b"Request has expired" in body
        client.close()
    finally:
        edge.stop()


def test_legacy_sigv2_signed_clients_and_overridden_presigned_downloads_verify(
    edge: EdgeServer,
) -> None:
    legacy = _client("s3", edge.url, signature_version="s3")
    legacy.create_bucket(Bucket="legacy")
    legacy.put_object(Bucket="legacy", Key="dir/a b+c.txt", Body=b"x", Metadata={"m": "1"})
    assert legacy.list_objects(Bucket="legacy", Prefix="dir/")["Contents"][0]["Size"] == 1
    url = legacy.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": "legacy",
            "Key": "dir/a b+c.txt",
            "ResponseContentDisposition": 'attachment; filename="a b.txt"',
        },
    )
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.headers["Content-Disposition"] == 'attachment; filename="a b.txt"'
    wrong = _client("s3", edge.url, secret="wrong", signature_version="s3")
    with pytest.raises(ClientError) as exc:
        wrong.list_objects(Bucket="legacy")
    assert exc.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    legacy.close()
    wrong.close()
