"""The names `lambic local`'s processes show in `top` and `ps -o comm`.

The zygote is a fork of the CLI (`_zygote_fork`), and environments, the spare, the
manifest reader, the namespace processes and the log writer are forks of the zygote:
each would show its parent's name and command line, so each names itself (the kernel
keeps 15 bytes). `bench/startup.py` tells the roles apart by these names. The init of
each environment's PID namespace is an exec'd `cat` (`_namespaces`): `ps -o comm` and
`top` show it as cat, `ps -o args` as lambic-ns (a process names only itself, and cat
does not).
"""

from __future__ import annotations

import contextlib

__all__ = ["ENVIRONMENT", "LOG_WRITER", "NAMESPACES", "READER", "ZYGOTE", "name_this_process"]

ZYGOTE = "lambic-zygote"
#: An execution environment, and the spare forked ahead to become one.
ENVIRONMENT = "lambic-env"
#: The manifest reader (imports app.py for its routes, then exits).
READER = "lambic-reader"
#: The namespace factory and its builders; the argv[0] of each namespace's init (`cat`).
NAMESPACES = "lambic-ns"
LOG_WRITER = "lambic-logs"


def name_this_process(name: str) -> None:
    """Set this process's name (`/proc/self/comm`); nothing where there is none."""
    with contextlib.suppress(OSError), open("/proc/self/comm", "w") as comm:
        comm.write(name)
