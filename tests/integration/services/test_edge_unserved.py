"""Unchanged boto3 clients of services the edge does not serve, over a real socket:
each raises `ClientError` code `NotImplemented` with a message naming what is served."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambic.services import create_services
from lambic.services.base import Service
from lambic.services.server import EdgeServer

StartEdge = Callable[[dict[str, Service]], EdgeServer]
MakeClient = Callable[..., Any]

SERVED = "it serves s3, dynamodb, dynamodbstreams, sqs, sns, events, sts, kinesis."

CALLS: dict[str, Callable[[Any], Any]] = {
    "iam": lambda c: c.list_users(),
    "secretsmanager": lambda c: c.get_secret_value(SecretId="db-password"),
    "firehose": lambda c: c.put_record(DeliveryStreamName="s", Record={"Data": b"x"}),
    "apigatewaymanagementapi": lambda c: c.post_to_connection(ConnectionId="abc", Data=b"hi"),
    "ssm": lambda c: c.get_parameter(Name="/app/key"),
    "ec2": lambda c: c.describe_instances(),
    "route53": lambda c: c.list_hosted_zones(),
    "cloudwatch": lambda c: c.list_metrics(),
}


@pytest.fixture
def edge(start_edge: StartEdge) -> EdgeServer:
    return start_edge(create_services(None).by_name())


@pytest.mark.parametrize("service", sorted(CALLS))
def test_an_unserved_service_raises_not_implemented_naming_the_served_ones(
    edge: EdgeServer, make_client: MakeClient, service: str
) -> None:
    client = make_client(service, edge.url)

    with pytest.raises(ClientError) as caught:
        CALLS[service](client)

    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert error["Error"]["Code"] == "NotImplemented"
    assert "Lambic's local endpoint does not serve " in error["Error"]["Message"]
    assert SERVED in error["Error"]["Message"]


def test_s3_still_answers_on_the_same_port(edge: EdgeServer, make_client: MakeClient) -> None:
    s3 = make_client("s3", edge.url)
    s3.create_bucket(Bucket="photos")
    s3.put_object(Bucket="photos", Key="a.txt", Body=b"a")
    assert s3.get_object(Bucket="photos", Key="a.txt")["Body"].read() == b"a"
