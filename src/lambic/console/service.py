"""The console's HTTP side: its page, its JSON API and its live feed.

    GET  /_lambic/console/                      the page (index.html, app.js, app.css)
    GET  /_lambic/api/overview                  app, routes, functions (settings, warm/total
                                                environments, invocations, errors, cold
                                                starts, p50/p99, max memory), schedules
    GET  /_lambic/api/functions/NAME/invocations   the newest invocations of a function
    GET  /_lambic/api/functions/NAME/sample     an editable sample event for it
    POST /_lambic/api/functions/NAME/invoke     body: the event; runs it now
    GET  /_lambic/api/invocations/ID?function=NAME  its figures, event, response, log lines
    POST /_lambic/api/invocations/ID/replay?function=NAME  runs its event again
    GET  /_lambic/api/logs?function=&level=&text=&after=   log lines, oldest first
    POST /_lambic/api/schedules/NAME/fire       delivers the Scheduled Event now
    GET  /_lambic/api/cost?since=&until=&region=&per_day=&free_tier=   `lambic cost`'s JSON
    GET  /_lambic/api/live                      server-sent events: `invocation` and `log`

It runs on the edge's loop and thread; invocations run on the runtime's loop (the
invoker's), reached with `run_coroutine_threadsafe`, as the Lambda API does. SQLite
reads go to a worker thread. Errors are JSON `{"message": ...}` with a 4xx status.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import mimetypes
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import unquote

from lambic.console import CONSOLE_PATH
from lambic.console.guard import CONSOLE_HEADER, refusal
from lambic.console.model import FunctionStats, LogStoreReader
from lambic.console.panels import PANEL_ROUTES, ServicePanels
from lambic.console.samples import sample_event
from lambic.project.paths import LOG_STORE_FILE
from lambic.services.base import Service, ServiceRequest, ServiceResponse
from lambic.services.in_process import AwsCallError, InProcessAws

if TYPE_CHECKING:
    from lambic.project.metering import Meter
    from lambic.project.project import Project
    from lambic.runtime.invoker import Invoker

__all__ = ["API_PREFIX", "CONSOLE_PATH", "CloudView", "ConsoleService"]

API_PREFIX = "/_lambic/api/"
_STATIC = Path(__file__).parent / "static"
_ASSETS = {"": "index.html", "index.html": "index.html", "app.js": "app.js", "app.css": "app.css"}
#: How often the live feed looks for new rows, and how long one feed connection lasts
#: (the browser's EventSource reconnects by itself; a bound keeps shutdown prompt).
LIVE_POLL_SECONDS = 0.5
LIVE_MAX_SECONDS = 300.0
_LEVELS = {
    "error": ("[ERROR]", " ERROR ", "ERROR:", "Traceback", "Task timed out", "Runtime.Exit"),
    "warning": ("[WARNING]", " WARNING ", "WARNING:"),
}
_T = TypeVar("_T")


class CloudView(Protocol):
    """The running local cloud, as the console reads it (`LocalCloud` is one)."""

    stage: str

    @property
    def project_dir(self) -> Path: ...

    @property
    def state_dir(self) -> Path: ...

    @property
    def event_sources(self) -> Sequence[Any]: ...

    @property
    def project(self) -> Project | None: ...

    @property
    def invoker(self) -> Invoker | None: ...

    @property
    def meter(self) -> Meter | None: ...


class ConsoleError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _json(data: Any, status: int = 200) -> ServiceResponse:
    body = json.dumps(data, default=str).encode("utf-8")
    return ServiceResponse(
        status, [("Content-Type", "application/json"), ("Cache-Control", "no-store")], body
    )


def _error(status: int, message: str) -> ServiceResponse:
    return _json({"message": message}, status)


def _decode(payload: bytes) -> Any:
    """A payload as JSON when it is JSON, else as text."""
    try:
        return json.loads(payload)
    except ValueError:
        return payload.decode("utf-8", "replace")


Route = tuple[str, re.Pattern[str], Callable[..., Awaitable[ServiceResponse]]]


class ConsoleService:
    """The console, one more service behind the edge port (`name` "console")."""

    name = "console"

    def __init__(
        self,
        cloud: CloudView | None,
        *,
        services: Mapping[str, Service],
        runtime_loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        """`cloud`: the running app (None under `lambic services`: the service panels
        only); `services`: the services behind this edge; `runtime_loop`: the invoker's."""
        self._cloud_view = cloud
        self._loop = runtime_loop
        self._reader = LogStoreReader(cloud.state_dir / LOG_STORE_FILE) if cloud else None
        self._reader_lock = asyncio.Lock()
        self._panels = ServicePanels(InProcessAws(services, host="127.0.0.1"))
        self._panel_routes = {(m, path): handler for m, path, handler in PANEL_ROUTES}
        self._routes: Sequence[Route] = (
            ("GET", re.compile(r"overview"), self._overview),
            ("GET", re.compile(r"functions/([^/]+)/invocations"), self._invocations),
            ("GET", re.compile(r"functions/([^/]+)/sample"), self._sample),
            ("POST", re.compile(r"functions/([^/]+)/invoke"), self._invoke),
            ("GET", re.compile(r"invocations/([^/]+)"), self._invocation),
            ("POST", re.compile(r"invocations/([^/]+)/replay"), self._replay),
            ("GET", re.compile(r"logs"), self._logs),
            ("POST", re.compile(r"schedules/([^/]+)/fire"), self._fire),
            ("GET", re.compile(r"live"), self._live),
            ("GET", re.compile(r"cost"), self._cost),
        )

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()

    @property
    def _cloud(self) -> CloudView:
        if self._cloud_view is None:
            raise ConsoleError(404, "This panel shows an app: run `lambic local` for it")
        return self._cloud_view

    # ------------------------------------------------------------------ dispatch

    async def handle(self, request: ServiceRequest) -> ServiceResponse:
        headers = request.headers
        why = refusal(
            request.method,
            headers.get("host", ""),
            request.client_host,
            headers.get("origin"),
            headers.get(CONSOLE_HEADER),
        )
        if why is not None:
            return _error(403, why)
        path = request.path
        if path == CONSOLE_PATH.rstrip("/"):
            return ServiceResponse(302, [("Location", CONSOLE_PATH)], b"")
        if path.startswith(CONSOLE_PATH):
            return self._asset(path[len(CONSOLE_PATH) :], request.method)
        if not path.startswith(API_PREFIX):
            return _error(404, f"No such console page: {path}; open {CONSOLE_PATH}")
        rest = path[len(API_PREFIX) :]
        panel = self._panel_routes.get((request.method, rest))
        if panel is not None:
            try:
                answer = await panel(self._panels, request)
            except AwsCallError as exc:
                return _error(exc.status, str(exc))
            return answer if isinstance(answer, ServiceResponse) else _json(answer)
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(rest)
            if match is None:
                continue
            if request.method != method:
                return _error(405, f"{rest} answers {method}")
            try:
                return await handler(request, *(unquote(g) for g in match.groups()))
            except ConsoleError as exc:
                return _error(exc.status, str(exc))
        return _error(404, f"No such console API: {rest}")

    def _asset(self, name: str, method: str) -> ServiceResponse:
        if method not in ("GET", "HEAD"):
            return _error(405, "The console's files answer GET")
        file = _ASSETS.get(name)
        if file is None:
            return _error(404, f"No such console file: {name}")
        body = (_STATIC / file).read_bytes()
        content_type = mimetypes.guess_type(file)[0] or "application/octet-stream"
        return ServiceResponse(
            200,
            [
                ("Content-Type", f"{content_type}; charset=utf-8"),
                ("Cache-Control", "no-store"),
                # The page loads only its own files and talks only to this origin.
                (
                    "Content-Security-Policy",
                    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
                ),
                ("X-Content-Type-Options", "nosniff"),
            ],
            body,
        )

    # ------------------------------------------------------------------ helpers

    async def _read(self, query: Callable[[LogStoreReader], _T]) -> _T:
        reader = self._reader
        if reader is None:
            raise ConsoleError(404, "This panel shows an app: run `lambic local` for it")
        async with self._reader_lock:  # one SQLite connection: one query at a time
            return await asyncio.to_thread(query, reader)

    async def _on_runtime(self, call: Coroutine[Any, Any, _T]) -> _T:
        if self._loop is None:
            call.close()
            raise ConsoleError(404, "This panel shows an app: run `lambic local` for it")
        future = asyncio.run_coroutine_threadsafe(call, self._loop)
        return await asyncio.shield(asyncio.wrap_future(future))

    def _project(self) -> Project:
        project = self._cloud.project
        if project is None:
            raise ConsoleError(503, "The app is still loading; try again in a moment")
        return project

    def _invoker(self) -> Invoker:
        invoker = self._cloud.invoker
        if invoker is None:
            raise ConsoleError(503, "The local cloud is starting or stopping")
        return invoker

    def _function(self, name: str) -> Any:
        functions = self._project().functions(self._cloud.stage)
        settings = functions.get(name)
        if settings is None:
            raise ConsoleError(404, f"No function {name!r}; the app has {', '.join(functions)}")
        return settings

    def _schedules(self) -> list[tuple[str, str, datetime | None]]:
        for component in self._cloud.event_sources:
            hook = getattr(component, "schedules", None)
            if hook is not None:
                schedules: list[tuple[str, str, datetime | None]] = hook()
                return schedules
        return []

    # ------------------------------------------------------------------ API

    async def _overview(self, request: ServiceRequest) -> ServiceResponse:
        project = self._project()
        stage = self._cloud.stage
        invoker = self._cloud.invoker
        entries = {f.name: f for f in project.manifest.functions}
        functions = []
        all_stats = await self._read(LogStoreReader.stats)
        for name, settings in project.functions(stage).items():
            stats = all_stats.get(settings.deployed_name, FunctionStats())
            warm, total = (0, 0)
            if invoker is not None:
                with contextlib.suppress(Exception):  # removed by a reload meanwhile
                    warm, total = invoker.environment_counts(name)
            entry = entries.get(name)
            functions.append(
                {
                    "name": name,
                    "deployed_name": settings.deployed_name,
                    "kind": settings.kind,
                    "handler": settings.handler,
                    "memory_size": settings.memory_size,
                    "timeout": settings.timeout,
                    "runtime": settings.runtime,
                    "reserved_concurrency": settings.reserved_concurrency,
                    "environment": sorted(settings.environment_variables),
                    "event_source": dict(entry.event_source or {}) if entry else {},
                    "environments": {"warm": warm, "total": total},
                    "stats": stats.to_json(),
                }
            )
        routes = [
            {"path": path, "methods": sorted(methods)}
            for path, methods in sorted(project.manifest.routes.items())
        ]
        schedules = [
            {"function": f, "expression": e, "next": due.isoformat() if due else None}
            for f, e, due in self._schedules()
        ]
        return _json(
            {
                "app": project.app_name,
                "stage": stage,
                "routes": routes,
                "functions": functions,
                "schedules": schedules,
                "now": time.time(),
            }
        )

    async def _invocations(self, request: ServiceRequest, name: str) -> ServiceResponse:
        settings = self._function(name)
        try:
            limit = min(int(request.query.get("limit") or 50), 500)
            before = int(request.query["before"]) if request.query.get("before") else None
        except ValueError as exc:
            raise ConsoleError(400, f"limit and before are numbers: {exc}") from exc
        rows = await self._read(
            partial(
                LogStoreReader.invocations,
                function=settings.deployed_name,
                limit=limit,
                before_id=before,
            )
        )
        journal = {e.request_id for e in self._invoker().journal.recent(name)}
        for row in rows:
            row["replayable"] = row["request_id"] in journal
        more = len(rows) == limit
        return _json(
            {"function": name, "invocations": rows, "before": rows[-1]["id"] if more else None}
        )

    async def _sample(self, request: ServiceRequest, name: str) -> ServiceResponse:
        settings = self._function(name)
        entry = next((f for f in self._project().manifest.functions if f.name == name), None)
        project = self._project()
        stage = self._cloud.stage
        try:
            event = sample_event(
                settings.kind,
                entry.event_source if entry else None,
                rule=f"{project.app_name}-{stage}-{name}-event",
                stage=project.config.api_gateway_stage(stage),
            )
        except ValueError as exc:
            event = {"note": f"no sample for this trigger: {exc}"}
        return _json({"function": name, "event": event})

    async def _run(self, name: str, payload: bytes) -> ServiceResponse:
        invoker = self._invoker()
        self._function(name)
        try:
            json.loads(payload)
        except ValueError as exc:
            raise ConsoleError(400, f"The event is not JSON: {exc}") from exc
        result = await self._on_runtime(invoker.invoke(name, payload))
        return _json(
            {
                "function": name,
                "request_id": result.request_id,
                "status": result.status,
                "error_type": result.error_type,
                "duration_ms": result.duration_ms,
                "cold_start": result.cold_start,
                "response": _decode(result.payload),
            }
        )

    async def _invoke(self, request: ServiceRequest, name: str) -> ServiceResponse:
        return await self._run(name, request.body or b"{}")

    async def _replay(self, request: ServiceRequest, request_id: str) -> ServiceResponse:
        entry = self._invoker().journal.find(request_id)
        if entry is None:
            raise ConsoleError(
                404, f"Invocation {request_id} is no longer kept (the newest 50 per function are)"
            )
        if entry.truncated:
            raise ConsoleError(409, "That event was too large to keep; invoke it by hand")
        return await self._run(entry.function, entry.event)

    async def _invocation(self, request: ServiceRequest, request_id: str) -> ServiceResponse:
        name = request.query.get("function", "")
        settings = self._function(name)
        logs = await self._read(lambda r: r.invocation_logs(settings.log_group, request_id))
        entry = self._invoker().journal.find(request_id)
        return _json(
            {
                "function": name,
                "request_id": request_id,
                "logs": logs,
                "event": _decode(entry.event) if entry else None,
                "response": _decode(entry.response) if entry else None,
                "truncated": entry.truncated if entry else False,
                "kept": entry is not None,
            }
        )

    async def _logs(self, request: ServiceRequest) -> ServiceResponse:
        query = request.query
        group = None
        if query.get("function"):
            group = self._function(query["function"]).log_group
        after = int(query.get("after", "0") or 0)
        text = query.get("text") or None
        rows = await self._read(
            lambda r: r.logs(log_group=group, text=text, after_id=after, limit=500)
        )
        level = (query.get("level") or "").lower()
        if level in _LEVELS:
            markers = _LEVELS[level] + (_LEVELS["error"] if level == "warning" else ())
            rows = [r for r in rows if any(m in r["message"] for m in markers)]
        return _json({"logs": rows})

    async def _fire(self, request: ServiceRequest, name: str) -> ServiceResponse:
        settings = self._function(name)
        if settings.kind != "schedule":
            raise ConsoleError(400, f"{name} is a {settings.kind} function, not a schedule")
        fires = [getattr(c, "fire_schedule", None) for c in self._cloud.event_sources]
        fire = next((f for f in fires if f is not None), None)
        if fire is None:
            raise ConsoleError(503, "Schedules are not running")

        async def now() -> str:  # on the runtime's loop, where the event queue lives
            request_id: str = fire(name)
            return request_id

        request_id = await self._on_runtime(now())
        return _json({"function": name, "request_id": request_id}, 202)

    async def _cost(self, request: ServiceRequest) -> ServiceResponse:
        """What `lambic cost --format json` prints for the same window and options."""
        from lambic.cost import CostError, PriceError, stage_estimate

        query = request.query
        try:
            since_ms = int(query.get("since") or 0)
            until_ms = int(query["until"]) if query.get("until") else int(time.time() * 1000) + 1
            per_day = float(query["per_day"]) if query.get("per_day") else None
        except ValueError as exc:
            raise ConsoleError(400, f"since, until (epoch ms), per_day: numbers: {exc}") from exc
        cloud = self._cloud
        meter = cloud.meter
        if meter is not None:
            # What was counted since the meter's last flush (every ~2 s) is priced too:
            # a request made just before opening the panel shows in it.
            await asyncio.to_thread(meter.flush)
        try:
            result = await asyncio.to_thread(
                stage_estimate,
                cloud.project_dir,
                cloud.stage,
                since_ms=since_ms,
                until_ms=until_ms,
                region=query.get("region") or "us-east-1",
                free_tier=query.get("free_tier", "1") != "0",
                per_day=per_day,
            )
        except (CostError, PriceError) as exc:
            raise ConsoleError(404, str(exc)) from exc
        return _json(result.to_dict())

    async def _live(self, request: ServiceRequest) -> ServiceResponse:
        usage_id, log_id = await self._read(lambda r: r.last_ids())
        return ServiceResponse(
            200,
            [
                ("Content-Type", "text/event-stream"),
                ("Cache-Control", "no-store"),
                ("X-Accel-Buffering", "no"),
            ],
            stream=self._feed(usage_id, log_id),
        )

    async def _feed(self, usage_id: int, log_id: int) -> AsyncIterator[bytes]:
        names = self._deployed_names()
        deadline = time.monotonic() + LIVE_MAX_SECONDS
        yield b"retry: 1000\n\n"
        while time.monotonic() < deadline:
            await asyncio.sleep(LIVE_POLL_SECONDS)
            usage = await self._read(partial(LogStoreReader.usage_after, after_id=usage_id))
            logs = await self._read(partial(LogStoreReader.logs, after_id=log_id, limit=500))
            chunks = []
            for row in usage:
                usage_id = row["id"]
                row["function"] = names.get(row["function_name"], row["function_name"])
                chunks.append(b"event: invocation\ndata: " + json.dumps(row).encode() + b"\n\n")
            for row in logs:
                log_id = row["id"]
                chunks.append(b"event: log\ndata: " + json.dumps(row).encode() + b"\n\n")
            if usage:
                names = self._deployed_names()
            yield b"".join(chunks) if chunks else b": idle\n\n"

    def _deployed_names(self) -> dict[str, str]:
        project = self._cloud.project
        if project is None:
            return {}
        return {s.deployed_name: s.name for s in project.functions(self._cloud.stage).values()}
