"""What `lambic local` runs beside the gateway: the local services and the event sources.

Both are `CloudComponent`s (`async start(cloud)`, `async stop()`), started by
`LocalCloud` in this order: `LocalServices` first (it puts `AWS_ENDPOINT_URL` and
friends into `cloud.extra_env` before any execution environment exists, so
`boto3.client("s3")` inside a function talks to the local cloud), then the invoker,
then `LiveEventSources` (which needs the invoker and the services' engines).

`LocalServices` also serves Lambda's API on the edge (`lambda_api.LambdaApi`), backed
by `cloud.invoker` once it exists; `LiveEventSources` hands it the durable async
queue, so `invoke(InvocationType="Event")` gets the same retries and destinations as
an S3 or SNS event.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lambic._sockets import PortInUseError
from lambic.project.account import (
    DEFAULT_SERVICES_PORT,
    LOCAL_ACCOUNT_ID,
    LOCAL_REGION,
    function_arn,
)
from lambic.project.config import AsyncSettings, FunctionSettings, deployed_name
from lambic.project.environ import LOCAL_CREDENTIALS
from lambic.project.manifest import FunctionEntry
from lambic.project.metering import Meter, create_meter
from lambic.project.paths import LOCAL_ENDPOINT_FILE, SERVICES_LOCK_FILE, ProjectPaths
from lambic.project.resources import (
    DeclaredResources,
    handler_reference,
    undeclared,
    undeclared_message,
)
from lambic.runtime.async_queue import AsyncEventQueue, Delivery, FailedEvent
from lambic.runtime.endpoint_file import (
    ServicesLock,
    live_endpoint,
    remove_endpoint,
    write_endpoint,
)
from lambic.runtime.errors import LambicRuntimeError, ServicesInUseError
from lambic.runtime.event_sources import Account, Engines, EventSources, create_event_sources
from lambic.runtime.event_sources.base import (
    SYNC_KINDS,
    EventQueue,
    UnsupportedEventSourceError,
    feeding_services,
)
from lambic.runtime.lambda_api import FunctionInvoker, LambdaApi
from lambic.runtime.logstore import LogEvent
from lambic.runtime.resources import create_declared
from lambic.runtime.sqs_poller import BatchOutcome
from lambic.runtime.stream_poller import StreamBatchOutcome
from lambic.services.factory import SERVICE_NAMES

if TYPE_CHECKING:
    from lambic.runtime.local import LocalCloud
    from lambic.services._deferred import DeferredServices
    from lambic.services.base import Service
    from lambic.services.server import EdgeServer
    from lambic.services.sqs import SqsEngine

#: The log stream, in each function's log group, that holds its event delivery lines.
EVENTS_LOG_STREAM = "lambic/events"


def endpoint_environment(url: str, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """Variables that point unchanged boto3 code at the local services.

    The local credentials are added only when `environ` has none of its own, so a
    deliberate choice is never overridden.
    """
    env = {"AWS_ENDPOINT_URL": url}
    if not environ.get("AWS_ACCESS_KEY_ID"):
        env.update(LOCAL_CREDENTIALS)
    return env


class LocalServices:
    """The S3/DynamoDB/SQS/SNS/EventBridge edge port inside `lambic local`, plus Lambda's API.

    Over a state directory it holds that directory's `ServicesLock` while its engines are
    open, and under `lambic local` (`start`) records its URL in the stage's endpoint file
    so `lambic invoke` uses these services instead of opening a second set
    (`endpoint_file`). `open` + `create_resources` are the same steps without a
    `LocalCloud`, for `lambic invoke`'s own short-lived services (`stage_services`).
    """

    #: How long `lambic local` waits for a `lambic invoke` holding the stage's state.
    claim_timeout: float = 30.0

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_SERVICES_PORT,
        in_memory: bool = False,
        state_dir: Path | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.in_memory = in_memory
        self.state_dir = state_dir
        self.services: DeferredServices | None = None
        self.edge: EdgeServer | None = None
        self.lambda_api: LambdaApi | None = None
        #: Where the services count what AWS would bill (None: in memory or switched off).
        self.meter: Meter | None = None
        self._owns_meter = False
        self._lock: ServicesLock | None = None
        self._endpoint_file: Path | None = None
        self._state: Path | None = None
        #: What the edge serves, by name (for in-process calls to the services).
        self._served: dict[str, Service] = {}

    @property
    def url(self) -> str:
        if self.edge is None:
            raise LambicRuntimeError("The local services are not started")
        return self.edge.url

    def stored(self, names: Collection[str]) -> set[str]:
        """Which of the `names` services have a database in the state directory."""
        state = self._state
        if state is None:
            return set()
        return {name for name in names if (state / f"{name}.sqlite3").exists()}

    def engines(self, needed: Collection[str] = SERVICE_NAMES) -> Engines:
        """The in-process engines of the `needed` services (built now if they were not
        yet), for the event sources; none before start."""
        from lambic.services.dynamodb import DynamoDBService
        from lambic.services.events import EventsService
        from lambic.services.kinesis import KinesisService
        from lambic.services.s3 import S3Service
        from lambic.services.sns import SnsService
        from lambic.services.sqs import SqsService

        services = self.services
        if services is None:
            return Engines()
        built = {name: services.get(name) for name in needed}
        s3, sqs, sns = built.get("s3"), built.get("sqs"), built.get("sns")
        dynamodb, events, kinesis = built.get("dynamodb"), built.get("events"), built.get("kinesis")
        return Engines(
            s3=s3.engine if isinstance(s3, S3Service) else None,
            sqs=sqs.engine if isinstance(sqs, SqsService) else None,
            sns=sns.engine if isinstance(sns, SnsService) else None,
            dynamodb=dynamodb.engine if isinstance(dynamodb, DynamoDBService) else None,
            event_bus=events.bus if isinstance(events, EventsService) else None,
            kinesis=kinesis.engine if isinstance(kinesis, KinesisService) else None,
        )

    async def start(self, cloud: LocalCloud) -> None:
        state = None if self.in_memory else (self.state_dir or cloud.state_dir)
        # Lambda's API runs the functions on the invoker, which exists only after the
        # services start: the API asks the cloud for it per request.
        url = await self._open_waiting(state, lambda: cloud.invoker, cloud.echo, cloud)
        try:
            cloud.extra_env.update(endpoint_environment(url))
            where = "in memory" if state is None else f"state in {state}"
            cloud.echo(f"Local AWS services on {url} ({where})")
            created = await self.create_resources(cloud.config.resources(cloud.stage))
            if created:
                cloud.echo("Created " + ", ".join(created))
            if state is not None:
                # Only now: a `lambic invoke` that finds the file must find the tables too.
                self._endpoint_file = state / LOCAL_ENDPOINT_FILE
                await asyncio.to_thread(write_endpoint, self._endpoint_file, url)
        except BaseException:
            await self.stop()  # not started, so LocalCloud will not stop it
            raise

    async def _open_waiting(
        self,
        state: Path | None,
        invoker: Callable[[], FunctionInvoker | None],
        echo: Callable[[str], None],
        cloud: LocalCloud | None = None,
    ) -> str:
        """`open`, waiting a while for a `lambic invoke` that holds the state."""
        deadline = time.monotonic() + self.claim_timeout
        waiting = False
        while True:
            try:
                return await self.open(state, invoker, cloud)
            except ServicesInUseError as exc:
                endpoint = None if state is None else live_endpoint(state / LOCAL_ENDPOINT_FILE)
                if endpoint is not None:
                    raise LambicRuntimeError(
                        f"Local services: process {endpoint.pid} (`lambic local` or `lambic "
                        f"services`) already serves this stage's state on {endpoint.url}; "
                        "stop it, or pass --stage to run another stage"
                    ) from exc
                if time.monotonic() >= deadline:
                    raise LambicRuntimeError(f"Local services: {exc}") from exc
                if not waiting:
                    echo(f"Waiting for process {exc.pid or '?'} to release {state}...")
                    waiting = True
                await asyncio.sleep(0.1)

    async def open(
        self,
        state: Path | None,
        invoker: Callable[[], FunctionInvoker | None],
        cloud: LocalCloud | None = None,
    ) -> str:
        """Open the engines over `state` (None: in memory), serve them; their URL.

        With `cloud`, the edge also serves the console over it (`lambic.console`) and
        the services meter into the cloud's meter; without, into one of their own
        over `state`. Raises `ServicesInUseError` if another process has `state`'s
        engines open.
        """
        from lambic.services.base import ServiceError
        from lambic.services.factory import create_deferred_services
        from lambic.services.server import EdgeServer

        if state is not None:
            self._claim(state)
        self._state = state
        api = self.lambda_api = LambdaApi(invoker, loop=asyncio.get_running_loop())
        try:
            meter = cloud.meter if cloud is not None else None
            if cloud is None and state is not None:
                meter, self._owns_meter = create_meter(state), True
            self.meter = meter
            # Each service is imported and its database opened when first used (the
            # declared resources, an event source, a request), the rest in the
            # background after the edge's first answer (`services._deferred`).
            services = self.services = create_deferred_services(state, meter=meter)
            served: dict[str, Service] = {**services.by_name(), api.name: api}
            self._served = served
            if cloud is not None:
                loop = asyncio.get_running_loop()

                def console() -> Service:
                    from lambic.console import ConsoleService

                    return ConsoleService(cloud, services=served, runtime_loop=loop)

                served["console"] = services.add("console", console)
            self.edge = await asyncio.to_thread(
                lambda: EdgeServer(
                    served,
                    host=self.host,
                    port=self.port,
                    port_option="--services-port",
                ).start()
            )
        except (ServiceError, PortInUseError) as exc:
            self._close_services()
            raise LambicRuntimeError(f"Local services: {exc}") from exc
        except BaseException:
            self._close_services()
            raise
        return self.edge.url

    def _claim(self, state: Path) -> None:
        lock = ServicesLock(state / SERVICES_LOCK_FILE)
        if not lock.try_acquire():
            pid = lock.holder()
            raise ServicesInUseError(
                f"the state in {state} is in use by another Lambic process (pid {pid or '?'}: "
                "a `lambic local`, `lambic invoke` or `lambic services`); wait for it to "
                "finish or stop it",
                pid,
            )
        self._lock = lock

    async def create_resources(self, resources: DeclaredResources) -> list[str]:
        """Create the declared tables, buckets, queues and topics missing; their names.

        The requests go to the services in-process, on the edge's own loop (where the
        services always run), with no SDK: boto3 would cost this process ~0.2 s of CPU
        and ~20 MB before its first answer.
        """
        if not resources:
            return []
        edge = self.edge
        if edge is None or edge.loop is None:
            raise LambicRuntimeError("The local services are not started")
        from lambic.services.in_process import AwsCallError, InProcessAws

        services = self.services
        # Built here, not through the edge: the edge's first answer starts building the
        # other services in the background, which must not compete with start-up.
        served = services.built_on_use() if services is not None else self._served
        aws = InProcessAws(served, f"{edge.host}:{edge.port}")
        done = asyncio.run_coroutine_threadsafe(create_declared(resources, aws), edge.loop)
        try:
            return await asyncio.wrap_future(done)
        except AwsCallError as exc:
            raise LambicRuntimeError(
                f"Local services: creating the declared resources failed ({exc}); "
                "fix `resources` in the project's config"
            ) from exc

    def banner_lines(self) -> list[str]:
        if "console" not in self._served or self.edge is None:
            return []
        from lambic.console import CONSOLE_PATH

        return [f"Console: {self.edge.url}{CONSOLE_PATH}"]

    def use_event_queue(self, queue: EventQueue | None) -> None:
        """Lambda API Event invocations go through `queue` (None: the invoker's own path)."""
        if self.lambda_api is not None:
            self.lambda_api.use_queue(queue)

    async def stop(self) -> None:
        if self._endpoint_file is not None:
            endpoint_file, self._endpoint_file = self._endpoint_file, None
            remove_endpoint(endpoint_file)
        if self.edge is not None:
            edge, self.edge = self.edge, None
            await asyncio.to_thread(edge.stop)
            self.services = None  # the edge closed them
        self._close_services()

    def _close_services(self) -> None:
        if self.services is not None:
            self.services.close()
            self.services = None
        if self._owns_meter and self.meter is not None:
            self.meter.close()
        self.meter, self._owns_meter = None, False
        # After the engines: the next holder must find every file closed.
        if self._lock is not None:
            lock, self._lock = self._lock, None
            lock.release()


class LiveEventSources:
    """Every event handler in app.py, fed by the scheduler and the local services.

    Each delivery is printed as one line (`[event] SOURCE -> FUNCTION REQUEST-ID
    OUTCOME DURATION`) and written into the function's log group, in the
    `lambic/events` stream, so `lambic logs -n FUNCTION` shows it beside the
    function's own output.
    """

    def __init__(self, services: LocalServices | None) -> None:
        self.local_services = services
        self.sources: EventSources | None = None
        self.queue: AsyncEventQueue | None = None
        self._cloud: LocalCloud | None = None
        self._functions: dict[str, FunctionSettings] = {}
        self._invoke: Callable[[str, bytes], Any] | None = None
        self._warned: set[str] = set()

    async def start(self, cloud: LocalCloud) -> None:
        if cloud.project is None or cloud.invoker is None:
            raise LambicRuntimeError("Event sources start after the project and the invoker")
        self._cloud = cloud
        self._check_declared(cloud)
        invoker = cloud.invoker
        state = cloud.state_dir
        state.mkdir(parents=True, exist_ok=True)
        self._refresh_settings(cloud)

        def invoke(function: str, payload: bytes) -> Any:
            return invoker.invoke(function, payload)

        def attempt(function: str, payload: bytes, request_id: str) -> Any:
            return invoker.invoke(function, payload, request_id=request_id)

        self._invoke = invoke
        self.queue = AsyncEventQueue(
            attempt,
            path=state / "events.sqlite3",
            settings=self._async_settings,
            function_arn=lambda name: self._function_arn(cloud, name),
            on_failure=self._send_to_destination,
            concurrency=self._async_concurrency,
            report=self._print_delivery,
        )
        self.sources = self._create_sources(cloud, cloud.project.manifest.functions)
        await self.sources.start()
        if self.local_services is not None:
            self.local_services.use_event_queue(self.queue)

    async def reload(self, cloud: LocalCloud) -> None:
        """Re-wire after hot reload: handlers added, removed or changed take effect.

        Events already accepted stay in the durable queue; those for a function that
        no longer exists wait there until it comes back (AWS would fail them).
        """
        if self.queue is None or cloud.project is None:
            return
        self._check_declared(cloud)
        self._refresh_settings(cloud)
        old = self.sources
        new = self._create_sources(cloud, cloud.project.manifest.functions)
        if old is not None:
            await old.stop()
        self.sources = None
        try:
            await self._wire(new)
        except Exception:
            # e.g. a new S3 rule overlapping another: keep the previous wiring running
            # and let LocalCloud print the error.
            if old is not None:
                await self._wire(self._create_sources(cloud, old.functions))
            raise

    def _check_declared(self, cloud: LocalCloud) -> None:
        """The rule for resources a handler names but the config does not declare.

        Locally an undeclared queue, topic or bucket is created by its event source so
        the app runs, and the sentence `lambic deploy` would refuse with (should it
        not exist on AWS) is printed once; an undeclared table cannot be created
        without its key schema, so it is refused here as deploy refuses it.
        """
        if cloud.project is None:
            return
        declared = cloud.config.resources(cloud.stage)
        references = [
            handler_reference(f.kind, f.event_source or {}, f.name)
            for f in cloud.project.manifest.functions
        ]
        config_name = ProjectPaths(cloud.project_dir).config_name
        for reference in undeclared(references, declared):
            message = undeclared_message(reference, config_name)
            if reference.kind == "dynamodb_tables":
                raise UnsupportedEventSourceError(message)
            if message not in self._warned:
                self._warned.add(message)
                cloud.echo(f"Warning: {message}")

    async def _wire(self, sources: EventSources) -> None:
        if self.queue is None:
            raise LambicRuntimeError("The event queue is closed")
        self.queue.retain([f.name for f in sources.functions if f.kind not in SYNC_KINDS])
        try:
            await sources.start()
        except BaseException:
            await sources.stop()  # a half-wired start must not leave tasks or listeners
            raise
        self.sources = sources

    def _refresh_settings(self, cloud: LocalCloud) -> None:
        if cloud.project is None:
            return
        self._functions = cloud.project.functions(cloud.stage)

    def _async_settings(self, name: str) -> AsyncSettings:
        settings = self._functions.get(name)
        return settings.asynchronous if settings is not None else AsyncSettings()

    def _async_concurrency(self, name: str) -> int:
        settings = self._functions.get(name)
        return (settings.reserved_concurrency if settings else None) or 10

    def _create_sources(
        self, cloud: LocalCloud, functions: Iterable[FunctionEntry]
    ) -> EventSources:
        if cloud.project is None or self.queue is None:
            raise LambicRuntimeError("Event sources start after the project and the invoker")
        functions = tuple(functions)
        project = cloud.project
        state = cloud.state_dir
        return create_event_sources(
            functions,
            self.queue,
            Account(project.app_name, cloud.stage, LOCAL_REGION, LOCAL_ACCOUNT_ID),
            self.local_services.engines(self._needed_engines(functions))
            if self.local_services
            else Engines(),
            invoke=self._invoke,
            concurrency=lambda name: (
                self._functions[name].reserved_concurrency if name in self._functions else None
            ),
            batch_report=self._print_batch,
            stream_report=self._print_stream_batch,
            state_dir=state,
        )

    def _needed_engines(self, functions: Iterable[FunctionEntry]) -> set[str]:
        """The engines these handlers feed from, the others staying unbuilt; plus S3's
        and SNS's when their state is on disk: their adapters remove the rules and
        subscriptions of handlers app.py no longer has, which only a stored state can
        hold."""
        needed = feeding_services(functions)
        local = self.local_services
        if local is not None:
            needed |= local.stored({"s3", "sns"})
        return needed

    async def stop(self) -> None:
        if self.local_services is not None:
            self.local_services.use_event_queue(None)
        if self.sources is not None:
            await self.sources.stop()
            self.sources = None
        if self.queue is not None:
            await self.queue.aclose()
            self.queue = None

    @staticmethod
    def _function_arn(cloud: LocalCloud, name: str) -> str:
        app = cloud.project.app_name if cloud.project else "app"
        return function_arn(deployed_name(app, cloud.stage, name))

    def _print_delivery(self, delivery: Delivery) -> None:
        self._event_line(
            delivery.function,
            f"[event] {delivery.source} -> {delivery.function} {delivery.request_id} "
            f"{delivery.outcome} {delivery.duration_ms:.1f} ms"
            + (f" (attempt {delivery.attempt})" if delivery.attempt > 1 else ""),
        )

    def _print_batch(self, outcome: BatchOutcome) -> None:
        self._event_line(
            outcome.function,
            f"[event] sqs:{outcome.queue} -> {outcome.function} {outcome.request_id} "
            f"{outcome.status} {outcome.duration_ms:.1f} ms "
            f"({outcome.received} received, {outcome.deleted} deleted)",
        )

    def _print_stream_batch(self, outcome: StreamBatchOutcome) -> None:
        self._event_line(
            outcome.function,
            f"[event] {outcome.source} -> {outcome.function} {outcome.request_id} "
            f"{outcome.status} {outcome.duration_ms:.1f} ms ({outcome.records} records)",
        )

    def _event_line(self, function: str, line: str) -> None:
        """Keep one delivery line in the function's log group and print it once, after
        the invocation's own output."""
        cloud = self._cloud
        if cloud is None:
            return
        invoker = cloud.invoker
        group: str | None = None
        if invoker is not None:
            # A function removed by a reload has no log group left: printing is enough.
            with contextlib.suppress(LambicRuntimeError):
                group = invoker.settings(function).log_group
        if invoker is not None and group is not None:
            invoker.store.append(LogEvent(group, EVENTS_LOG_STREAM, int(time.time() * 1000), line))
            if cloud.log_fd is not None:
                return  # the log writer process prints what is stored
        cloud.print_lines([line])

    def schedules(self) -> list[tuple[str, str, datetime | None]]:
        """(function, expression, next fire) of every schedule handler now."""
        return self.sources.schedules() if self.sources is not None else []

    def fire_schedule(self, function: str) -> str:
        """Deliver `function`'s Scheduled Event now (as the console's "fire now")."""
        if self.sources is None:
            raise LambicRuntimeError("The event sources are not running")
        return self.sources.fire_schedule(function)

    def banner_lines(self) -> list[str]:
        """When each schedule fires next (the first data of a `rate(1 minute)` app
        arrives after a minute: say so rather than stay silent)."""
        schedules = self.schedules()
        if not schedules:
            return []
        now = datetime.now(timezone.utc)
        lines = ["Schedules:"]
        for function, expression, due in schedules:
            when = (
                "never"
                if due is None
                else (
                    f"next {due.astimezone().strftime('%H:%M:%S')}"
                    f" (in {max(0, round((due - now).total_seconds()))} s)"
                )
            )
            lines.append(f"  {function:<18} {expression:<24} {when}")
        return lines

    def _send_to_destination(self, failed: FailedEvent) -> None:
        """On-failure destination (invocation record) and DLQ (original event), via SQS."""
        settings = failed.settings
        if not (settings.on_failure or settings.dead_letter_queue):
            return
        local = self.local_services
        sqs: SqsEngine | None = local.engines(["sqs"]).sqs if local is not None else None
        if sqs is None:
            raise LambicRuntimeError("An on-failure destination needs the local SQS service")
        if settings.on_failure:
            record = failed.destination_record(time.time())
            sqs.send_message(_queue_name(settings.on_failure), json.dumps(record))
        if settings.dead_letter_queue:
            sqs.send_message(
                _queue_name(settings.dead_letter_queue),
                failed.payload.decode("utf-8", "replace"),
            )


def _queue_name(name_or_arn: str) -> str:
    return name_or_arn.rsplit(":", 1)[-1]
