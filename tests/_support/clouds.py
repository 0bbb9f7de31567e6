"""`lambic local`'s cloud in the test process: a LocalCloud on its own event loop thread.

Example::

    with RunningCloud(project, reload=False) as cloud:
        assert cloud.request("GET", "/").status == 200
        cloud.wait_for_line(r"REPORT")
"""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambic.runtime.local import LocalCloud


@dataclass
class Reply:
    """What a client read: status, headers, the whole body."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def getheader(self, name: str) -> str | None:
        return self.headers.get(name)


class RunningCloud:
    """A LocalCloud on a free port, its terminal output captured in `lines`.

    `options` go to LocalCloud (reload, verbose, integration_timeout, ...). Entering
    starts it (gateway, execution environments); leaving stops it and its loop.
    """

    def __init__(self, project: Path, **options: Any) -> None:
        self.lines: list[str] = []
        self.project = project
        self.cloud = LocalCloud(
            project, port=0, echo=lambda text: self.lines.extend(text.splitlines()), **options
        )
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> RunningCloud:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.cloud.start(), self.loop).result(timeout=60)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self.cloud.stop(), self.loop).result(timeout=60)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)
            self.loop.close()

    @property
    def port(self) -> int:
        """The gateway's port (API Gateway's stand-in)."""
        gateway = self.cloud.gateway
        if gateway is None:
            raise AssertionError("the gateway is not running")
        return gateway.port

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        *,
        timeout: float = 30,
    ) -> Reply:
        """One request to the gateway on a connection of its own."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body or None, headers=headers or {})
            response = conn.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            conn.close()

    def wait_for_line(self, pattern: str, timeout: float = 10) -> str:
        """The first output line matching `pattern`, waiting up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if re.search(pattern, line):
                    return line
            time.sleep(0.02)
        raise AssertionError(f"no output line matching {pattern!r} in {self.lines[-20:]}")
