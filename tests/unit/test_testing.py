"""lambic.testing.Client: HTTP through API Gateway's rules, invokes, events, environment."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from lambic.app import CORSConfig, Lambic, Response
from lambic.app.events import DynamoDBEvent, KinesisEvent, S3Event, SNSEvent, SQSEvent
from lambic.testing import Client, FunctionNotFoundError, HTTPResponse


def build_app() -> Any:
    app = Lambic("shop")

    @app.route("/items/{item_id}")
    def get_item(item_id: str) -> dict[str, Any]:
        request = app.current_request
        return {
            "id": item_id,
            "query": request.query_params,
            "env": os.environ.get("TABLE"),
            "function": app.lambda_context.function_name,
        }

    @app.route("/items", methods=["POST"], cors=CORSConfig(allow_origin="https://shop.example"))
    def create_item() -> Response:
        return Response(body=app.current_request.json_body, status_code=201)

    @app.route("/cookies")
    def cookies() -> Response:
        return Response(body="ok", headers={"Set-Cookie": ["a=1", "b=2"]})

    @app.route("/logo", content_types=["application/json"])
    def logo() -> Response:
        return Response(body=b"\x89PNG\x00", headers={"Content-Type": "image/png"})

    @app.lambda_function(name="adder")
    def add(event: dict[str, int], context: Any) -> dict[str, Any]:
        return {
            "sum": event["a"] + event["b"],
            "env": os.environ.get("TABLE"),
            "level": os.environ.get("LEVEL"),
            "function": context.function_name,
            "memory": context.memory_limit_in_mb,
            "remaining": context.get_remaining_time_in_millis(),
            "key": os.environ.get("AWS_ACCESS_KEY_ID"),
        }

    @app.on_sqs_message(queue="jobs", batch_size=10)
    def jobs(event: SQSEvent) -> dict[str, Any]:
        failed = [r.message_id for r in event if r.body == "bad"]
        return {"batchItemFailures": [{"itemIdentifier": m} for m in failed]}

    @app.on_s3_event(bucket="photos")
    def photo(event: S3Event) -> list[str]:
        return [event.bucket, event.key]

    @app.on_sns_message(topic="alerts")
    def alert(event: SNSEvent) -> list[Any]:
        return [event.message, event.subject]

    @app.on_dynamodb_record(stream_arn="arn:aws:dynamodb:us-west-2:1:table/T/stream/x")
    def changes(event: DynamoDBEvent) -> list[Any]:
        return [(r.event_name, r.table_name, r.new_image) for r in event]

    @app.on_kinesis_record(stream="clicks")
    def clicks(event: KinesisEvent) -> list[bytes]:
        return [r.data for r in event]

    return app


@pytest.fixture
def client() -> Client:
    return Client(build_app())


def write_config(project: Path, config: dict[str, Any]) -> None:
    (project / ".lambic").mkdir()
    (project / ".lambic" / "config.json").write_text(json.dumps(config), encoding="utf-8")


def test_get_routes_with_path_params_and_query(client: Client) -> None:
    response = client.http.get("/items/a%20b?tag=x&tag=y&empty=")
    assert response.status_code == 200
    body = response.json_body
    assert body["id"] == "a b"
    assert body["query"] == {"tag": "y", "empty": ""}
    assert body["function"] == "shop-dev"


def test_unknown_routes_and_methods_get_api_gateways_403(client: Client) -> None:
    for method, path in (("GET", "/nowhere"), ("DELETE", "/items/1"), ("GET", "/items")):
        response = client.http.request(method, path)
        assert response.status_code == 403
        assert response.body == b'{"message":"Missing Authentication Token"}'
        assert response.json_body == {"message": "Missing Authentication Token"}
        assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
        assert len(response.headers["x-amzn-RequestId"]) == 36


def test_cors_preflight_is_answered_by_the_gateway(client: Client) -> None:
    response = client.http.options("/items")
    assert response.status_code == 200
    assert response.body == b""
    assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert client.http.options("/cookies").status_code == 403


def test_post_json_body_reaches_the_view(client: Client) -> None:
    response = client.http.post(
        "/items", headers={"Content-Type": "application/json"}, body=json.dumps({"n": 1})
    )
    assert response.status_code == 201
    assert response.json_body == {"n": 1}
    assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example"


def test_bad_json_is_a_400_from_the_app(client: Client) -> None:
    response = client.http.post("/items", headers={"Content-Type": "application/json"}, body=b"{")
    assert response.status_code == 400
    assert response.json_body == {"Code": "BadRequestError", "Message": "Error Parsing JSON"}


def test_multi_value_headers_come_back_as_lists(client: Client) -> None:
    response = client.http.get("/cookies")
    assert response.headers["Set-Cookie"] == ["a=1", "b=2"]
    assert response.body == b"ok"
    assert response.json_body is None


def test_binary_bodies_are_decoded_from_base64(client: Client) -> None:
    response = client.http.get("/logo", headers={"Accept": "image/png"})
    assert response.status_code == 200
    assert response.body == b"\x89PNG\x00"


def test_environment_from_config_is_scoped_per_stage_and_function_and_restored(
    tmp_path: Path,
) -> None:
    write_config(
        tmp_path,
        {
            "version": "2.0",
            "app_name": "shop",
            "environment_variables": {"TABLE": "top", "LEVEL": "top"},
            "lambda_functions": {"adder": {"lambda_memory_size": 512}},
            "stages": {
                "dev": {"environment_variables": {"TABLE": "dev-table"}},
                "prod": {
                    "environment_variables": {"TABLE": "prod-table"},
                    "lambda_functions": {"adder": {"environment_variables": {"LEVEL": "fn"}}},
                },
            },
        },
    )
    os.environ.pop("TABLE", None)
    with Client(build_app(), stage_name="dev", project_dir=tmp_path) as client:
        assert client.http.get("/items/1").json_body["env"] == "dev-table"
        dev = client.lambda_.invoke("adder", {"a": 1, "b": 2}).payload
    assert (dev["env"], dev["level"], dev["memory"]) == ("dev-table", "top", "512")
    with Client(build_app(), stage_name="prod", project_dir=str(tmp_path)) as client:
        prod = client.lambda_.invoke("adder", {"a": 1, "b": 2}).payload
        assert client.http.get("/items/1").json_body["env"] == "prod-table"
    assert (prod["env"], prod["level"], prod["function"]) == ("prod-table", "fn", "shop-prod-adder")
    assert "TABLE" not in os.environ and "LEVEL" not in os.environ


def test_environment_is_restored_even_when_the_handler_fails(tmp_path: Path) -> None:
    write_config(tmp_path, {"environment_variables": {"TABLE": "t"}})
    app = Lambic("boom")

    @app.lambda_function()
    def fail(event: Any, context: Any) -> None:
        raise RuntimeError(os.environ["TABLE"])

    os.environ["TABLE"] = "before"
    try:
        with pytest.raises(RuntimeError, match=r"^t$"):
            Client(app, project_dir=tmp_path).lambda_.invoke("fail")
        assert os.environ["TABLE"] == "before"
    finally:
        del os.environ["TABLE"]


def test_aws_credentials_are_set_during_calls_only() -> None:
    os.environ.pop("AWS_ACCESS_KEY_ID", None)
    client = Client(build_app(), aws_credentials={"aws_access_key_id": "AKIDTEST"})
    assert client.lambda_.invoke("adder", {"a": 0, "b": 0}).payload["key"] == "AKIDTEST"
    assert "AWS_ACCESS_KEY_ID" not in os.environ
    with pytest.raises(ValueError, match="not an AWS setting"):
        Client(build_app(), aws_credentials={"password": "x"})


def test_invoke_passes_a_lambda_context_with_defaults(client: Client) -> None:
    payload = client.lambda_.invoke("adder", {"a": 2, "b": 3}).payload
    assert payload["sum"] == 5
    assert payload["function"] == "shop-dev-adder"
    assert payload["memory"] == "128"
    assert 0 < payload["remaining"] <= 60_000


def test_invoke_unknown_function_raises(client: Client) -> None:
    with pytest.raises(FunctionNotFoundError, match="adder"):
        client.lambda_.invoke("nope")


def test_sqs_events_round_trip_with_partial_failures(client: Client) -> None:
    event = client.events.generate_sqs_event(message_bodies=["ok", "bad"], queue_name="jobs")
    records = event["Records"]
    assert records[0]["eventSourceARN"] == "arn:aws:sqs:us-west-2:123456789012:jobs"
    result = client.lambda_.invoke("jobs", event).payload
    assert result == {"batchItemFailures": [{"itemIdentifier": records[1]["messageId"]}]}


def test_s3_events_carry_the_encoded_key_and_handlers_see_it_decoded(client: Client) -> None:
    event = client.events.generate_s3_event(bucket="photos", key="my cat.jpg")
    assert event["Records"][0]["s3"]["object"]["key"] == "my+cat.jpg"
    assert event["Records"][0]["eventName"] == "ObjectCreated:Put"
    assert client.lambda_.invoke("photo", event).payload == ["photos", "my cat.jpg"]


def test_sns_messages_have_subject_and_attributes(client: Client) -> None:
    event = client.events.generate_sns_message(
        "hello",
        subject="greeting",
        message_attributes={"k": {"DataType": "String", "StringValue": "v"}},
    )
    assert event["Records"][0]["Sns"]["MessageAttributes"] == {
        "k": {"Type": "String", "Value": "v"}
    }
    assert client.lambda_.invoke("alert", event).payload == ["hello", "greeting"]
    assert client.events.generate_sns_event("x")["Records"][0]["Sns"]["Subject"] == ""


def test_cw_events_use_chalice_signature(client: Client) -> None:
    event = client.events.generate_cw_event(
        source="my.app", detail_type="Thing", detail={"a": 1}, resources=["r"], region="eu-west-1"
    )
    assert (event["source"], event["detail-type"], event["region"]) == (
        "my.app",
        "Thing",
        "eu-west-1",
    )
    assert event["version"] == "0"


def test_dynamodb_and_kinesis_events_reach_handlers(client: Client) -> None:
    image = {"id": {"S": "1"}, "name": {"S": "Ann"}}
    event = client.events.generate_dynamodb_event(
        event_name="INSERT", keys={"id": {"S": "1"}}, new_image=image, table_name="Users"
    )
    assert client.lambda_.invoke("changes", event).payload == [("INSERT", "Users", image)]
    with pytest.raises(ValueError, match="keys="):
        client.events.generate_dynamodb_event()
    kinesis = client.events.generate_kinesis_event([b"a", b"b"], stream_name="clicks")
    assert client.lambda_.invoke("clicks", kinesis).payload == [b"a", b"b"]


def test_http_response_from_a_proxy_dict() -> None:
    response = HTTPResponse.create_from_dict(
        {
            "statusCode": 204,
            "headers": {"A": "1"},
            "multiValueHeaders": {"B": ["1", "2"]},
            "body": None,
        }
    )
    assert (response.status_code, response.body, response.headers) == (
        204,
        b"",
        {"A": "1", "B": ["1", "2"]},
    )


def _differential_app(module: Any) -> Any:
    app = module.Chalice("diff")

    @app.route("/")
    def index() -> Any:
        return {"hello": "world"}

    @app.route("/items/{x}", methods=["GET", "PUT"], cors=True)
    def item(x: str) -> Any:
        request = app.current_request
        return {"x": x, "q": request.query_params, "body": request.json_body}

    @app.route("/err")
    def err() -> Any:
        raise module.NotFoundError("nope")

    @app.route("/resp")
    def resp() -> Any:
        return module.Response(body="hi", status_code=202, headers={"X-A": "1"})

    @app.lambda_function()
    def fn(event: Any, context: Any) -> Any:
        return {"event": event}

    @app.on_sqs_message(queue="q")
    def sq(event: Any) -> Any:
        return [r.body for r in event]

    return app


def test_answers_like_chalices_test_client_where_chalice_is_faithful() -> None:
    chalice = pytest.importorskip("chalice")
    chalice_test = pytest.importorskip("chalice.test")
    import lambic.app

    requests: list[tuple[str, str, dict[str, str], bytes]] = [
        ("GET", "/", {}, b""),
        ("GET", "/items/1?z=1&z=2", {}, b""),
        ("PUT", "/items/1", {"Content-Type": "application/json"}, b'{"a": 1}'),
        ("PUT", "/items/1", {"Content-Type": "application/json"}, b"{bad"),
        ("PUT", "/items/1", {"Content-Type": "text/plain"}, b"x"),
        ("GET", "/err", {}, b""),
        ("GET", "/resp", {}, b""),
    ]
    with (
        chalice_test.Client(_differential_app(chalice)) as theirs,
        Client(_differential_app(lambic.app)) as ours,
    ):
        for method, path, headers, body in requests:
            expected = theirs.http.request(method, path, headers=headers, body=body)
            got = ours.http.request(method, path, headers=headers, body=body)
            assert (got.status_code, got.body, got.headers) == (
                expected.status_code,
                expected.body,
                expected.headers,
            ), (method, path)
        assert (
            ours.lambda_.invoke("fn", {"a": 1}).payload
            == theirs.lambda_.invoke("fn", {"a": 1}).payload
        )
        bodies = ["x", "y"]
        assert ours.lambda_.invoke("sq", ours.events.generate_sqs_event(bodies)).payload == (
            theirs.lambda_.invoke("sq", theirs.events.generate_sqs_event(bodies)).payload
        )
        # Where Chalice's local gateway is not API Gateway, we follow API Gateway:
        # unknown methods are 403 (Chalice: 405) and path params arrive URL-decoded.
        assert ours.http.post("/").status_code == 403
        assert ours.http.get("/items/a%20b").json_body["x"] == "a b"
