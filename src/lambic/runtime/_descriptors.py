"""Descriptors across a fork: what a fork inherited and must not keep (every
descriptor above the terminal's), and a fork with a pipe between the two sides.

The zygote (a fork of the CLI), the log writer (a fork of the zygote) and a
namespace's interpreter init each close everything but the few descriptors they
serve with, so that no pipe or socket of their parent's stays open in them (a
pipe's reader sees its end only when every writer has closed it).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

__all__ = ["close_all_but", "fork_with_pipe"]


def close_all_but(keep: Iterable[int]) -> None:
    """Close every descriptor above the terminal's (0-2) but `keep` (`os.closerange`:
    one close_range call per gap where the kernel has it)."""
    low = 3
    for fd in sorted({fd for fd in keep if fd >= low}):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, os.sysconf("SC_OPEN_MAX"))


def fork_with_pipe() -> tuple[int, int, int]:
    """`os.fork()` with a new pipe both sides hold: (pid, read end, write end); each
    side closes the end it does not use. OSError: the fork failed (the pipe closed)."""
    reading, writing = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(reading)
        os.close(writing)
        raise
    return pid, reading, writing
