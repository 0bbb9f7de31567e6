"""Services built on their first request, so a fresh edge answers its first request soon.

Importing and opening all five services costs `lambic services` most of its start-up
(~0.2 s of imports on a quiet machine), yet the first request needs one of them. A
`DeferredService` stands in for a service on the edge and builds it (the same
`create_service`, the same SQLite durability) when a request first reaches it.

With `warm=True`, once any service has answered, `DeferredServices` builds the services
added as warmed on a background thread, so a later first call to one of them does not
pay for its import. `lambic local` warms only those an earlier run of the stage used
(their database exists), `lambic services` none: each other service is built by its
own first request only. A service never called costs no memory (the engines' code is
~5 MB of an idle edge's ~25), and a first call to another service pays its import and
database opening once (CPU: SQS ~15 ms, SNS with SQS ~30, STS ~5, EventBridge ~3,
measured on a busy 2-core machine; the wall time, mostly creating its SQLite file, was
~20-150 ms there).

    deferred = create_deferred_services(state_dir)     # nothing imported yet
    serve(deferred.by_name(), ...)                     # first request builds its service

Thread safety: each service is built under its own lock (the warming thread and the
edge's loop may both ask for it); the stores' SQLite connections are shared across
threads already (`project.sqlite`).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from typing import Any

from lambic.services.base import Service, ServiceRequest, ServiceResponse, SpoolingService

__all__ = ["DeferredService", "DeferredServices"]


class DeferredService:
    """A service of the edge that is built when first used (see the module doc)."""

    def __init__(
        self,
        name: str,
        build: Callable[[], Service],
        group: DeferredServices,
        *,
        warm: bool = True,
    ) -> None:
        self.name = name
        self._build = build
        self._group = group
        #: Built by the warming thread after the first answer (else only when used).
        self.warm = warm
        self._lock = threading.Lock()
        self._service: Service | None = None
        self._closed = False

    @property
    def built(self) -> bool:
        return self._service is not None

    def get(self) -> Service:
        """The service, built now if it was not yet."""
        service = self._service
        if service is not None:
            return service
        with self._lock:
            if self._service is None:
                if self._closed:
                    raise RuntimeError(f"The {self.name} service is closed")
                self._service = self._build()
            return self._service

    # A deferred S3 still takes uploads as files (`SpoolingService`): the edge asks
    # before the body arrives, which builds the service the request needs anyway.
    @property
    def spool_directory(self) -> str | None:
        service = self.get()
        return service.spool_directory if isinstance(service, SpoolingService) else None

    def takes_upload(self, head: ServiceRequest) -> bool:
        service = self.get()
        return isinstance(service, SpoolingService) and service.takes_upload(head)

    def refuse_at_head(self, head: ServiceRequest) -> ServiceResponse | None:
        service = self.get()
        return service.refuse_at_head(head) if isinstance(service, SpoolingService) else None

    async def handle(self, request: ServiceRequest) -> ServiceResponse:
        held = self._group.held
        if held is not None and not held.done():
            # Its outcome is the holder's to report; the request just comes after it.
            waiting = asyncio.wrap_future(held)
            await asyncio.wait([waiting])
            if not waiting.cancelled():
                waiting.exception()  # retrieved here: no "never retrieved" warning
        response = await self.get().handle(request)
        self._group.answered()
        return response

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._service is not None:
                self._service.close()


class DeferredServices:
    """The deferred services of one edge, in creation order; with `warm`, builds the
    rest after the first answer."""

    def __init__(self, *, warm: bool = True) -> None:
        self._services: dict[str, DeferredService] = {}
        self._warm = warm
        self._answered = False
        self._first_answer_hooks: list[Callable[[], None]] = []
        self._warming: threading.Thread | None = None
        #: Requests wait for this first (`hold_requests`).
        self.held: Future[object] | None = None

    def add(self, name: str, build: Callable[[], Service], *, warm: bool = True) -> DeferredService:
        """Offer service `name`; `warm=False` leaves it out of the warming after the first
        answer (a service few apps use is built by its own first request)."""
        service = self._services[name] = DeferredService(name, build, self, warm=warm)
        return service

    def hold_requests(self, until: Future[Any]) -> None:
        """Answer requests only once `until` is done (`lambic local` creating its
        declared resources while it reads app.py); calls made through `built_on_use`
        do not wait."""
        self.held = until

    def by_name(self) -> dict[str, Service]:
        return dict(self._services)

    def get(self, name: str) -> Service:
        """The named service, built now if it was not yet (KeyError: not offered)."""
        return self._services[name].get()

    def built_on_use(self) -> Mapping[str, Service]:
        """The services themselves, each built when looked up: calls made through it
        (e.g. `lambic local` creating its declared resources) do not count as the
        first answer that starts building the others."""
        return _BuiltOnUse(self)

    def on_first_answer(self, hook: Callable[[], None]) -> None:
        """Call `hook` (on the edge's loop) once the first answer is made, just before
        it is written."""
        self._first_answer_hooks.append(hook)

    def answered(self) -> None:
        """Called after each answer; the first runs the first-answer hooks and, when
        warming, starts building the other services."""
        if self._answered:
            return
        self._answered = True
        for hook in self._first_answer_hooks:
            hook()
        if self._warm:
            self._warming = threading.Thread(target=self.warm, name="lambic-warm", daemon=True)
            self._warming.start()

    def warm(self) -> None:
        """Build every warmed service not built yet (a closed edge builds nothing)."""
        for service in self._services.values():
            if not service.warm:
                continue
            try:
                service.get()
            except RuntimeError:  # closed meanwhile: nothing left to warm
                return

    def close(self) -> None:
        for service in self._services.values():
            service.close()


class _BuiltOnUse(Mapping[str, Service]):
    def __init__(self, group: DeferredServices) -> None:
        self._group = group

    def __getitem__(self, name: str) -> Service:
        return self._group.get(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._group.by_name())

    def __len__(self) -> int:
        return len(self._group.by_name())
