"""What every event-source adapter shares: the contract, the account, accepting events.

An adapter connects the handlers of one kind to the thing that feeds them and is an
`EventSource`: `await start()` wires it (creating buckets, topics and queues a handler
names, as the deploy would), `await stop()` unwires it. Asynchronous adapters
(schedule, EventBridge, S3, SNS) hand each event to `accept()`, which commits it to
the durable `AsyncEventQueue` before returning; polling adapters (SQS, DynamoDB
streams, Kinesis) invoke synchronously through an `Invoke`.

Errors: `UnsupportedEventSourceError` (a `LambicRuntimeError`) for a handler the local
cloud cannot feed: an unsupported kind, a resource the service refuses, or a handler
whose service is not running.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from lambic.project.account import LOCAL_ACCOUNT_ID, LOCAL_REGION, function_arn
from lambic.project.manifest import FunctionEntry
from lambic.runtime._batches import Invoke
from lambic.runtime.errors import LambicRuntimeError

SUPPORTED_KINDS = frozenset(
    {
        "api",
        "lambda",
        "authorizer",
        "websocket",
        "schedule",
        "cloudwatch",
        "s3",
        "sqs",
        "sns",
        "dynamodb",
        "kinesis",
    }
)
# Kinds invoked by a gateway (HTTP, WebSocket): no event source, no async event worker.
SYNC_KINDS = frozenset({"api", "authorizer", "websocket"})

# Handler kind -> (the local service that feeds it, its decorator), for the error a
# user sees when that service is not running.
_FEEDING_SERVICE = {
    "cloudwatch": ("events", "@app.on_cw_event"),
    "s3": ("s3", "@app.on_s3_event"),
    "sns": ("sns", "@app.on_sns_message"),
    "sqs": ("sqs", "@app.on_sqs_message"),
    "dynamodb": ("dynamodb", "@app.on_dynamodb_record"),
    "kinesis": ("kinesis", "@app.on_kinesis_record"),
}


E = TypeVar("E")
R = TypeVar("R")  # what one batch reports


class UnsupportedEventSourceError(LambicRuntimeError):
    """app.py declares an event source the local cloud cannot feed."""


class EventSource(Protocol):
    """One kind of event source, wired to its handlers between `start` and `stop`."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class EventQueue(Protocol):
    """Where asynchronous invocations are accepted (`AsyncEventQueue`)."""

    def enqueue(self, function: str, payload: bytes, *, request_id: str, source: str) -> int: ...


@dataclass(frozen=True)
class Account:
    """The local account every ARN is built in."""

    app_name: str
    stage: str
    region: str = LOCAL_REGION
    account_id: str = LOCAL_ACCOUNT_ID

    def function_arn(self, function: str) -> str:
        """The ARN of a function as the deployer names it (`<app>-<stage>-<function>`);
        `function_arn("")` is the prefix every function of this app and stage shares."""
        return function_arn(
            f"{self.app_name}-{self.stage}-{function}",
            region=self.region,
            account_id=self.account_id,
        )


class QueuedSource(Generic[E]):
    """An asynchronous source: its handlers, the service that feeds them (`E`, typed
    per adapter), the durable queue their events go to, and the account ARNs use."""

    def __init__(
        self, functions: Iterable[FunctionEntry], engine: E, queue: EventQueue, account: Account
    ) -> None:
        self._functions = list(functions)
        self._engine = engine
        self._queue = queue
        self._account = account


class ListeningSource(QueuedSource[E]):
    """A queued source fed by a callback on its engine, routing by function ARN."""

    def __init__(
        self, functions: Iterable[FunctionEntry], engine: E, queue: EventQueue, account: Account
    ) -> None:
        super().__init__(functions, engine, queue, account)
        self._targets: dict[str, str] = {}  # function ARN -> short name
        self._unlisten: Callable[[], None] | None = None

    def _listen(
        self, add: Callable[[Any], None], remove: Callable[[Any], None], callback: Any
    ) -> None:
        add(callback)
        self._unlisten = lambda: remove(callback)

    async def stop(self) -> None:
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        self._targets.clear()


class Poller(Protocol):
    """One event source mapping: started once, stopped (awaited) once."""

    def start(self) -> None: ...

    async def stop(self) -> None: ...


class PollingSource(Generic[E, R]):
    """A polled source: one mapping per handler invokes it synchronously with batches
    read from the engine (`E`), reporting each batch's outcome (`R`)."""

    def __init__(
        self,
        functions: Iterable[FunctionEntry],
        engine: E,
        invoke: Invoke,
        report: Callable[[R], None] | None,
    ) -> None:
        self._functions = list(functions)
        self._engine = engine
        self._invoke = invoke
        self._report = report
        self.mappings: list[Poller] = []

    def _run(self, mapping: Poller) -> None:
        mapping.start()
        self.mappings.append(mapping)

    async def stop(self) -> None:
        for mapping in self.mappings:
            await mapping.stop()
        self.mappings.clear()


def accept(queue: EventQueue, function: str, event: Mapping[str, Any], *, source: str) -> str:
    """Accept an asynchronous invocation of `function`, durable before this returns;
    the request id the invocation will run under."""
    request_id = str(uuid.uuid4())
    payload = json.dumps(event, separators=(",", ":")).encode("utf-8")
    queue.enqueue(function, payload, request_id=request_id, source=source)
    return request_id


def handlers(functions: Iterable[FunctionEntry], kind: str) -> list[FunctionEntry]:
    """The functions of one handler kind, in manifest order."""
    return [function for function in functions if function.kind == kind]


def settings(function: FunctionEntry) -> Mapping[str, Any]:
    """A handler's event-source settings from the app manifest."""
    if not function.event_source:
        raise UnsupportedEventSourceError(
            f"{function.handler} has no event source settings in the app manifest"
        )
    return function.event_source


def check_supported(functions: Iterable[FunctionEntry], supported: frozenset[str]) -> None:
    """Refuse to start with an event source that would silently never fire."""
    for function in functions:
        if function.kind not in supported:
            raise UnsupportedEventSourceError(
                f"{function.handler} is a {function.kind} event handler, which `lambic local` "
                f"cannot feed yet; remove it or run it with `lambic invoke -n {function.name} "
                "--payload-file EVENT.json`"
            )


def feeding_services(functions: Iterable[FunctionEntry]) -> set[str]:
    """The local services the handlers of `functions` are fed from (`s3`, `events`...)."""
    return {
        _FEEDING_SERVICE[function.kind][0]
        for function in functions
        if function.kind in _FEEDING_SERVICE
    }


def check_services(functions: Iterable[FunctionEntry], running: Collection[str]) -> None:
    """Refuse handlers whose local service is not running (`--no-services`)."""
    for function in functions:
        feeding = _FEEDING_SERVICE.get(function.kind)
        if feeding is not None and feeding[0] not in running:
            raise UnsupportedEventSourceError(
                f"app.py has {feeding[1]} handlers but the local services are not running; "
                "start `lambic local` without --no-services"
            )
