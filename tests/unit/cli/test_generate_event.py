"""`lambic generate-event`: the test client's event shapes, in the local cloud's account."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from lambic import Lambic
from lambic.app.event_payloads import SAMPLE_ACCOUNT_ID, create_scheduled_event
from lambic.app.proxy_events import create_rest_event
from lambic.cli.main import main
from lambic.project.account import LOCAL_ACCOUNT_ID, LOCAL_REGION
from lambic.runtime.event_sources import Account, scheduled_event
from lambic.testing import TEST_REGION, Client

# Fields that differ on every call (ids, times, values derived from them); the shapes
# are compared with these blanked out.
_VOLATILE = frozenset(
    {
        "eventTime",
        "x-amz-request-id",
        "x-amz-id-2",
        "configurationId",
        "sequencer",
        "messageId",
        "receiptHandle",
        "SentTimestamp",
        "ApproximateFirstReceiveTimestamp",
        "EventSubscriptionArn",
        "MessageId",
        "Timestamp",
        "Signature",
        "SigningCertUrl",
        "UnsubscribeUrl",
        "eventID",
        "ApproximateCreationDateTime",
        "SequenceNumber",
        "requestId",
        "extendedRequestId",
        "requestTime",
        "requestTimeEpoch",
    }
)


# EventBridge's own id and time are top-level; an item's "id" attribute is data.
_VOLATILE_AT_TOP = frozenset({"id", "time"})


def normalised(event: Any, *, top: bool = True) -> Any:
    if isinstance(event, dict):
        volatile = _VOLATILE | _VOLATILE_AT_TOP if top else _VOLATILE
        return {
            k: "<volatile>" if k in volatile else normalised(v, top=False) for k, v in event.items()
        }
    if isinstance(event, list):
        return [normalised(item, top=False) for item in event]
    return event


def as_local(event: dict[str, Any]) -> Any:
    """A test-client event moved to the local cloud's account and region, normalised."""
    text = json.dumps(event).replace(SAMPLE_ACCOUNT_ID, LOCAL_ACCOUNT_ID)
    return normalised(json.loads(text.replace(TEST_REGION, LOCAL_REGION)))


def generate(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["generate-event", *args])
    assert result.exit_code == 0, result.stderr
    event: dict[str, Any] = json.loads(result.stdout)
    return event


@pytest.fixture
def client() -> Client:
    return Client(Lambic("sample"))


def test_s3_event_is_the_test_clients_in_the_local_account(client: Client) -> None:
    event = generate("s3", "--bucket", "photos", "--key", "my cat.jpg")
    expected = client.events.generate_s3_event(bucket="photos", key="my cat.jpg")
    assert normalised(event) == as_local(expected)
    assert event["Records"][0]["awsRegion"] == LOCAL_REGION


def test_s3_event_takes_an_event_name_and_a_size() -> None:
    created = generate("s3", "--bucket", "b", "--key", "k", "--size", "42")
    assert created["Records"][0]["s3"]["object"]["size"] == 42
    removed = generate("s3", "--bucket", "b", "--key", "k", "--event-name", "ObjectRemoved:Delete")
    record = removed["Records"][0]
    assert record["eventName"] == "ObjectRemoved:Delete"
    assert "size" not in record["s3"]["object"]  # as S3 sends removals


def test_sqs_event_has_one_record_per_body_from_the_local_queue(client: Client) -> None:
    event = generate("sqs", "--queue", "jobs", "--body", "job-1", "--body", "job-2")
    expected = client.events.generate_sqs_event(["job-1", "job-2"], queue_name="jobs")
    assert normalised(event) == as_local(expected)
    assert event["Records"][1]["eventSourceARN"] == "arn:aws:sqs:us-east-1:000000000000:jobs"


def test_sqs_queue_given_as_an_arn_is_used_as_is() -> None:
    arn = "arn:aws:sqs:eu-west-1:111122223333:jobs"
    record = generate("sqs", "--queue", arn, "--body", "x")["Records"][0]
    assert (record["eventSourceARN"], record["awsRegion"]) == (arn, "eu-west-1")


def test_sns_event_is_the_test_clients(client: Client) -> None:
    event = generate("sns", "--topic", "alerts", "--message", "hi", "--subject", "s")
    expected = client.events.generate_sns_message("hi", subject="s", topic="alerts")
    assert normalised(event) == as_local(expected)


def test_sns_subject_is_null_when_not_given() -> None:
    assert generate("sns", "--topic", "t", "--message", "m")["Records"][0]["Sns"]["Subject"] is None


def test_eventbridge_event_is_the_test_clients(client: Client) -> None:
    event = generate(
        "eventbridge", "--source", "shop.orders", "--detail-type", "Order", "--detail", '{"n": 1}'
    )
    expected = client.events.generate_cw_event("shop.orders", "Order", {"n": 1}, [])
    assert normalised(event) == as_local(expected)
    assert event["account"] == LOCAL_ACCOUNT_ID


def test_schedule_event_is_what_lambic_invoke_schedule_sends() -> None:
    event = generate("schedule", "--rule", "sample-dev-nightly-event")
    fired = scheduled_event(Account("sample", "dev"), "nightly")
    assert normalised(event) == normalised(fired)
    rule_arn = "arn:aws:events:us-east-1:000000000000:rule/sample-dev-nightly-event"
    assert normalised(event) == normalised(create_scheduled_event(rule_arn=rule_arn))


def test_dynamodb_event_is_the_test_clients(client: Client) -> None:
    keys, new, old = (
        '{"id": {"S": "1"}}',
        '{"id": {"S": "1"}, "n": {"N": "2"}}',
        '{"id": {"S": "1"}}',
    )
    event = generate(
        "dynamodb",
        "--table",
        "Users",
        "--event-name",
        "MODIFY",
        "--keys",
        keys,
        "--new-image",
        new,
        "--old-image",
        old,
    )
    expected = client.events.generate_dynamodb_event(
        event_name="MODIFY",
        keys=json.loads(keys),
        new_image=json.loads(new),
        old_image=json.loads(old),
        table_name="Users",
    )
    assert normalised(event) == as_local(expected)


def test_apigateway_event_is_the_gateways_rest_event() -> None:
    event = generate(
        "apigateway",
        "--method",
        "post",
        "--path",
        "/items",
        "--body",
        '{"a": 1}',
        "--header",
        "Content-Type=application/json",
        "--header",
        "X-Tag=a=b",
        "--query",
        "page=2",
        "--query",
        "page=3",
    )
    expected = create_rest_event(
        method="POST",
        path="/items",
        resource_path="/items",
        path_params=None,
        query=[("page", "2"), ("page", "3")],
        headers=[("Content-Type", "application/json"), ("X-Tag", "a=b")],
        body=b'{"a": 1}',
        binary_types=[],
        stage="api",
        account_id=LOCAL_ACCOUNT_ID,
    )
    assert normalised(event) == normalised(expected)
    assert event["queryStringParameters"] == {"page": "3"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["eventbridge", "--source", "s", "--detail-type", "d", "--detail", "{bad"],
            "Error: --detail is not valid JSON",
        ),
        (
            ["eventbridge", "--source", "s", "--detail-type", "d", "--detail", "[1]"],
            "Error: --detail must be a JSON object",
        ),
        (
            ["s3", "--bucket", "b", "--key", "k", "--event-name", "ObjectCreated:Upload"],
            "Error: unknown S3 event name 'ObjectCreated:Upload'; use one of",
        ),
        (
            ["dynamodb", "--table", "t", "--event-name", "UPSERT", "--keys", '{"id": {"S": "1"}}'],
            "Error: unknown DynamoDB event name 'UPSERT'; use INSERT, MODIFY or REMOVE",
        ),
        (
            ["dynamodb", "--table", "t", "--keys", '{"id": "1"}'],
            "Error: --keys must be in DynamoDB JSON",
        ),
        (["dynamodb", "--table", "t"], "Error: a DynamoDB record needs keys="),
        (["apigateway", "--path", "/x", "--header", "nope"], "Error: --header takes NAME=VALUE"),
        (["apigateway", "--path", "x"], "Error: --path must start with '/'"),
        (["apigateway-http", "--path", "x"], "Error: --path must start with '/'"),
        (
            ["websocket", "--route", "$disconnect", "--body", "x"],
            "Error: --body is for message routes; $disconnect events carry no body",
        ),
        (
            ["websocket", "--query", "a=1"],
            "Error: --header and --query are for $connect, which carries the handshake",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["generate-event", *args])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1


def test_apigateway_http_event_is_payload_2_0_and_the_app_serves_it() -> None:
    event = generate(
        "apigateway-http",
        "--method",
        "post",
        "--path",
        "/items/7",
        "--body",
        '{"a": 1}',
        "--header",
        "Content-Type=application/json",
        "--header",
        "X-Tag=a",
        "--header",
        "x-tag=b",
        "--header",
        "Cookie=s=1; t=2",
        "--query",
        "page=2",
        "--query",
        "page=3",
    )
    assert (event["version"], event["routeKey"], event["rawPath"]) == (
        "2.0",
        "POST /items/7",
        "/items/7",
    )
    assert event["rawQueryString"] == "page=2&page=3"
    assert event["queryStringParameters"] == {"page": "2,3"}
    # lower-cased, repeated values comma-joined, the Cookie header moved to `cookies`
    assert event["headers"] == {"content-type": "application/json", "x-tag": "a,b"}
    assert event["cookies"] == ["s=1", "t=2"]
    assert (event["body"], event["isBase64Encoded"]) == ('{"a": 1}', False)
    context = event["requestContext"]
    assert (context["accountId"], context["stage"]) == (LOCAL_ACCOUNT_ID, "$default")
    assert context["http"] == {
        "method": "POST",
        "path": "/items/7",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "",
    }
    assert context["domainName"] == f"{context['apiId']}.execute-api.{LOCAL_REGION}.amazonaws.com"

    app = Lambic("shop")

    @app.route("/items/{item_id}", methods=["POST"])
    def add(item_id: str) -> dict[str, Any]:
        request = app.current_request
        return {
            "id": item_id,
            "page": request.query_params.getlist("page"),
            "tag": request.headers["x-tag"],
            "cookie": request.headers["cookie"],
            "json": request.json_body,
        }

    response = app(event, None)
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {
        "id": "7",
        "page": ["2", "3"],
        "tag": "a,b",
        "cookie": "s=1; t=2",
        "json": {"a": 1},
    }


def test_apigateway_http_named_stage_is_in_the_raw_path_and_binary_is_base64() -> None:
    event = generate(
        "apigateway-http",
        "--path",
        "/logo",
        "--api-stage",
        "prod",
        "--header",
        "Content-Type=image/png",
        "--body",
        "PNG",
    )
    assert (event["rawPath"], event["requestContext"]["stage"]) == ("/prod/logo", "prod")
    assert (event["body"], event["isBase64Encoded"]) == ("UE5H", True)
    assert "queryStringParameters" not in event and "cookies" not in event


def test_websocket_events_are_api_gateways_for_each_route_key() -> None:
    connect = generate("websocket", "--route", "$connect", "--query", "name=ann")
    context = connect["requestContext"]
    assert (context["routeKey"], context["eventType"], context["stage"]) == (
        "$connect",
        "CONNECT",
        "api",
    )
    domain = f"abcdef1234.execute-api.{LOCAL_REGION}.amazonaws.com"
    assert (context["apiId"], context["domainName"]) == ("abcdef1234", domain)
    assert connect["queryStringParameters"] == {"name": "ann"}
    assert connect["headers"] == {"Host": domain}
    assert "body" not in connect

    message = generate("websocket", "--body", "hi", "--connection-id", "Y29ubg==")
    context = message["requestContext"]
    assert (context["routeKey"], context["eventType"]) == ("$default", "MESSAGE")
    assert (context["connectionId"], message["body"]) == ("Y29ubg==", "hi")
    assert len(context["messageId"]) == 16

    gone = generate("websocket", "--route", "$disconnect")["requestContext"]
    assert (gone["eventType"], gone["disconnectStatusCode"], gone["disconnectReason"]) == (
        "DISCONNECT",
        1000,
        "",
    )


def test_a_generated_websocket_message_runs_the_apps_handler_as_the_test_clients_does() -> None:
    from lambic.app import WebsocketEvent

    app = Lambic("chat")
    app.experimental_feature_flags.update(["WEBSOCKETS"])
    seen: list[Any] = []

    @app.on_ws_message()
    def message(event: WebsocketEvent) -> None:
        seen.append((event.connection_id, event.body, event.stage, event.domain_name))

    client = Client(app)
    connection = client.websocket.connect()
    connection.send("from the client")
    event = generate("websocket", "--body", "generated")
    app.handler_map["message"](event, None)
    (_, body, stage, _), (cid, generated, generated_stage, domain) = seen
    assert (body, stage) == ("from the client", generated_stage)
    assert (cid, generated, domain) == (
        "ZXhhbXBsZWNvbm4=",
        "generated",
        event["requestContext"]["domainName"],
    )
