"""`lambic generate-event SOURCE`: print a sample Lambda event as JSON, for `lambic invoke`.

    lambic generate-event s3 --bucket photos --key cat.jpg | lambic invoke -n on_upload

One subcommand per event source, as `sam local generate-event` has, each a thin
mapping from options to `lambic.app.event_generator.EventGenerator`, the builder the
test client's `client.events.generate_*` uses too, so an event printed here has the
shape a handler gets in a unit test, under `lambic local` and on AWS.

Which account and region: the test client names resources in AWS's sample account
(123456789012) and Chalice's us-west-2, to match Chalice's tests. These events are
meant for `lambic invoke` against the local cloud, where every resource lives in
`lambic.project.account`'s account (000000000000) and region, so they are built there:
an ARN in the event then names the local queue, topic or table the handler may call
back. A name given as a full ARN is used as is.

API Gateway events: `apigateway` (REST API, payload 1.0), `apigateway-http` (HTTP API,
payload 2.0, `lambic.app.http_api_events`) and `websocket` (a WebSocket API's
`$connect`, message or `$disconnect`, the builder `lambic local` and the test client
use).

Bad input (malformed JSON, an event name AWS never sends) is one line, exit 2.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import click

from lambic.app.event_generator import DYNAMODB_EVENT_NAMES, EventGenerator
from lambic.app.http_api_events import DEFAULT_STAGE
from lambic.app.websockets import CONNECT_ROUTE, DEFAULT_ROUTE, DISCONNECT_ROUTE
from lambic.cli.errors import CLIError
from lambic.project.account import LOCAL_ACCOUNT_ID, LOCAL_REGION
from lambic.project.config import DEFAULT_API_GATEWAY_STAGE

#: The API id generated WebSocket events name (a deployed API's id has this form).
SAMPLE_WEBSOCKET_API_ID = "abcdef1234"

__all__ = ["generate_event"]

_LOCAL = EventGenerator(region=LOCAL_REGION, account_id=LOCAL_ACCOUNT_ID)
# DynamoDB JSON's type descriptors ({"S": "x"}, {"N": "1"}, ...).
_DYNAMODB_TYPES = frozenset({"S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M"})


def _emit(event: dict[str, Any]) -> None:
    click.echo(json.dumps(event, indent=2))


def _json_object(text: str, option: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise CLIError(f"{option} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise CLIError(f"{option} must be a JSON object, got {text!r}")
    return value


def _dynamodb_item(text: str | None, option: str) -> dict[str, Any] | None:
    if text is None:
        return None
    item = _json_object(text, option)
    for name, value in item.items():
        # The builders size records by these descriptors; plain JSON would fail deep
        # inside them, so it is refused here with the form to use.
        if not (isinstance(value, dict) and len(value) == 1 and set(value) <= _DYNAMODB_TYPES):
            raise CLIError(
                f'{option} must be in DynamoDB JSON, e.g. \'{{"id": {{"S": "1"}}}}\'; '
                f"attribute {name!r} is {json.dumps(value)}"
            )
    return item


def _pairs(values: Sequence[str], option: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name:
            raise CLIError(f"{option} takes NAME=VALUE, got {value!r}")
        pairs.append((name, rest))
    return pairs


def _build(build: Callable[[], dict[str, Any]]) -> None:
    """Build the event and print it; the builder's ValueError is the user's mistake."""
    try:
        event = build()
    except ValueError as exc:
        raise CLIError(str(exc)) from exc
    _emit(event)


@click.group("generate-event", subcommand_metavar="SOURCE [ARGS]...")
def generate_event() -> None:
    """Print a sample Lambda event for SOURCE as JSON on stdout.

    The events name resources in the local cloud's account and region; pipe one into
    `lambic invoke -n NAME` to run a handler with it.
    """


@generate_event.command("s3")
@click.option("--bucket", required=True, help="The bucket name.")
@click.option("--key", required=True, help="The object key, unencoded.")
@click.option(
    "--event-name",
    default="ObjectCreated:Put",
    show_default=True,
    help="The S3 event (ObjectRemoved:Delete, ...).",
)
@click.option("--size", type=click.IntRange(min=0), default=0, show_default=True)
def s3(bucket: str, key: str, event_name: str, size: int) -> None:
    """An S3 event notification for one object."""
    _build(lambda: _LOCAL.s3(bucket=bucket, key=key, event_name=event_name, size=size))


@generate_event.command("sqs")
@click.option("--queue", required=True, help="The queue name or ARN.")
@click.option(
    "--body", "bodies", multiple=True, required=True, help="A message body; repeat for more."
)
def sqs(queue: str, bodies: tuple[str, ...]) -> None:
    """A batch of SQS messages, one record per --body."""
    _build(lambda: _LOCAL.sqs(queue=queue, bodies=list(bodies)))


@generate_event.command("sns")
@click.option("--topic", required=True, help="The topic name or ARN.")
@click.option("--message", required=True, help="The message.")
@click.option("--subject", default=None, help="The subject (null when not given).")
def sns(topic: str, message: str, subject: str | None) -> None:
    """An SNS notification."""
    _build(lambda: _LOCAL.sns(topic=topic, message=message, subject=subject))


@generate_event.command("eventbridge")
@click.option("--source", required=True, help="The event's source (myapp.orders).")
@click.option("--detail-type", required=True, help="The event's detail-type.")
@click.option("--detail", default="{}", show_default=True, help="The detail, a JSON object.")
def eventbridge(source: str, detail_type: str, detail: str) -> None:
    """An EventBridge event as a rule target receives it."""
    _build(
        lambda: _LOCAL.eventbridge(
            source=source,
            detail_type=detail_type,
            detail=_json_object(detail, "--detail"),
        )
    )


@generate_event.command("schedule")
@click.option("--rule", required=True, help="The rule name or ARN.")
def schedule(rule: str) -> None:
    """The Scheduled Event a schedule rule sends."""
    _build(lambda: _LOCAL.schedule(rule=rule))


@generate_event.command("dynamodb")
@click.option("--table", required=True, help="The table name or ARN.")
@click.option(
    "--event-name", default="INSERT", show_default=True, help=" | ".join(DYNAMODB_EVENT_NAMES)
)
@click.option("--keys", default=None, help="The keys in DynamoDB JSON (default: the image).")
@click.option("--new-image", default=None, help="The new image in DynamoDB JSON.")
@click.option("--old-image", default=None, help="The old image in DynamoDB JSON.")
def dynamodb(
    table: str,
    event_name: str,
    keys: str | None,
    new_image: str | None,
    old_image: str | None,
) -> None:
    """A DynamoDB stream batch with one record (NEW_AND_OLD_IMAGES)."""
    _build(
        lambda: _LOCAL.dynamodb(
            table=table,
            event_name=event_name,
            keys=_dynamodb_item(keys, "--keys"),
            new_image=_dynamodb_item(new_image, "--new-image"),
            old_image=_dynamodb_item(old_image, "--old-image"),
        )
    )


def _http_request_options(stage_default: str, stage_help: str) -> Callable[[Any], Any]:
    """The options both API Gateway event kinds take (the request, then the stage)."""

    def decorate(command: Any) -> Any:
        for option in reversed(
            (
                click.option("--method", default="GET", show_default=True, help="The HTTP method."),
                click.option("--path", required=True, help="The request path (/users/42)."),
                click.option("--body", default="", help="The request body."),
                click.option("--header", "headers", multiple=True, help="NAME=VALUE; repeatable."),
                click.option("--query", "query", multiple=True, help="NAME=VALUE; repeatable."),
                click.option(
                    "--api-stage", default=stage_default, show_default=True, help=stage_help
                ),
            )
        ):
            command = option(command)
        return command

    return decorate


def _http_request(
    method: str, path: str, body: str, headers: tuple[str, ...], query: tuple[str, ...]
) -> dict[str, Any]:
    """The builders' request arguments from the options, checked."""
    if not path.startswith("/"):
        raise CLIError(f"--path must start with '/', got {path!r}")
    return {
        "method": method,
        "path": path,
        "headers": _pairs(headers, "--header"),
        "query": _pairs(query, "--query"),
        "body": body.encode("utf-8"),
    }


@generate_event.command("apigateway")
@_http_request_options(DEFAULT_API_GATEWAY_STAGE, "The API Gateway stage the event reports.")
def apigateway(
    method: str,
    path: str,
    body: str,
    headers: tuple[str, ...],
    query: tuple[str, ...],
    api_stage: str,
) -> None:
    """An API Gateway REST API (payload 1.0) proxy event."""
    request = _http_request(method, path, body, headers, query)
    _build(lambda: _LOCAL.rest_api(stage=api_stage, **request))


@generate_event.command("apigateway-http")
@_http_request_options(DEFAULT_STAGE, "The HTTP API stage ($default is served at the root).")
def apigateway_http(
    method: str,
    path: str,
    body: str,
    headers: tuple[str, ...],
    query: tuple[str, ...],
    api_stage: str,
) -> None:
    """An API Gateway HTTP API (payload 2.0) event."""
    request = _http_request(method, path, body, headers, query)
    _build(lambda: _LOCAL.http_api(stage=api_stage, **request))


@generate_event.command("websocket")
@click.option(
    "--route",
    default=DEFAULT_ROUTE,
    show_default=True,
    help=f"{CONNECT_ROUTE} | {DISCONNECT_ROUTE} | a message's route key.",
)
@click.option("--body", default="", help="A message's body (message routes only).")
@click.option("--connection-id", default="ZXhhbXBsZWNvbm4=", show_default=True)
@click.option("--header", "headers", multiple=True, help="NAME=VALUE ($connect only).")
@click.option("--query", "query", multiple=True, help="NAME=VALUE ($connect only).")
@click.option(
    "--api-stage",
    default=DEFAULT_API_GATEWAY_STAGE,
    show_default=True,
    help="The WebSocket API stage the event reports.",
)
@click.option("--api-id", default=SAMPLE_WEBSOCKET_API_ID, show_default=True)
def websocket(
    route: str,
    body: str,
    connection_id: str,
    headers: tuple[str, ...],
    query: tuple[str, ...],
    api_stage: str,
    api_id: str,
) -> None:
    """An API Gateway WebSocket API event ($connect, a message, $disconnect)."""
    is_message = route not in (CONNECT_ROUTE, DISCONNECT_ROUTE)
    if not is_message and body:
        raise CLIError(f"--body is for message routes; {route} events carry no body")
    if route != CONNECT_ROUTE and (headers or query):
        raise CLIError(f"--header and --query are for {CONNECT_ROUTE}, which carries the handshake")
    _build(
        lambda: _LOCAL.websocket(
            route_key=route,
            connection_id=connection_id,
            stage=api_stage,
            api_id=api_id,
            body=body if is_message else None,
            headers=_pairs(headers, "--header"),
            query=_pairs(query, "--query"),
        )
    )
