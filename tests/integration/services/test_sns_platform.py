"""SNS mobile push through the edge with boto3: platform applications, endpoints,
their attributes, and publishing to an endpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambic.services import sns as sns_service
from lambic.services import sqs as sqs_service

PREFIX = "arn:aws:sns:us-east-1:000000000000:"


@pytest.fixture
def sns(start_edge: Any, make_client: Any) -> Any:
    sqs = sqs_service.create_service(None)
    edge = start_edge({"sqs": sqs, "sns": sns_service.create_service(None, sqs=sqs)})
    return make_client("sns", edge.url)


def _error(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = caught.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def _app(sns: Any, name: str = "chat", platform: str = "GCM") -> str:
    arn = sns.create_platform_application(
        Name=name, Platform=platform, Attributes={"PlatformCredential": "server-key"}
    )["PlatformApplicationArn"]
    return str(arn)


def test_an_application_is_named_by_platform_and_keeps_its_credential_secret(sns: Any) -> None:
    arn = _app(sns)
    assert arn == PREFIX + "app/GCM/chat"

    attributes = sns.get_platform_application_attributes(PlatformApplicationArn=arn)["Attributes"]
    assert attributes == {"Enabled": "true"}
    sns.set_platform_application_attributes(
        PlatformApplicationArn=arn, Attributes={"EventEndpointCreated": PREFIX + "events"}
    )
    listed = sns.list_platform_applications()["PlatformApplications"]
    assert listed == [
        {
            "PlatformApplicationArn": arn,
            "Attributes": {"Enabled": "true", "EventEndpointCreated": PREFIX + "events"},
        }
    ]


def test_an_unknown_platform_is_refused(sns: Any) -> None:
    with pytest.raises(ClientError) as caught:
        sns.create_platform_application(Name="x", Platform="PIGEON", Attributes={})
    code, message, status = _error(caught)
    assert (code, status) == ("InvalidParameter", 400)
    assert message.startswith("Invalid parameter: Platform")


def test_endpoints_are_idempotent_for_the_same_token_and_attributes(sns: Any) -> None:
    app = _app(sns)
    first = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="t1")["EndpointArn"]
    again = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="t1")["EndpointArn"]
    explicit_default = sns.create_platform_endpoint(
        PlatformApplicationArn=app, Token="t1", Attributes={"Enabled": "true"}
    )["EndpointArn"]

    assert first == again == explicit_default
    assert first.startswith(PREFIX + "endpoint/GCM/chat/")
    with pytest.raises(ClientError) as caught:
        sns.create_platform_endpoint(PlatformApplicationArn=app, Token="t1", CustomUserData="u")
    assert _error(caught) == (
        "InvalidParameter",
        f"Invalid parameter: Token Reason: Endpoint {first} already exists with the same "
        "Token, but different attributes.",
        400,
    )


def test_endpoint_attributes_read_back_set_and_list(sns: Any) -> None:
    app = _app(sns)
    arn = sns.create_platform_endpoint(
        PlatformApplicationArn=app, Token="device", CustomUserData="alice"
    )["EndpointArn"]
    assert sns.get_endpoint_attributes(EndpointArn=arn)["Attributes"] == {
        "Enabled": "true",
        "CustomUserData": "alice",
        "Token": "device",
    }

    sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "False"})
    listed = sns.list_endpoints_by_platform_application(PlatformApplicationArn=app)["Endpoints"]
    assert listed == [
        {
            "EndpointArn": arn,
            "Attributes": {"Enabled": "false", "CustomUserData": "alice", "Token": "device"},
        }
    ]


def test_missing_applications_and_endpoints_are_not_found(sns: Any) -> None:
    app = _app(sns)
    with pytest.raises(ClientError) as caught:
        sns.create_platform_endpoint(PlatformApplicationArn=app + "2", Token="t")
    assert _error(caught) == ("NotFound", "PlatformApplication does not exist", 404)
    with pytest.raises(ClientError) as caught:
        sns.list_endpoints_by_platform_application(PlatformApplicationArn=app + "2")
    assert _error(caught) == ("NotFound", "PlatformApplication does not exist", 404)
    with pytest.raises(sns.exceptions.NotFoundException) as missing:
        sns.get_endpoint_attributes(EndpointArn=PREFIX + "endpoint/GCM/chat/nope")
    assert missing.value.response["Error"]["Type"] == "Sender"
    assert _error(missing) == ("NotFound", "Endpoint does not exist", 404)


def test_deleting_is_idempotent_and_an_application_takes_its_endpoints(sns: Any) -> None:
    app = _app(sns)
    arn = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="t")["EndpointArn"]
    sns.delete_endpoint(EndpointArn=arn)
    sns.delete_endpoint(EndpointArn=arn)
    other = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="u")["EndpointArn"]

    sns.delete_platform_application(PlatformApplicationArn=app)
    sns.delete_platform_application(PlatformApplicationArn=app)

    assert sns.list_platform_applications()["PlatformApplications"] == []
    with pytest.raises(ClientError) as caught:
        sns.get_endpoint_attributes(EndpointArn=other)
    assert _error(caught)[0] == "NotFound"


def test_publishing_to_an_endpoint_answers_a_message_id_unless_disabled(sns: Any) -> None:
    app = _app(sns)
    arn = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="t")["EndpointArn"]
    structured = '{"default": "hi", "GCM": "{\\"notification\\": {\\"body\\": \\"hi\\"}}"}'
    assert sns.publish(TargetArn=arn, Message=structured, MessageStructure="json")["MessageId"]

    sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "false"})
    with pytest.raises(ClientError) as caught:
        sns.publish(TargetArn=arn, Message="msg", MessageStructure="json")
    assert _error(caught) == ("EndpointDisabled", "Endpoint is disabled", 400)

    sns.delete_endpoint(EndpointArn=arn)
    with pytest.raises(ClientError) as caught:
        sns.publish(TargetArn=arn, Message="msg")
    assert _error(caught)[:2] == (
        "InvalidParameter",
        "Invalid parameter: TargetArn Reason: No endpoint found for the target arn specified",
    )


def test_applications_and_endpoints_survive_a_restart(tmp_path: Path) -> None:
    service = sns_service.create_service(tmp_path)
    platforms = service.engine.platforms
    app = platforms.create_application("chat", "APNS", {"PlatformPrincipal": "cert"})
    endpoint = platforms.create_endpoint(app, "device", "bob", {})
    service.close()

    reopened = sns_service.create_service(tmp_path).engine.platforms
    assert reopened.application_attributes(app) == {"Enabled": "true"}
    assert reopened.endpoint(endpoint).attributes["CustomUserData"] == "bob"


def test_sms_settings_are_not_implemented(sns: Any) -> None:
    with pytest.raises(ClientError) as caught:
        sns.get_sms_attributes()
    code, message, status = _error(caught)
    assert (code, status) == ("NotImplemented", 501)
    assert "GetSMSAttributes" in message
