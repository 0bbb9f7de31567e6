"""Issue 18, findings 6 (nesting depth) and 7 (byte-exact S3 keys) on the edge."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from reliability_wire import body_of, client, exchange, raw_request, signed_head, status_of

from lambic.services.server import EdgeServer

DEEP = 100_000


def _post_json(edge: EdgeServer, service: str, target: str, body: bytes) -> bytes:
    headers = signed_head(
        service,
        edge.url,
        "POST",
        "/",
        {
            "Host": f"127.0.0.1:{edge.port}",
            "X-Amz-Target": target,
            "Content-Type": "application/x-amz-json-1.0",
        },
        body,
    )
    headers["Content-Length"] = str(len(body))
    headers["Connection"] = "close"
    reply, _ = exchange(edge.port, raw_request("POST", "/", headers, body))
    return reply


def _deep_json(depth: int) -> bytes:
    return b'{"QueueName":' + b"[" * depth + b"]" * depth + b"}"


def test_sqs_json_nested_100000_deep_is_sqs_own_400(edge: EdgeServer) -> None:
    reply = _post_json(edge, "sqs", "AmazonSQS.CreateQueue", _deep_json(DEEP))

    assert status_of(reply) == 400
    assert b"x-amzn-query-error" in reply.lower()
    assert json.loads(body_of(reply))["__type"].endswith("SerializationException")


def test_dynamodb_json_nested_100000_deep_is_serialization_exception(edge: EdgeServer) -> None:
    reply = _post_json(edge, "dynamodb", "DynamoDB_20120810.PutItem", _deep_json(DEEP))

    assert status_of(reply) == 400
    assert json.loads(body_of(reply))["__type"].endswith("SerializationException")


def test_dynamodb_item_nested_400_levels_is_a_400(edge: EdgeServer) -> None:
    ddb = client("dynamodb", edge.url)
    ddb.create_table(
        TableName="deep",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    # 400 map levels: 800 JSON levels, inside orjson's limit, far past DynamoDB's 32.
    value = '{"M":{"a":' * 400 + '{"S":"leaf"}' + "}}" * 400
    body = ('{"TableName":"deep","Item":{"k":{"S":"1"},"v":' + value + "}}").encode()

    reply = _post_json(edge, "dynamodb", "DynamoDB_20120810.PutItem", body)

    assert 400 <= status_of(reply) < 500


def test_eventbridge_detail_nested_deep_is_a_400(edge: EdgeServer) -> None:
    detail = "[" * 5000 + "]" * 5000
    body = json.dumps({"Entries": [{"Source": "a", "DetailType": "b", "Detail": detail}]}).encode()
    reply = _post_json(edge, "events", "AWSEvents.PutEvents", body)
    assert status_of(reply) < 500


def test_sns_filter_policy_nested_deep_is_a_400(edge: EdgeServer) -> None:
    sns = client("sns", edge.url)
    topic = sns.create_topic(Name="t")["TopicArn"]
    with pytest.raises(ClientError) as caught:
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint="arn:aws:sqs:us-east-1:000000000000:q",
            Attributes={"FilterPolicy": '{"a":' + "[" * 5000 + "]" * 5000 + "}"},
        )
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_s3_xml_nested_100000_deep_is_malformed_xml(edge: EdgeServer) -> None:
    client("s3", edge.url).create_bucket(Bucket="bucket")
    body = b"<Delete>" + b"<Object>" * DEEP + b"</Object>" * DEEP + b"</Delete>"
    path = "/bucket?delete"
    headers = signed_head("s3", edge.url, "POST", path, {"Host": f"127.0.0.1:{edge.port}"}, body)
    headers["Content-Length"] = str(len(body))
    headers["Connection"] = "close"
    reply, _ = exchange(edge.port, raw_request("POST", path, headers, body))

    assert status_of(reply) == 400
    assert b"<Code>MalformedXML</Code>" in body_of(reply)


def _put_raw_key(edge: EdgeServer, raw_key: str, body: bytes) -> bytes:
    path = f"/bucket/{raw_key}"
    headers = signed_head("s3", edge.url, "PUT", path, {"Host": f"127.0.0.1:{edge.port}"}, body)
    headers["Content-Length"] = str(len(body))
    headers["Connection"] = "close"
    reply, _ = exchange(edge.port, raw_request("PUT", path, headers, body))
    return reply


def test_keys_that_are_not_utf8_get_invalid_uri_and_never_collide(edge: EdgeServer) -> None:
    s3 = client("s3", edge.url)
    s3.create_bucket(Bucket="bucket")

    first = _put_raw_key(edge, "a%FFb", b"first")
    second = _put_raw_key(edge, "a%FEb", b"second")

    for reply in (first, second):
        assert status_of(reply) == 400
        assert b"<Code>InvalidURI</Code>" in body_of(reply)
        assert b"Couldn't parse the specified URI." in body_of(reply)
    assert s3.list_objects_v2(Bucket="bucket").get("KeyCount") == 0


def test_utf8_keys_stay_byte_exact(edge: EdgeServer) -> None:
    s3 = client("s3", edge.url)
    s3.create_bucket(Bucket="bucket")

    assert status_of(_put_raw_key(edge, "caf%C3%A9", b"nfc")) == 200
    assert status_of(_put_raw_key(edge, "cafe%CC%81", b"nfd")) == 200

    keys = sorted(obj["Key"] for obj in s3.list_objects_v2(Bucket="bucket")["Contents"])
    assert keys == ["cafe\u0301", "caf\u00e9"]  # two keys, as sent
    assert s3.get_object(Bucket="bucket", Key="caf\u00e9")["Body"].read() == b"nfc"
    assert s3.get_object(Bucket="bucket", Key="cafe\u0301")["Body"].read() == b"nfd"
