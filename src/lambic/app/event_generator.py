"""Sample events from short names: what a test or `lambic generate-event` asks for.

`event_payloads` and `proxy_events` build AWS's shapes from full ARNs and every
field; a person asking for "an S3 event for photos/cat.jpg" or "an SQS batch from
the jobs queue" gives names. `EventGenerator` is the one place that turns those names
into the ARNs of an account and region and calls the builders, so the test client
(`client.events.generate_*`, Chalice's sample account and region) and
`lambic generate-event` (the local cloud's account and region) produce the same
shape for the same inputs:

    >>> generator = EventGenerator(region="us-east-1", account_id="000000000000")
    >>> generator.sqs(bodies=["job-1"], queue="jobs")["Records"][0]["eventSourceARN"]
    'arn:aws:sqs:us-east-1:000000000000:jobs'
    >>> generator.schedule(rule="nightly")["resources"]
    ['arn:aws:events:us-east-1:000000000000:rule/nightly']

A name that already is an ARN is used as given. Ids and times are fresh per call, as
on AWS; `ValueError` says which input AWS would not send (an unknown event name).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lambic.app._event_limits import S3_EVENT_TYPES
from lambic.app.event_payloads import (
    create_dynamodb_event,
    create_dynamodb_record,
    create_eventbridge_event,
    create_kinesis_event,
    create_kinesis_record,
    create_s3_event,
    create_s3_record,
    create_scheduled_event,
    create_sns_event,
    create_sns_record,
    create_sqs_event,
    create_sqs_record,
)
from lambic.app.http_api_events import create_http_api_event
from lambic.app.proxy_events import create_rest_event
from lambic.app.websockets import create_websocket_event

__all__ = ["DYNAMODB_EVENT_NAMES", "S3_EVENT_NAMES", "STREAM_LABEL", "EventGenerator"]

#: The event names an S3 notification record carries: the notification types without
#: the `s3:` prefix and without the `*` wildcards, which only subscriptions use.
S3_EVENT_NAMES = frozenset(
    name.removeprefix("s3:") for name in S3_EVENT_TYPES if not name.endswith("*")
)
#: A DynamoDB stream record's `eventName`.
DYNAMODB_EVENT_NAMES = ("INSERT", "MODIFY", "REMOVE")
#: The stream label of a generated DynamoDB stream ARN (a table's stream creation time).
STREAM_LABEL = "2026-01-01T00:00:00.000"


@dataclass(frozen=True)
class EventGenerator:
    """Builds events for resources named in one account and region."""

    region: str
    account_id: str

    def arn(self, service: str, name: str, *, kind: str = "") -> str:
        """`name` as an ARN of `service` here (`name` unchanged when it is an ARN).

        `kind` is the resource type's path prefix (`rule/`, `table/`, `stream/`).
        """
        if name.startswith("arn:"):
            return name
        return f"arn:aws:{service}:{self.region}:{self.account_id}:{kind}{name}"

    def s3(
        self, *, bucket: str, key: str, event_name: str = "ObjectCreated:Put", size: int = 0
    ) -> dict[str, Any]:
        """An S3 notification for `key` (given decoded; encoded in the payload as S3 does)."""
        name = event_name.removeprefix("s3:")
        if name not in S3_EVENT_NAMES:
            raise ValueError(
                f"unknown S3 event name {event_name!r}; use one of "
                + ", ".join(sorted(S3_EVENT_NAMES))
            )
        record = create_s3_record(
            bucket=bucket, key=key, event_name=name, size=size, region=self.region
        )
        return create_s3_event([record])

    def sqs(self, *, bodies: Iterable[str], queue: str) -> dict[str, Any]:
        """A batch with one SQS record per body from `queue` (a name or an ARN)."""
        queue_arn = self.arn("sqs", queue)
        return create_sqs_event(create_sqs_record(body=b, queue_arn=queue_arn) for b in bodies)

    def sns(
        self,
        *,
        message: str,
        topic: str,
        subject: str | None = None,
        message_attributes: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """An SNS notification from `topic` (a name or an ARN); attributes in Publish form."""
        record = create_sns_record(
            message=message,
            subject=subject,
            topic_arn=self.arn("sns", topic),
            message_attributes=message_attributes,
        )
        return create_sns_event(record)

    def eventbridge(
        self,
        *,
        source: str,
        detail_type: str,
        detail: Mapping[str, Any],
        resources: Sequence[str] = (),
        region: str | None = None,
    ) -> dict[str, Any]:
        """An EventBridge event as a rule target receives it."""
        return create_eventbridge_event(
            source=source,
            detail_type=detail_type,
            detail=detail,
            resources=resources,
            region=self.region if region is None else region,
            account=self.account_id,
        )

    def schedule(self, *, rule: str) -> dict[str, Any]:
        """The Scheduled Event rule `rule` (a name or an ARN) sends when it fires now."""
        return create_scheduled_event(rule_arn=self.arn("events", rule, kind="rule/"))

    def dynamodb(
        self,
        *,
        table: str,
        event_name: str = "INSERT",
        keys: Mapping[str, Any] | None = None,
        new_image: Mapping[str, Any] | None = None,
        old_image: Mapping[str, Any] | None = None,
        stream_view_type: str = "NEW_AND_OLD_IMAGES",
    ) -> dict[str, Any]:
        """A stream batch with one record of `table` (a name, a table or stream ARN); values
        in DynamoDB JSON ({"S": "x"}).

        Without `keys` the whole image stands in for them, as a quick sample needs.
        """
        if event_name not in DYNAMODB_EVENT_NAMES:
            raise ValueError(
                f"unknown DynamoDB event name {event_name!r}; use INSERT, MODIFY or REMOVE"
            )
        if keys is None:
            image = new_image if new_image is not None else old_image
            if not image:
                raise ValueError("a DynamoDB record needs keys= or an image to take them from")
            keys = image
        stream_arn = self.arn("dynamodb", table, kind="table/")
        if "/stream/" not in stream_arn:  # a table, not one of its streams
            stream_arn = f"{stream_arn}/stream/{STREAM_LABEL}"
        record = create_dynamodb_record(
            event_name=event_name,
            keys=keys,
            new_image=new_image,
            old_image=old_image,
            stream_arn=stream_arn,
            stream_view_type=stream_view_type,
        )
        return create_dynamodb_event([record])

    def kinesis(self, *, bodies: Iterable[bytes], stream: str) -> dict[str, Any]:
        """A Kinesis batch with one record per body (base64-encoded in the payload)."""
        stream_arn = self.arn("kinesis", stream, kind="stream/")
        return create_kinesis_event(
            create_kinesis_record(data=b, stream_arn=stream_arn) for b in bodies
        )

    def rest_api(
        self,
        *,
        method: str,
        path: str,
        stage: str,
        headers: Sequence[tuple[str, str]] = (),
        query: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
    ) -> dict[str, Any]:
        """An API Gateway REST (v1) proxy event for a request to `path`.

        No app is consulted, so the resource is the path itself and there are no path
        parameters; the test client's `http` matches routes for those.
        """
        return create_rest_event(
            method=method,
            path=path,
            resource_path=path,
            path_params=None,
            query=query,
            headers=headers,
            body=body,
            binary_types=(),
            stage=stage,
            account_id=self.account_id,
        )

    def http_api(
        self,
        *,
        method: str,
        path: str,
        stage: str,
        headers: Sequence[tuple[str, str]] = (),
        query: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
    ) -> dict[str, Any]:
        """An API Gateway HTTP API (payload 2.0) event for a request to `path`.

        As `rest_api`, no app is consulted: the route key is the request itself
        ("GET /users/42") and there are no path parameters.
        """
        return create_http_api_event(
            method=method,
            path=path,
            stage=stage,
            headers=headers,
            query=query,
            body=body,
            account_id=self.account_id,
            region=self.region,
        )

    def websocket(
        self,
        *,
        route_key: str,
        connection_id: str,
        stage: str,
        api_id: str,
        body: str | None = None,
        is_base64: bool = False,
        headers: Sequence[tuple[str, str]] = (),
        query: Sequence[tuple[str, str]] = (),
        disconnect_status: int = 1000,
    ) -> dict[str, Any]:
        """An API Gateway WebSocket event: `$connect` (with the handshake's headers and
        query), `$disconnect` (with the close code), or a message to any other route key
        (with `body`). The API is `api_id`'s execute-api domain in this region."""
        import base64
        import secrets
        import time

        from lambic.app.websockets import CONNECT_ROUTE, DISCONNECT_ROUTE

        now_ms = int(time.time() * 1000)
        domain_name = f"{api_id}.execute-api.{self.region}.amazonaws.com"
        request_id = base64.b64encode(secrets.token_bytes(6)).decode("ascii")
        extra: dict[str, Any] = {}
        if route_key == CONNECT_ROUTE:
            extra["headers"] = [("Host", domain_name), *headers]
            extra["query"] = list(query)
        elif route_key == DISCONNECT_ROUTE:
            extra["headers"] = [("Host", domain_name)]
            extra["disconnect_status"] = disconnect_status
        else:
            extra["body"] = body if body is not None else ""
            extra["is_base64"] = is_base64
            extra["message_id"] = base64.b64encode(secrets.token_bytes(11)).decode("ascii")
        return create_websocket_event(
            route_key,
            connection_id=connection_id,
            connected_at_ms=now_ms,
            domain_name=domain_name,
            stage=stage,
            api_id=api_id,
            request_id=request_id,
            extended_request_id=request_id,
            now_ms=now_ms,
            source_ip="127.0.0.1",
            **extra,
        )
