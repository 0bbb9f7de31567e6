"""What tests ask of a process by its pid, from /proc: whether it still runs, waiting
for it to end, its children, and the memory that is its own."""

from __future__ import annotations

import os
import time
from pathlib import Path

__all__ = ["alive", "children", "own_kb", "wait_gone"]


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie has ended: only its status is left to read)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            # The state follows the command's name, which may itself hold spaces and ")".
            return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def wait_gone(pid: int, timeout: float = 10.0) -> bool:
    """Whether `pid` ended within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.02)
    return False


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (its threads' children too)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parent = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if parent == pid:
                found.append(int(entry))
    return found


def own_kb(pid: int) -> int:
    """The process's unique set (USS, kB): memory no other process shares."""
    total = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            total += int(line.split()[1])
    return total
