"""Browser form uploads (POST Object) from boto3's generate_presigned_post."""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from lambic.services.auth import Authenticator
from lambic.services.s3 import ObjectEvent, create_service
from lambic.services.server import EdgeServer

AK, SECRET = "AKIDPOST", "post-secret"


def _client(url: str, secret: str = SECRET, **cfg: Any) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=AK,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 0}, **cfg),
    )


def _post(url: str, fields: dict[str, str], filename: str, data: bytes) -> tuple[int, Any, bytes]:
    boundary = uuid.uuid4().hex
    body = b""
    for name, value in fields.items():
        body += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    body += (
        (
            f"--{boundary}\r\nContent-Disposition: form-data; "
            f'name="file"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


@pytest.fixture
def secured() -> Iterator[tuple[EdgeServer, Any, list[ObjectEvent]]]:
    service = create_service(None)
    events: list[ObjectEvent] = []
    service.engine.add_listener(events.append)
    edge = EdgeServer({"s3": service}, auth=Authenticator({AK: SECRET})).start()
    client = _client(edge.url)
    client.create_bucket(Bucket="forms")
    yield edge, client, events
    client.close()
    edge.stop()


@pytest.mark.parametrize("signature_version", ["s3", "s3v4"])
def test_presigned_post_uploads_the_file_under_the_policy(
    secured: tuple[EdgeServer, Any, list[ObjectEvent]], signature_version: str
) -> None:
    edge, s3, events = secured
    signer = _client(edge.url, signature_version=signature_version)
    post = signer.generate_presigned_post(
        "forms",
        "uploads/${filename}",
        Fields={"Content-Type": "text/plain", "x-amz-meta-origin": "form"},
        Conditions=[
            ["starts-with", "$key", "uploads/"],
            {"Content-Type": "text/plain"},
            {"x-amz-meta-origin": "form"},
            ["content-length-range", 1, 100],
        ],
        ExpiresIn=60,
    )
    status, headers, _ = _post(post["url"], post["fields"], "note.txt", b"from a browser")
    assert status == 204
    assert headers["ETag"] == f'"{hashlib.md5(b"from a browser").hexdigest()}"'
    got = s3.get_object(Bucket="forms", Key="uploads/note.txt")
    assert (got["Body"].read(), got["ContentType"], got["Metadata"]) == (
        b"from a browser",
        "text/plain",
        {"origin": "form"},
    )
    assert events[-1].event_name == "ObjectCreated:Post"
    signer.close()


def test_policy_violations_and_bad_signatures_store_nothing(
    secured: tuple[EdgeServer, Any, list[ObjectEvent]],
) -> None:
    edge, s3, _ = secured
    post = s3.generate_presigned_post(
        "forms", "fixed.txt", Conditions=[["content-length-range", 1, 10]], ExpiresIn=60
    )
    too_big, _, body = _post(post["url"], post["fields"], "f", b"x" * 11)
    assert too_big == 400
    assert b"<Code>EntityTooLarge</Code>" in body
    other_key = {**post["fields"], "key": "elsewhere.txt"}
    status, _, body = _post(post["url"], other_key, "f", b"x")
    assert status == 403  # the policy's {"key": "fixed.txt"} condition fails
    assert b"Invalid according to Policy" in body
    extra = {**post["fields"], "surprise": "1"}
    assert _post(post["url"], extra, "f", b"x")[0] == 403
    forged = _client(edge.url, secret="wrong").generate_presigned_post("forms", "fixed.txt")
    status, _, body = _post(forged["url"], forged["fields"], "f", b"x")
    assert status == 403
    assert b"SignatureDoesNotMatch" in body
    assert s3.list_objects_v2(Bucket="forms")["KeyCount"] == 0


def test_success_action_status_201_answers_a_post_response_document(
    secured: tuple[EdgeServer, Any, list[ObjectEvent]],
) -> None:
    _edge, s3, _ = secured
    post = s3.generate_presigned_post(
        "forms",
        "doc.bin",
        Fields={"success_action_status": "201"},
        Conditions=[{"success_action_status": "201"}],
        ExpiresIn=60,
    )
    status, _, body = _post(post["url"], post["fields"], "doc.bin", b"data")
    assert status == 201
    assert b"<Key>doc.bin</Key>" in body
    assert b"<Bucket>forms</Bucket>" in body


def _presigned(client: Any, **conditions: Any) -> dict[str, Any]:
    post: dict[str, Any] = client.generate_presigned_post(
        "forms", "up/${filename}", Conditions=conditions.get("conditions"), ExpiresIn=600
    )
    return post


def test_a_checksum_field_is_checked_against_the_file(
    secured: tuple[EdgeServer, Any, list[ObjectEvent]],
) -> None:
    _, client, _ = secured
    post = _presigned(client)
    good = base64.b64encode(hashlib.sha256(b"payload").digest()).decode()
    status, _, _ = _post(
        post["url"], {**post["fields"], "x-amz-checksum-sha256": good}, "a.txt", b"payload"
    )
    assert status == 204
    head = client.head_object(Bucket="forms", Key="up/a.txt", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == good

    status, _, body = _post(
        post["url"], {**post["fields"], "x-amz-checksum-sha256": good}, "b.txt", b"other"
    )
    assert status == 400
    assert b"<Code>BadDigest</Code>" in body


def test_a_policy_without_conditions_or_a_signature_is_a_bad_request(start_edge: Any) -> None:
    # Without --require-auth nothing checks the signature at the edge: the form's own
    # checks answer, as AWS does before it gets to the signature.
    edge = start_edge({"s3": create_service(None)})
    client = _client(edge.url)
    client.create_bucket(Bucket="forms")
    post = _presigned(client)
    fields = dict(post["fields"])
    no_conditions = base64.b64encode(json.dumps({"expiration": "2099-01-01T00:00:00Z"}).encode())
    status, _, body = _post(post["url"], {**fields, "policy": no_conditions.decode()}, "x", b"x")
    assert (status, b"InvalidPolicyDocument" in body) == (400, True)
    unsigned = {k: v for k, v in fields.items() if k not in ("signature", "x-amz-signature")}
    status, _, body = _post(post["url"], unsigned, "x", b"x")
    assert (status, b"InvalidArgument" in body) == (400, True)
