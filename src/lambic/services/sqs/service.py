"""The SQS service object the edge calls: protocol in, engine call, protocol out."""

from __future__ import annotations

import logging
import uuid

from lambic.services._metering import Meter
from lambic.services.base import ServiceRequest, ServiceResponse
from lambic.services.sqs import protocol
from lambic.services.sqs._metering import billed_requests, metric_and_queue
from lambic.services.sqs.engine import SqsEngine
from lambic.services.sqs.errors import SqsError, invalid_action
from lambic.services.sqs.operations import OPERATIONS, Context

_log = logging.getLogger(__name__)


class SqsService:
    """SQS behind the edge port; `engine` is the in-process API other services use."""

    name = "sqs"

    def __init__(self, engine: SqsEngine, *, meter: Meter | None = None) -> None:
        self.engine = engine
        self.meter = meter

    async def handle(self, request: ServiceRequest) -> ServiceResponse:
        request_id = str(uuid.uuid4())
        json_protocol = protocol.is_json(request)
        parsed: protocol.ParsedRequest | None = None
        result = None
        try:
            parsed = protocol.parse_request(request)
            operation = OPERATIONS.get(parsed.action)
            if operation is None:
                raise invalid_action(parsed.action)
            context = Context(base_url=f"http://{request.host or 'localhost'}", path=request.path)
            result = await operation(self.engine, parsed.params, context)
        except SqsError as error:
            return protocol.render_error(json_protocol, error, request_id)
        except Exception:
            _log.exception("SQS request failed unexpectedly")
            internal = SqsError(
                "InternalError",
                "We encountered an internal error. Please try again.",
                query_code="InternalError",
                status=500,
                sender_fault=False,
            )
            return protocol.render_error(json_protocol, internal, request_id)
        finally:
            # AWS bills an API action whether or not it succeeded.
            if self.meter is not None and parsed is not None and parsed.action in OPERATIONS:
                metric, queue = metric_and_queue(parsed.params, request.path)
                billed = billed_requests(parsed.action, parsed.params, result)
                self.meter.add("sqs", queue, metric, billed)
        return protocol.render_result(parsed, result, request_id)

    def close(self) -> None:
        self.engine.close()
