"""The SNS service object the edge calls: query form in, engine call, XML out."""

from __future__ import annotations

import logging
import uuid
from typing import Any
from urllib.parse import parse_qsl

from lambic.services._metering import Meter, chunks_64k
from lambic.services.base import ServiceRequest, ServiceResponse
from lambic.services.sns import protocol
from lambic.services.sns._checks import message_size, parse_attributes
from lambic.services.sns.engine import SnsEngine
from lambic.services.sns.errors import SnsError, invalid_action, not_implemented
from lambic.services.sns.operations import OPERATIONS, UNSERVED

_log = logging.getLogger(__name__)
_XML = "text/xml"


class SnsService:
    """SNS behind the edge port; `engine` is the in-process API other layers use."""

    name = "sns"

    def __init__(self, engine: SnsEngine, *, meter: Meter | None = None) -> None:
        self.engine = engine
        self.meter = meter
        # Deliveries are counted where they happen, in the engine.
        engine.meter = meter

    async def handle(self, request: ServiceRequest) -> ServiceResponse:
        request_id = str(uuid.uuid4())
        fields = list(request.query_params)
        if request.method == "POST":
            fields += parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True)
        action, params = protocol.parse_form(fields)
        if request.host:
            # Links in notifications (SubscribeURL, UnsubscribeURL) use the client's Host.
            self.engine.base_url = f"http://{request.host}"
        try:
            operation = OPERATIONS.get(action)
            if operation is None:
                raise not_implemented(action) if action in UNSERVED else invalid_action(action)
            result = operation(self.engine, params)
            if self.meter is not None and action in ("Publish", "PublishBatch"):
                self._meter_publish(self.meter, action, params)
        except SnsError as error:
            body = protocol.render_error(error.code, error.message, error.sender_fault, request_id)
            return _response(error.status, body, request_id)
        except Exception:
            _log.exception("SNS request failed unexpectedly")
            body = protocol.render_error(
                "InternalError", "The request processing has failed.", False, request_id
            )
            return _response(500, body, request_id)
        if result is None:
            return _response(200, protocol.render_empty(action, request_id), request_id)
        return _response(200, protocol.render_result(action, result, request_id), request_id)

    @staticmethod
    def _meter_publish(meter: Meter, action: str, params: dict[str, Any]) -> None:
        # AWS bills each 64 KB chunk of published data as one request; a batch of
        # up to ten messages is one request for its whole payload.
        entries = (
            params.get("PublishBatchRequestEntries") or [] if action == "PublishBatch" else [params]
        )
        size = sum(
            message_size(str(e.get("Message") or ""), parse_attributes(e.get("MessageAttributes")))
            for e in entries
        )
        topic = str(params.get("TopicArn") or params.get("TargetArn") or "sms").rsplit(":", 1)[-1]
        meter.add("sns", topic, "publishes", chunks_64k(size))

    def close(self) -> None:
        self.engine.close()


def _response(status: int, body: bytes, request_id: str) -> ServiceResponse:
    headers = [
        ("Content-Type", _XML),
        ("x-amzn-RequestId", request_id),
        ("Content-Length", str(len(body))),
    ]
    return ServiceResponse(status, headers, body)
