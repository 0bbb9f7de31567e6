"""`lambic local`'s local services: the edge port, its engines, Lambda's API beside them.

`LocalServices` is a `CloudComponent` (`async start(cloud)`, `async stop()`) that
`LocalCloud` starts first: it puts `AWS_ENDPOINT_URL` and friends into
`cloud.extra_env` (`endpoint_environment`) before any execution environment exists, so
`boto3.client("s3")` inside a function talks to the local cloud. It also serves Lambda's
API on the edge (`lambda_api.LambdaApi`), backed by `cloud.invoker` once it exists.
The event sources that feed on these services are `live_event_sources`.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import time
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lambic._sockets import PortInUseError
from lambic._start_trace import stamp
from lambic.project.account import DEFAULT_SERVICES_PORT
from lambic.project.environ import LOCAL_CREDENTIALS
from lambic.project.metering import Meter, create_meter
from lambic.project.paths import LOCAL_ENDPOINT_FILE, SERVICES_LOCK_FILE
from lambic.project.resources import DeclaredResources
from lambic.runtime.endpoint_file import (
    ServicesLock,
    live_endpoint,
    remove_endpoint,
    write_endpoint,
)
from lambic.runtime.errors import LambicRuntimeError, ServicesInUseError
from lambic.runtime.event_sources import Engines
from lambic.runtime.event_sources.base import EventQueue
from lambic.runtime.lambda_api import FunctionInvoker, LambdaApi
from lambic.runtime.resources import create_declared
from lambic.services.factory import SERVICE_NAMES

if TYPE_CHECKING:
    from lambic.runtime.local import LocalCloud
    from lambic.services._deferred import DeferredServices
    from lambic.services.base import Service
    from lambic.services.server import EdgeServer


def endpoint_environment(url: str, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """Variables that point unchanged boto3 code at the local services.

    The local credentials are added only when `environ` has none of its own, so a
    deliberate choice is never overridden.
    """
    env = {"AWS_ENDPOINT_URL": url}
    if not environ.get("AWS_ACCESS_KEY_ID"):
        env.update(LOCAL_CREDENTIALS)
    return env


#: service name -> (module, service class, the attribute holding its engine).
_ENGINES = {
    "s3": ("lambic.services.s3", "S3Service", "engine"),
    "sqs": ("lambic.services.sqs", "SqsService", "engine"),
    "sns": ("lambic.services.sns", "SnsService", "engine"),
    "dynamodb": ("lambic.services.dynamodb", "DynamoDBService", "engine"),
    "events": ("lambic.services.events", "EventsService", "bus"),
    "kinesis": ("lambic.services.kinesis", "KinesisService", "engine"),
}


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
        #: The declared resources being created (`start`), until `ready`.
        self._creating: Future[list[str]] | None = None
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
        services = self.services
        if services is None:
            return Engines()
        # Only the needed services' classes are imported (building one imports its own):
        # importing all six to tell them apart cost an app with none of those handlers
        # ~25 ms of CPU on the way to its first answer (SNS's module alone ~15).
        found: dict[str, Any] = {}  # the engines' types: checked by the isinstance
        for name in needed:
            module, class_name, attribute = _ENGINES[name]
            service = services.get(name)
            if isinstance(service, getattr(importlib.import_module(module), class_name)):
                found[name] = getattr(service, attribute)
        return Engines(
            s3=found.get("s3"),
            sqs=found.get("sqs"),
            sns=found.get("sns"),
            dynamodb=found.get("dynamodb"),
            event_bus=found.get("events"),
            kinesis=found.get("kinesis"),
        )

    async def start(self, cloud: LocalCloud) -> None:
        state = None if self.in_memory else (self.state_dir or cloud.state_dir)
        # Lambda's API runs the functions on the invoker, which exists only after the
        # services start: the API asks the cloud for it per request.
        url = await self._open_waiting(state, lambda: cloud.invoker, cloud.echo, cloud)
        try:
            cloud.extra_env.update(endpoint_environment(url))
            stamp("main: edge open")
            where = "in memory" if state is None else f"state in {state}"
            cloud.echo(f"Local AWS services on {url} ({where})")
            # The declared resources are created on the edge's thread while LocalCloud
            # reads app.py (~35 ms of CPU and a few fdatasyncs off the way to the first
            # answer); a request reaching the edge meanwhile (an import-time call of
            # app.py) waits for them, so it finds them as if created first. `ready`
            # waits for the rest.
            self._creating = self._create(cloud.config.resources(cloud.stage))
            if self._creating is not None and self.services is not None:
                self.services.hold_requests(self._creating)
        except BaseException:
            await self.stop()  # not started, so LocalCloud will not stop it
            raise

    async def ready(self, cloud: LocalCloud) -> None:
        """After `start`, once app.py is read: the declared resources exist (their
        names printed), and the endpoint file names these services."""
        creating, self._creating = self._creating, None
        created = await self._created(creating) if creating is not None else []
        if created:
            cloud.echo("Created " + ", ".join(created))
        state = self._state
        if state is not None and self.edge is not None:
            # Only now: a `lambic invoke` that finds the file must find the tables too.
            self._endpoint_file = state / LOCAL_ENDPOINT_FILE
            await asyncio.to_thread(write_endpoint, self._endpoint_file, self.edge.url)

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
        from lambic.project.identities import configured_identities
        from lambic.services.auth import Authenticator
        from lambic.services.base import ServiceError
        from lambic.services.factory import create_deferred_services
        from lambic.services.server import EdgeServer

        # Accounts and keys besides the default one, as `lambic services` reads them.
        identities = configured_identities()

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
            # declared resources, an event source, a request); after the edge's first
            # answer, those an earlier run used (their database exists) are built in
            # the background (`services._deferred`), so their first call here is
            # quick. The others are not: one the app never calls would hold its code
            # in this process for nothing (SQS, SNS, EventBridge, STS and the console
            # together: ~1.4 MB of this process's own memory on the flagship; building
            # one on its first call costs ~3-30 ms of CPU, once).
            services = self.services = create_deferred_services(
                state, meter=meter, identities=identities, warm=self.stored(SERVICE_NAMES)
            )
            served: dict[str, Service] = {**services.by_name(), api.name: api}
            self._served = served
            if cloud is not None:
                loop = asyncio.get_running_loop()

                def console() -> Service:
                    from lambic.console import ConsoleService

                    return ConsoleService(cloud, services=served, runtime_loop=loop)

                # Built by the console's first page (~80 ms of imports on a busy
                # machine), not warmed: most runs never open it.
                served["console"] = services.add("console", console, warm=False)
            self.edge = await asyncio.to_thread(
                lambda: EdgeServer(
                    served,
                    host=self.host,
                    port=self.port,
                    port_option="--services-port",
                    auth=Authenticator(identities=identities),
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
        creating = self._create(resources)
        return await self._created(creating) if creating is not None else []

    def _create(self, resources: DeclaredResources) -> Future[list[str]] | None:
        """Start `create_resources` on the edge's loop (None: nothing declared)."""
        if not resources:
            return None
        edge = self.edge
        if edge is None or edge.loop is None:
            raise LambicRuntimeError("The local services are not started")
        from lambic.services.in_process import InProcessAws

        services = self.services
        # Built here, not through the edge: the edge's first answer starts building the
        # other services in the background, which must not compete with start-up.
        served = services.built_on_use() if services is not None else self._served
        aws = InProcessAws(served, f"{edge.host}:{edge.port}")
        return asyncio.run_coroutine_threadsafe(create_declared(resources, aws), edge.loop)

    async def _created(self, creating: Future[list[str]]) -> list[str]:
        from lambic.services.in_process import AwsCallError

        try:
            return await asyncio.wrap_future(creating)
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
