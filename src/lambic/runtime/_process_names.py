"""The names `lambic local`'s processes show in `top` and `ps -o comm`.

The zygote is a fork of the CLI (`_zygote_fork`), and environments, the spare, the
manifest reader and the log writer are forks of the zygote: each would show its
parent's name and command line, so each names itself (the kernel keeps 15 bytes).
`bench/startup.py` tells the roles apart by these names. The init of each
environment's PID namespace is an exec'd `cat`, named by the path it is exec'd under
(`_namespaces._spawn_cat`): it too shows as lambic-ns.
"""

from __future__ import annotations

import contextlib
import os

__all__ = ["ENVIRONMENT", "LOG_WRITER", "NAMESPACES", "READER", "ZYGOTE", "name_this_process"]

ZYGOTE = "lambic-zygote"
#: An execution environment, and the spare forked ahead to become one.
ENVIRONMENT = "lambic-env"
#: The manifest reader (imports app.py for its routes, then exits).
READER = "lambic-reader"
#: Each PID namespace's init (`cat`, exec'd as this; or an interpreter where there is none).
NAMESPACES = "lambic-ns"
LOG_WRITER = "lambic-logs"


def name_this_process(name: str) -> None:
    """Set this process's name (`/proc/self/comm`); nothing where there is none."""
    # Raw calls, not a text file: run first thing in every fork, the io stack's code
    # would write to (copy) pages of the image the fork shares.
    with contextlib.suppress(OSError):
        fd = os.open("/proc/self/comm", os.O_WRONLY)
        try:
            os.write(fd, name.encode())
        finally:
            os.close(fd)
