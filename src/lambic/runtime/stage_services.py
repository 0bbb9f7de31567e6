"""The local services a one-off command uses: a running `lambic local`'s, or its own.

`lambic invoke` must reach the same local cloud `lambic local` serves, never real AWS
by accident. So for a stage it either

    finds a live `lambic local` (the stage's endpoint file names a live process whose
    URL answers) and uses its services over HTTP, or
    opens the services itself, on an ephemeral loopback port over the stage's state
    directory (the data lands where `lambic local` keeps it), creates the declared
    resources, and stops them when the command is done.

Only the holder of the stage's `ServicesLock` opens engines (`endpoint_file` says
why); a command that finds the lock held but no endpoint yet (a `lambic local` still
starting, or another `lambic invoke`) waits for one of the two.

    async with stage_services(project_dir, "dev", config.resources("dev"),
                              invoker=lambda: invoker) as url:
        env = endpoint_environment(url, environ={})
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from lambic.project.paths import ProjectPaths
from lambic.project.resources import DeclaredResources
from lambic.runtime.endpoint_file import live_endpoint
from lambic.runtime.errors import LambicRuntimeError, ServicesInUseError
from lambic.runtime.lambda_api import FunctionInvoker
from lambic.runtime.local_services import LocalServices

__all__ = ["stage_services"]

#: How long to wait for another process that holds the stage's state without serving
#: it (a `lambic local` starting, another `lambic invoke` finishing).
CLAIM_TIMEOUT_SECONDS = 60.0


@contextlib.asynccontextmanager
async def stage_services(
    project_dir: Path,
    stage: str,
    resources: DeclaredResources,
    *,
    invoker: Callable[[], FunctionInvoker | None] = lambda: None,
    echo: Callable[[str], None] = print,
    timeout: float = CLAIM_TIMEOUT_SECONDS,
) -> AsyncIterator[str]:
    """The URL of `stage`'s local services for the body of the `async with`.

    `invoker` serves Lambda's API on services opened here (a function may invoke
    another); `echo` gets the resources created and any wait.
    """
    paths = ProjectPaths(project_dir)
    deadline = time.monotonic() + timeout
    waiting = False
    while True:
        endpoint = await asyncio.to_thread(live_endpoint, paths.local_endpoint(stage))
        if endpoint is not None:
            yield endpoint.url
            return
        services = LocalServices(host="127.0.0.1", port=0)
        try:
            url = await services.open(paths.state_dir(stage), invoker)
        except ServicesInUseError as exc:
            if time.monotonic() >= deadline:
                raise LambicRuntimeError(f"Local services: {exc}") from exc
            if not waiting:
                echo(f"Waiting for process {exc.pid or '?'}, which holds stage {stage}'s state...")
                waiting = True
            await asyncio.sleep(0.1)
            continue
        try:
            created = await services.create_resources(resources)
            if created:
                echo("Created " + ", ".join(created))
            yield url
        finally:
            await services.stop()
        return
