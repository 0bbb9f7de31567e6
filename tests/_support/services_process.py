"""`lambic services` as its own process, as a user starts it, on a free port."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path


class ServicesProcess:
    """`python -m lambic services --port 0 [args]`, persisted under `state` or in memory,
    with `env` added to this process's environment.

    The port is read from the first line the command prints; `stop()` is SIGTERM and a
    wait, as a terminal's Ctrl-C.
    """

    def __init__(
        self,
        state: Path | None = None,
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.state = state
        where = ["--state", str(state)] if state is not None else ["--in-memory"]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lambic", "services", "--port", "0", *where, *args],
            env=None if env is None else {**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if match is None:
            self.process.kill()
            self.process.communicate(timeout=20)
            raise AssertionError(f"lambic services did not start: {line!r}")
        self.port = int(match.group(1))
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.communicate(timeout=20)  # reaps it and closes its stdout pipe
