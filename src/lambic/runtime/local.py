"""`lambic local`: the whole local cloud for one project, started and stopped in order.

    LocalCloud.start()
      load the config
      bind the gateway port (a port in use fails here, before anything runs)
      start the zygote        it preloads boto3 while the rest starts (both done
                              earlier by the CLI, before its heavy imports, and
                              handed over: `head_start`)
      start services          e.g. the S3/DynamoDB/SQS/SNS edge port (issue 4); each may
                              add variables (AWS_ENDPOINT_URL...) to `extra_env`
      read the manifest       app.py imported in a child forked from the zygote (the
                              services create the declared resources meanwhile; their
                              `ready(cloud)` hook, if any, waits for that after it)
      create the invoker      execution environments get `extra_env`
      start event sources     schedules, S3/SQS/SNS/stream wiring (issue 5); they use
                              `cloud.invoker`
      start the gateway, then the file watcher (hot reload)
    LocalCloud.stop()         the reverse: stop accepting HTTP, finish or time out
                              in-flight work, stop components, close the invoker (no
                              child process survives)

A component is any object with `async start(cloud)` and `async stop()`
(`CloudComponent`); pass them as `services=` or `event_sources=`. A component may also
have `async ready(cloud)`, called once app.py is read (before the invoker and the
event sources), `async reload(cloud)`, called after a hot reload with `cloud.project`
already the new project (event sources re-wire added/removed handlers there), and
`banner_lines() -> list[str]`, printed at the end of the start banner (e.g. when each
schedule fires next).

The terminal: one access line per request, the functions' output as `[function] line`,
one `[event]` line per delivery; START/END/REPORT only with `verbose` (they are always
in the log store, for `lambic logs`).

Code runs from snapshots (`_snapshot.CodeSnapshots`), as Lambda runs a deployed
package: each load copies the project and environments import from the copy, so a
later broken edit can never reach an environment that starts afterwards.

Hot reload: when the watcher sees an edit, the project is re-read in a child process.
A good result goes to `invoker.reload()` (next invocations run the new code, in-flight
ones finish on the old environments) and to the gateway (new route table); an error
(syntax error with file:line, import error, bad config) is printed and the last good
code keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from lambic._start_trace import stamp
from lambic.app._event_limits import sqs_batching_error
from lambic.app.proxy_events import LOCAL_API_ID
from lambic.project.account import LOCAL_ACCESS_KEY, LOCAL_ACCOUNT_ID, LOCAL_REGION
from lambic.project.config import (
    API_FUNCTION,
    FunctionSettings,
    ProjectConfig,
    deployed_name,
    load_config,
)
from lambic.project.environ import LOCAL_CREDENTIALS
from lambic.project.metering import Meter, create_meter
from lambic.project.paths import ProjectPaths
from lambic.project.project import Project, aload_project
from lambic.runtime import _isolation
from lambic.runtime._log_lines import AccessRecord, PathRewrite, access_line, terminal_lines
from lambic.runtime._snapshot import CodeSnapshots
from lambic.runtime.errors import LambicRuntimeError, ProjectError
from lambic.runtime.gateway import (
    INTEGRATION_TIMEOUT_SECONDS,
    ApiDefinition,
    GatewayApp,
    GatewayServer,
    bind_socket,
    create_api_definition,
)
from lambic.runtime.head_start import HeadStart, start_zygote
from lambic.runtime.invoker import Invoker, create_invoker
from lambic.runtime.logstore import LogEvent
from lambic.runtime.reload import FileWatcher
from lambic.runtime.usage import api_request_meter
from lambic.runtime.zygote import Zygote

if TYPE_CHECKING:
    from lambic.runtime.authorization import AuthorizerGate, AuthorizerSpec

__all__ = ["CloudComponent", "LocalCloud"]


class CloudComponent(Protocol):
    """Something `lambic local` runs beside the gateway (services, event sources)."""

    async def start(self, cloud: LocalCloud) -> None: ...

    async def stop(self) -> None: ...


def create_api(project: Project, stage: str) -> ApiDefinition:
    """The gateway's route table for a loaded project."""
    functions = project.functions(stage)
    api = functions.get(API_FUNCTION)
    function_name = (
        api.deployed_name
        if api is not None
        else deployed_name(project.app_name, stage, API_FUNCTION)
    )
    return create_api_definition(
        project.manifest.routes,
        function_name=function_name,
        stage=project.config.api_gateway_stage(stage),
        binary_types=project.manifest.binary_types,
        function_timeout=api.timeout if api is not None else None,
        authorizers=_authorizers(project, functions),
    )


def check_event_source_limits(project: Project) -> None:
    """Refuse what AWS would refuse when creating the app's event source mappings."""
    for entry in project.manifest.functions:
        source = entry.event_source
        if entry.kind != "sqs" or not source:
            continue
        queue = source.get("queue") or str(source.get("queue_arn") or "").rsplit(":", 1)[-1]
        problem = sqs_batching_error(
            entry.name,
            str(queue),
            int(source.get("batch_size") or 1),
            int(source.get("maximum_batching_window_in_seconds") or 0),
        )
        if problem is not None:
            raise ProjectError(problem)


def _authorizers(
    project: Project, functions: Mapping[str, FunctionSettings]
) -> dict[str, dict[str, AuthorizerSpec]]:
    """The routes' authorizers; one that cannot run locally stops the start (or reload)."""
    names = {f.deployed_name: name for name, f in functions.items()}
    names.update((name, name) for name in functions)
    specs: dict[str, dict[str, AuthorizerSpec]] = {}
    for path, methods in project.manifest.routes.items():
        for method, info in methods.items():
            if info.authorizer is None:
                continue
            # Only an app with authorizers loads their code (`GatewayApp.gate`).
            from lambic.runtime.authorization import AuthorizerConfigError, create_authorizer_spec

            try:
                spec = create_authorizer_spec(f"{method} {path}", info.authorizer, names)
            except AuthorizerConfigError as exc:
                raise ProjectError(str(exc)) from exc
            specs.setdefault(path, {})[method] = spec
    return specs


def _route_lines(project: Project) -> list[str]:
    lines = []
    kinds: set[str] = set()
    for path in sorted(project.manifest.routes):
        methods = ",".join(sorted(project.manifest.routes[path]))
        guards = []
        for info in project.manifest.routes[path].values():
            if info.authorizer is not None:
                kinds.add(str(info.authorizer.get("kind")))
                kind = str(info.authorizer.get("kind"))
                if info.authorizer.get("type") == "request":
                    kind += ", REQUEST"
                guard = f"{info.authorizer.get('name')} ({kind})"
                if guard not in guards:
                    guards.append(guard)
        suffix = f"  [authorizer: {', '.join(guards)}]" if guards else ""
        lines.append(f"  {methods:<18} {path}{suffix}")
    # How to get through each kind of authorizer locally, said once.
    if "cognito" in kinds:
        lines.append("  Cognito routes take tokens from `lambic auth token --user NAME`")
    if "iam" in kinds:
        lines.append(
            "  IAM routes take requests SigV4-signed (service execute-api) with "
            f"AWS_ACCESS_KEY_ID={LOCAL_ACCESS_KEY} "
            f"AWS_SECRET_ACCESS_KEY={LOCAL_CREDENTIALS['AWS_SECRET_ACCESS_KEY']}"
        )
    return lines


class LocalCloud:
    """One project served locally: gateway + invoker + components + hot reload.

    cloud = LocalCloud(Path("myapp"), port=8000)
    await cloud.serve()          # until SIGINT / SIGTERM
    """

    def __init__(
        self,
        project_dir: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 8000,
        stage: str = "dev",
        reload: bool = True,
        echo: Callable[[str], None] = print,
        log_fd: int | None = None,
        verbose: bool = False,
        services: Sequence[CloudComponent] = (),
        event_sources: Sequence[CloudComponent] = (),
        integration_timeout: float = INTEGRATION_TIMEOUT_SECONDS,
        shutdown_grace: float = 10.0,
        reload_interval: float = 0.3,
        head_start: HeadStart | None = None,
    ) -> None:
        self.project_dir = project_dir.resolve()
        self.host = host
        self.port = port
        self.stage = stage
        self.reload_enabled = reload
        self.echo = echo
        # Function logs: printed to this file descriptor by the log writer process when
        # set (the CLI's stdout); else through `echo`. At request rates printing them
        # here cost the gateway's process a tenth of each request.
        self.log_fd = log_fd
        self.verbose = verbose
        self.services = list(services)
        self.event_sources = list(event_sources)
        self.integration_timeout = integration_timeout
        self.shutdown_grace = shutdown_grace
        self.reload_interval = reload_interval
        #: Variables every execution environment gets; services add theirs on start.
        self.extra_env: dict[str, str] = {}
        #: The config of the code being served (set first at start; services read it).
        self.config: ProjectConfig = ProjectConfig()
        self.project: Project | None = None
        self.invoker: Invoker | None = None
        self.gateway: GatewayServer | None = None
        self._app: GatewayApp | None = None
        self._watcher: FileWatcher | None = None
        self._started: list[CloudComponent] = []
        self._snapshots: CodeSnapshots | None = None
        self._pending_logs: list[str] = []
        self._flush_scheduled = False
        #: What AWS would bill, counted by the gateway and the services (`lambic cost`).
        self.meter: Meter | None = None
        #: Started first; handed to the invoker once it exists (closed here until then).
        self._zygote: Zygote | None = head_start.zygote if head_start is not None else None
        #: The gateway's socket when the CLI bound it ahead (`head_start`).
        self._sock = head_start.sock if head_start is not None else None
        #: The log writer forked ahead (`head_start`), handed to the invoker's log store.
        self._log_writer = head_start.log_writer if head_start is not None else None

    @property
    def url(self) -> str:
        if self.gateway is None:
            raise LambicRuntimeError("The local cloud is not started")
        return self.gateway.url

    @property
    def state_dir(self) -> Path:
        """The stage's state (services, logs, queues): the project's, never the snapshot's."""
        return ProjectPaths(self.project_dir).state_dir(self.stage)

    @property
    def _rewrite(self) -> PathRewrite | None:
        """Snapshot paths in logs back to the project's (none before the first load)."""
        return self._snapshots.rewrite if self._snapshots is not None else None

    def _print_log(self, event: LogEvent) -> None:
        # Each invocation logs at least START, END and REPORT; writing (and flushing)
        # each line costs more than the rest of a warm request, so lines queue up and
        # are printed together once per event-loop turn.
        self.print_lines(
            terminal_lines(event.log_group, event.message, self._rewrite, verbose=self.verbose)
        )

    def _print_access(self, record: AccessRecord) -> None:
        self.print_lines([access_line(record)])

    def print_lines(self, lines: list[str]) -> None:
        """Print on the terminal after the log lines already queued (order is kept)."""
        if not lines:
            return
        self._pending_logs += lines
        if not self._flush_scheduled:
            try:
                asyncio.get_running_loop().call_soon(self._flush_logs)
            except RuntimeError:  # not on the loop's thread: print now
                self._flush_logs()
                return
            self._flush_scheduled = True

    def _flush_logs(self) -> None:
        self._flush_scheduled = False
        if self._pending_logs:
            lines, self._pending_logs = self._pending_logs, []
            self.echo("\n".join(lines))

    async def _snapshot(self) -> Path:
        """Copy the code as it is now (the copy is what environments run)."""
        if not (self.project_dir / "app.py").is_file():
            raise ProjectError(
                f"No app.py in {self.project_dir}; "
                "run `lambic new-project NAME` or pass --project-dir"
            )
        if self._snapshots is None:
            self._snapshots = CodeSnapshots(self.project_dir)
        return await asyncio.to_thread(self._snapshots.take)

    async def _read(self, snapshot: Path) -> Project:
        """Read the project in a snapshot; app.py imports in Lambda's environment, with
        whatever the started services put in `extra_env` (the local endpoint)."""
        try:
            return await aload_project(
                snapshot,
                self.stage,
                extra_env=self.extra_env,
                # Without local services (--no-services) functions use the shell's
                # AWS identity; reading the app sees the same.
                shell_identity=not self.services,
                # Snapshots hold no config (its secrets stay out of the task root).
                config_dir=self.project_dir,
                # app.py is imported in a child of the zygote: no second interpreter
                # importing boto3 on the way to the first answer, no user code here.
                reader=self._zygote if self.invoker is None else self.invoker.zygote,
            )
        except BaseException:
            if self._snapshots is not None:
                await asyncio.to_thread(self._snapshots.discard, snapshot)
            raise

    async def _load(self) -> Project:
        return await self._read(await self._snapshot())

    async def start(self) -> None:
        """Start everything; on failure, stop what had started and re-raise."""
        try:
            snapshot = await self._snapshot()
            stamp("main: snapshot taken")
            # The services create the declared resources from the config, and start
            # before app.py is read so that its import-time AWS calls reach them.
            self.config = load_config(self.project_dir)
            self.meter = create_meter(self.state_dir)
            stamp("main: meter created")
            project, api = await self._start(snapshot)
        except BaseException:
            if self._sock is not None:  # never reached `_start`
                self._sock.close()
            await self.stop()
            raise
        self._banner(project, api)

    async def _start(self, snapshot: Path) -> tuple[Project, ApiDefinition]:
        # Bind first: "port in use" must be reported before any process is started.
        sock, self._sock = self._sock or bind_socket(self.host, self.port), None
        # The zygote never imports user code, so it can start before anything else: its
        # preload (boto3 and its service models, ~0.5 s) then overlaps the services'
        # start and the reading of app.py instead of delaying the first cold start.
        # Its manifest reader cannot open the project (it reads a snapshot) nor the state.
        if self._zygote is None:
            self._zygote = start_zygote(self.project_dir, self.stage)
        try:
            for component in self.services:
                await component.start(self)
                self._started.append(component)
            stamp("main: services started")
            project = self.project = await self._read(snapshot)
            for component in self._started:
                # Optional hook: what a service finished beside the read (the declared
                # resources) completes before the event sources wire to it.
                ready = getattr(component, "ready", None)
                if ready is not None:
                    await ready(self)
            stamp("main: manifest read")
            self.config = project.config
            check_event_source_limits(project)
            api = create_api(project, self.stage)
            self.invoker = create_invoker(
                project,
                self.stage,
                extra_env=dict(self.extra_env),
                log_sink=None if self.log_fd is not None else self._print_log,
                log_fd=self.log_fd,
                log_rewrite=self._rewrite,
                log_verbose=self.verbose,
                state_dir=self.state_dir,
                zygote=self._zygote,
                log_writer=self._log_writer,
            )
            self._zygote = None  # the invoker's now: it closes it
            self._log_writer = None  # its log store's now (a reload's spawns its own)
            stamp("main: invoker created")
            for component in self.event_sources:
                await component.start(self)
                stamp(f"main: started {type(component).__name__}")
                self._started.append(component)
            self._app = GatewayApp(
                self.invoker,
                api,
                integration_timeout=self.integration_timeout,
                # With a log writer process, it prints the access lines (in order with
                # the functions' output), at no cost to the gateway's process.
                access_log=(
                    self.invoker.store.append if self.log_fd is not None else self._print_access
                ),
                create_gate=self._create_gate,
                on_request=self._api_meter(project),
            )
            stamp("main: event sources started")
            self.gateway = GatewayServer(self._app, host=self.host, sock=sock)
        except BaseException:
            sock.close()
            raise
        await self.gateway.start()
        stamp("main: gateway started")
        if self.reload_enabled:
            self._watcher = FileWatcher(
                self.project_dir, self._reload, interval=self.reload_interval
            )
            await self._watcher.start()
        return project, api

    def _create_gate(self, stage: str) -> AuthorizerGate:
        """The authorization step: Cognito tokens from the stage's local issuer, SigV4
        signatures by the local credentials functions get (`LOCAL_CREDENTIALS`); made by
        the first request to a route with an authorizer."""
        from lambic.runtime.authorization import AuthorizerGate, LocalIssuer, SigV4Verifier

        issuer = LocalIssuer(ProjectPaths(self.project_dir).local_issuer_key(self.stage))
        return AuthorizerGate(
            region=LOCAL_REGION,
            account_id=LOCAL_ACCOUNT_ID,
            api_id=LOCAL_API_ID,
            stage=stage,
            issuer_keys=issuer.public_keys,
            sigv4=SigV4Verifier(
                {LOCAL_ACCESS_KEY: LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]},
                account_id=LOCAL_ACCOUNT_ID,
            ),
            warn=lambda message: self.echo(f"Authorizer error: {message}"),
        )

    def _api_meter(self, project: Project) -> Callable[[int], None] | None:
        """API Gateway's billed requests, counted into the stage's meter."""
        if self.meter is None:
            return None
        api_type = str(project.config.stage_value(self.stage, "api_gateway_type", "rest"))
        return api_request_meter(self.meter, api_type.lower())

    def _banner(self, project: Project, api: ApiDefinition) -> None:
        for warning in project.warnings(self.stage):
            self.echo(f"Warning: {warning}")
        # What this machine cannot wall off, if anything, as the zygote found it.
        isolation = _isolation.notice(self.invoker.zygote.isolation if self.invoker else None)
        if isolation is not None:
            self.echo(f"Warning: {isolation}")
        self.echo(
            f"Serving {project.app_name} (stage {self.stage}) on {self.url} "
            f"(API Gateway stage '{api.stage}' served at /)"
        )
        routes = _route_lines(project)
        if routes:
            self.echo("Routes:")
            for line in routes:
                self.echo(line)
        else:
            self.echo("No HTTP routes: every request answers 403 Missing Authentication Token")
        others = [f for f in project.functions(self.stage).values() if f.name != API_FUNCTION]
        if others:
            self.echo("Functions: " + ", ".join(f"{f.name} ({f.kind})" for f in others))
        for component in self._started:
            hook = getattr(component, "banner_lines", None)
            if hook is not None:
                for line in hook():
                    self.echo(line)
        if self.reload_enabled:
            self.echo(f"Watching {self.project_dir} for changes. Press Ctrl-C to stop.")
        else:
            self.echo("Press Ctrl-C to stop.")

    async def _reload(self, changed: list[Path]) -> None:
        names = ", ".join(str(p.relative_to(self.project_dir)) for p in changed[:3])
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        try:
            project = await self._load()
            check_event_source_limits(project)
            api = create_api(project, self.stage)
        except (LambicRuntimeError, ProjectError) as exc:
            self.echo(f"Reload failed ({names}{more} changed): {exc}")
            self.echo("Still serving the last good code; fix the error and save again.")
            return
        if self.invoker is None or self._app is None:
            return
        await self.invoker.reload(project)
        self._app.update(api)
        self.project = project
        self.config = project.config
        for component in self._started:
            # Optional hook: components that wire handlers (event sources) re-wire them.
            hook = getattr(component, "reload", None)
            if hook is not None:
                try:
                    await hook(self)
                except Exception as exc:  # keep serving; the user fixes and saves again
                    self.echo(f"Reloading {type(component).__name__} failed: {exc}")
        if self._snapshots is not None:
            await asyncio.to_thread(self._snapshots.prune)
        self.echo(f"Reloaded after changes to {names}{more}: {api.route_count} route(s)")

    async def stop(self) -> None:
        """Stop in reverse order; bounded by `shutdown_grace` plus the invoker's timeout."""
        if self._watcher is not None:
            await self._watcher.stop()
            self._watcher = None
        if self.gateway is not None:
            await self.gateway.stop(grace=self.shutdown_grace)
            self.gateway = None
        if self._app is not None:
            await self._app.drain(timeout=self.shutdown_grace)
        while self._started:
            component = self._started.pop()
            try:
                await component.stop()
            except Exception as exc:  # one failing component must not leak the others
                self.echo(f"Stopping {type(component).__name__} failed: {exc}")
        if self.invoker is not None:
            await self.invoker.aclose(timeout=self.shutdown_grace)
            self.invoker = None
        if self._zygote is not None:  # start failed before the invoker took it
            zygote, self._zygote = self._zygote, None
            await zygote.aclose()
        if self._log_writer is not None:  # likewise
            writer, self._log_writer = self._log_writer, None
            await asyncio.to_thread(writer.close)
        if self._snapshots is not None:
            await asyncio.to_thread(self._snapshots.close)
            self._snapshots = None
        if self.meter is not None:
            meter, self.meter = self.meter, None
            await asyncio.to_thread(meter.close)
        self._flush_logs()

    async def serve(self, *, ready: Callable[[], None] | None = None) -> None:
        """Start, run until SIGINT or SIGTERM, then stop everything."""
        loop = asyncio.get_running_loop()
        stopping = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        try:
            await self.start()
            # What start-up loaded (modules, the services, the project) lives as long
            # as the process: out of the GC's generations, a full collection walks only
            # what serving made, not the whole heap (it took ~60 ms with it, a latency
            # spike for the request it landed on). The CLI pauses collection during
            # start-up (`cli.local`); it runs from here on.
            gc.freeze()
            gc.enable()
            if ready is not None:
                ready()
            await stopping.wait()
            self.echo("Shutting down: finishing in-flight requests...")
        finally:
            await self.stop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(Exception):
                    loop.remove_signal_handler(sig)
