"""The app manifest: what an `app.py` defines, read without importing it here.

The user's module is imported in a *child* Python process (`_manifest_child`), never
in the CLI or gateway process, so a reload sees fresh code and a broken app cannot
take the gateway down. The child prints one JSON document; this module runs it and
turns the document into frozen dataclasses:

    project dir --(python -m lambic.project._manifest_child DIR)--> JSON --> AppManifest

`lambic local` passes a `ManifestReader` (its zygote), which forks the child from a
process that has the programming model and boto3 imported already, instead of
starting an interpreter that imports them again.

A user error (no app.py, no `app`, syntax or import error) comes back as one line in
a `ProjectError`.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from lambic.project.errors import ProjectError

__all__ = [
    "MANIFEST_TIMEOUT_SECONDS",
    "AppManifest",
    "FunctionEntry",
    "ManifestReader",
    "RouteInfo",
    "aread_manifest",
    "read_manifest",
    "require_app_py",
]

# Importing a big app (boto3, pandas...) can take seconds; a hung import must not hang us.
MANIFEST_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class FunctionEntry:
    """One Lambda function of the app (`lambic.app.functions(app)`)."""

    name: str
    handler: str
    kind: str = "lambda"
    event_source: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class RouteInfo:
    """One method on one resource path, as the gateway needs it."""

    path: str
    method: str
    view_name: str
    content_types: tuple[str, ...] = ("application/json",)
    cors: Mapping[str, Any] | None = None  # the `Access-Control-*` response headers
    authorizer_name: str | None = None
    api_key_required: bool = False
    # The authorizer as `lambic.app.authorizers.describe_authorizer` gives it.
    authorizer: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class AppManifest:
    """Everything the runtime needs to know about an app, as plain data."""

    app_name: str
    functions: tuple[FunctionEntry, ...] = ()
    routes: Mapping[str, Mapping[str, RouteInfo]] = field(default_factory=dict)
    binary_types: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AppManifest:
        functions = tuple(
            FunctionEntry(f["name"], f["handler"], f.get("kind", "lambda"), f.get("event_source"))
            for f in data.get("functions", [])
        )
        routes: dict[str, dict[str, RouteInfo]] = {}
        for path, methods in data.get("routes", {}).items():
            routes[path] = {
                method: RouteInfo(
                    path=path,
                    method=method,
                    view_name=info.get("view_name", ""),
                    content_types=tuple(info.get("content_types") or ("application/json",)),
                    cors=info.get("cors"),
                    authorizer_name=info.get("authorizer_name"),
                    api_key_required=bool(info.get("api_key_required", False)),
                    authorizer=info.get("authorizer"),
                )
                for method, info in methods.items()
            }
        return cls(
            app_name=data["app_name"],
            functions=functions,
            routes=routes,
            binary_types=tuple(data.get("binary_types", ())),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "app_name": self.app_name,
            "functions": [
                {
                    "name": f.name,
                    "handler": f.handler,
                    "kind": f.kind,
                    "event_source": f.event_source,
                }
                for f in self.functions
            ],
            "routes": {
                path: {
                    m: {
                        "view_name": r.view_name,
                        "content_types": list(r.content_types),
                        "cors": r.cors,
                        "authorizer_name": r.authorizer_name,
                        "api_key_required": r.api_key_required,
                        "authorizer": r.authorizer,
                    }
                    for m, r in methods.items()
                }
                for path, methods in self.routes.items()
            },
            "binary_types": list(self.binary_types),
        }


class ManifestReader(Protocol):
    """Runs `_manifest_child` elsewhere (`runtime.zygote.Zygote.read_app`)."""

    async def read_app(
        self, project_dir: Path, env: Mapping[str, str], timeout: float
    ) -> tuple[bytes, int | None]:
        """(the child's output, its exit status); TimeoutError past `timeout`."""
        ...


def _command(project_dir: Path) -> list[str]:
    return [sys.executable, "-m", "lambic.project._manifest_child", str(project_dir)]


def require_app_py(project_dir: Path) -> None:
    """Raise `ProjectError` (what to run) unless `project_dir` holds an app.py."""
    if not (project_dir / "app.py").is_file():
        raise ProjectError(
            f"No app.py in {project_dir}; run `lambic new-project NAME` or pass --project-dir"
        )


def _decode(stdout: bytes, stderr: bytes, returncode: int | None) -> AppManifest:
    try:
        doc = json.loads(stdout.decode("utf-8").strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        tail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise ProjectError(f"Reading the app failed (exit status {returncode}): {tail[0]}") from exc
    if "error" in doc:
        raise ProjectError(str(doc["error"]))
    return AppManifest.from_json(doc["manifest"])


def read_manifest(
    project_dir: str | Path,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = MANIFEST_TIMEOUT_SECONDS,
) -> AppManifest:
    """Import `<project_dir>/app.py` in a child process and return its manifest.

    `env` is the child's whole environment (`environ.import_environment` builds the one
    a function would see); None inherits ours.
    """
    path = Path(project_dir).resolve()
    require_app_py(path)
    try:
        proc = subprocess.run(
            _command(path),
            capture_output=True,
            timeout=timeout,
            cwd=path,
            env=None if env is None else dict(env),
        )
    except subprocess.TimeoutExpired as exc:
        raise ProjectError(
            f"Importing app.py took more than {timeout:.0f} s; does it block at import time?"
        ) from exc
    return _decode(proc.stdout, proc.stderr, proc.returncode)


async def aread_manifest(
    project_dir: str | Path,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = MANIFEST_TIMEOUT_SECONDS,
    reader: ManifestReader | None = None,
) -> AppManifest:
    """`read_manifest` for an event loop: the import runs in a child, we never block;
    a `reader` runs that child (with `env`, else our environment)."""
    path = Path(project_dir).resolve()
    require_app_py(path)
    if reader is not None:
        try:
            output, status = await reader.read_app(
                path, os.environ if env is None else env, timeout
            )
        except TimeoutError as exc:
            raise ProjectError(
                f"Importing app.py took more than {timeout:.0f} s; does it block at import time?"
            ) from exc
        return _decode(output, b"", status)
    proc = await asyncio.create_subprocess_exec(
        *_command(path),
        cwd=path,
        env=None if env is None else dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout)
    except asyncio.TimeoutError as exc:
        proc.kill()
        await proc.wait()
        raise ProjectError(
            f"Importing app.py took more than {timeout:.0f} s; does it block at import time?"
        ) from exc
    return _decode(stdout, stderr, proc.returncode)
