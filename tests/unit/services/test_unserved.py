"""A request for a service the edge does not serve: recognised, and answered so boto3
reports `NotImplemented` with a message naming the services that are served.

Responses are read back with botocore's own parser for the service's protocol, as a
boto3 client would read them off the socket.
"""

from __future__ import annotations

import asyncio
from typing import Any

import botocore.parsers
import botocore.session
import pytest
from botocore.awsrequest import HeadersDict

from lambic.services._unserved import render_unserved, unserved_message
from lambic.services.base import Headers, ServiceRequest, ServiceResponse
from lambic.services.edge import EdgeApp, route_service

SERVED = ("s3", "dynamodb", "dynamodbstreams", "sqs", "sns", "events", "lambda")
_SESSION = botocore.session.get_session()


def _request(
    method: str = "POST",
    path: str = "/",
    query: str = "",
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    host: str = "127.0.0.1:4566",
) -> ServiceRequest:
    return ServiceRequest(method, path, query, Headers(headers or []), body, host=host)


def _signed(service: str) -> tuple[str, str]:
    scope = f"AKID/20260101/us-east-1/{service}/aws4_request"
    return (
        "Authorization",
        f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=x",
    )


def _parse(
    service: str, operation: str, response: ServiceResponse, protocol: str | None = None
) -> dict[str, Any]:
    """What botocore makes of `response` as the answer to `service.operation`."""
    model = _SESSION.get_service_model(service)
    parser = botocore.parsers.create_parser(protocol or model.metadata["protocol"])
    headers = HeadersDict(dict(response.headers))
    parsed: dict[str, Any] = parser.parse(
        {"status_code": response.status, "headers": headers, "body": response.body},
        model.operation_model(operation).output_shape,
    )
    return parsed


STS = _request(
    headers=[("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"), _signed("sts")],
    body=b"Action=GetCallerIdentity&Version=2011-06-15",
)
SECRETS = _request(
    headers=[
        ("X-Amz-Target", "secretsmanager.GetSecretValue"),
        ("Content-Type", "application/x-amz-json-1.1"),
        _signed("secretsmanager"),
    ],
    body=b'{"SecretId": "db"}',
)
KINESIS = _request(
    headers=[
        ("X-Amz-Target", "Kinesis_20131202.PutRecord"),
        ("Content-Type", "application/x-amz-json-1.1"),
    ],
    body=b"{}",
)
APIGW = _request(path="/@connections/abc", headers=[_signed("execute-api")], body=b"hi")
ROUTE53 = _request("GET", "/2013-04-01/hostedzone", headers=[_signed("route53")])
EC2 = _request(
    headers=[("Content-Type", "application/x-www-form-urlencoded"), _signed("ec2")],
    body=b"Action=DescribeInstances&Version=2016-11-15",
)


@pytest.mark.parametrize(
    ("request_", "name", "service", "operation"),
    [
        (STS, "sts", "sts", "GetCallerIdentity"),
        (SECRETS, "secretsmanager", "secretsmanager", "GetSecretValue"),
        (KINESIS, "kinesis", "kinesis", "PutRecord"),
        (APIGW, "execute-api", "apigatewaymanagementapi", "PostToConnection"),
        (ROUTE53, "route53", "route53", "ListHostedZones"),
        (EC2, "ec2", "ec2", "DescribeInstances"),
    ],
    ids=["sts-query", "secretsmanager-json", "kinesis-json", "apigw-rest-json", "route53-rest-xml",
         "ec2"],
)  # fmt: skip
def test_unserved_services_get_not_implemented_in_their_own_protocol(
    request_: ServiceRequest, name: str, service: str, operation: str
) -> None:
    assert route_service(request_) == name

    response = render_unserved(name, request_, SERVED)
    error = _parse(service, operation, response)["Error"]

    assert response.status == 501
    assert error["Code"] == "NotImplemented"
    assert error["Message"].startswith(
        f"Lambic's local endpoint does not serve {name}; it serves s3, dynamodb, "
        "dynamodbstreams, sqs, sns, events, lambda."
    )


def test_the_message_names_the_per_service_endpoint_variable_boto3_reads() -> None:
    message = render_unserved("secretsmanager", SECRETS, SERVED).body.decode()
    assert "AWS_ENDPOINT_URL_SECRETS_MANAGER" in message
    assert "unset AWS_ENDPOINT_URL" in message


def test_lambda_without_lambic_local_says_where_functions_are_served() -> None:
    message = unserved_message("lambda", ["s3"])
    assert message.startswith("Lambic's local endpoint does not serve lambda; it serves s3.")
    assert "lambic local" in message


def test_cbor_clients_get_a_cbor_error_body() -> None:
    request = _request(
        path="/service/GraniteServiceVersion20100801/operation/ListMetrics",
        headers=[("smithy-protocol", "rpc-v2-cbor"), _signed("monitoring")],
    )
    assert route_service(request) == "monitoring"

    response = render_unserved("monitoring", request, SERVED)
    error = _parse("cloudwatch", "ListMetrics", response, "smithy-rpc-v2-cbor")

    assert error["Error"]["Code"] == "NotImplemented"
    assert "does not serve monitoring" in error["Error"]["Message"]


def test_presigned_and_host_addressed_requests_name_their_service() -> None:
    presigned = _request(
        "GET", "/", "Action=GetCallerIdentity&X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fsts"
        "%2Faws4_request&X-Amz-Signature=x",
    )  # fmt: skip
    assert route_service(presigned) == "sts"
    assert route_service(_request("GET", "/", host="sts.amazonaws.com")) == "sts"
    host = "abc123.execute-api.us-east-1.amazonaws.com"
    assert route_service(_request("POST", "/@connections/x", host=host)) == "execute-api"
    # S3's own host names stay S3.
    assert route_service(_request("GET", "/k", host="photos.s3.amazonaws.com")) == "s3"
    assert route_service(_request("GET", "/k", host="s3.us-east-1.amazonaws.com")) == "s3"


def test_plain_s3_requests_still_route_to_s3() -> None:
    assert route_service(_request("PUT", "/bucket/key", headers=[_signed("s3")])) == "s3"
    presigned = _request("GET", "/bucket/key", "X-Amz-Credential=A%2Fd%2Fr%2Fs3%2Faws4_request")
    assert route_service(presigned) == "s3"
    sigv2 = _request("GET", "/b/k", headers=[("Authorization", "AWS AKID:sig")])
    assert route_service(sigv2) == "s3"
    assert route_service(_request("GET", "/2015-03-31/photo.jpg")) == "s3"


def test_lambda_is_routed_by_scope_or_by_its_path_when_unsigned() -> None:
    signed = _request("POST", "/2015-03-31/functions/f/invocations", headers=[_signed("lambda")])
    assert route_service(signed) == "lambda"
    assert route_service(_request("GET", "/2015-03-31/functions/")) == "lambda"
    streaming = "/2021-11-15/functions/f/response-streaming-invocations"
    assert route_service(_request("POST", streaming, headers=[_signed("lambda")])) == "lambda"


def test_the_edge_answers_an_unserved_service_without_reaching_s3() -> None:
    class Refusing:
        name = "s3"

        async def handle(self, request: ServiceRequest) -> ServiceResponse:
            raise AssertionError("an STS request reached S3")

        def close(self) -> None:
            pass

    edge = EdgeApp({"s3": Refusing()})

    response = asyncio.run(edge.dispatch(STS))

    assert response.status == 501
    assert b"does not serve sts; it serves s3." in response.body
