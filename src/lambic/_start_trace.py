"""Start-up stamps across processes: where `lambic local`'s first answer waits.

With `LAMBIC_START_TRACE=FILE` in the environment, `stamp("phase")` appends one
line `<CLOCK_MONOTONIC ns> <pid> <process CPU ns> <phase>` to FILE (opened O_APPEND
once per process: forks inherit the descriptor, an exec'd zygote opens it again); `bench/startup.py
--trace` reads the lines back as each process's phases from exec to the first answer.
Unset (always, outside that bench), `stamp` is a function that returns at once.

Standard library only and nothing imported beyond `contextlib`, `os` and `time`: the CLI stamps
before its own imports.
"""

from __future__ import annotations

import contextlib
import os
import time

__all__ = ["TRACE_VARIABLE", "descriptor", "stamp"]

#: The variable naming the file the stamps go to.
TRACE_VARIABLE = "LAMBIC_START_TRACE"

_path = os.environ.get(TRACE_VARIABLE)
_fd = -1
if _path:
    try:
        _fd = os.open(_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:
        _fd = -1


def descriptor() -> int | None:
    """The trace file's descriptor in this process (None when not tracing): a fork that
    closes what it inherited keeps this one."""
    return _fd if _fd >= 0 else None


def stamp(phase: str) -> None:
    """Record that this process reached `phase` now (when tracing; else nothing)."""
    if _fd >= 0:
        # One write(2) per line, O_APPEND: lines of concurrent processes never interleave.
        line = f"{time.monotonic_ns()} {os.getpid()} {time.process_time_ns()} {phase}\n".encode()
        with contextlib.suppress(OSError):
            os.write(_fd, line)
