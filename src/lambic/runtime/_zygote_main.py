"""The zygote process's entry point:
`python -m lambic.runtime._zygote_main FD PPID MODS [hold] [log-writer=FD]`.

Kept apart from `zygote.py` so that running it with -m does not re-execute a module
the package has already imported.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from collections.abc import Sequence

from lambic._start_trace import stamp
from lambic.runtime import _isolation
from lambic.runtime._sandbox import set_parent_death_signal
from lambic.runtime._zygote_process import preload_modules, serve


def main(argv: Sequence[str]) -> None:
    """Entry point: `... CTRL_FD PARENT_PID PRELOAD,... [hold] [log-writer=FD]`;
    `log-writer=FD`: fork the log store's writer on that socket (`lambic local`'s)."""
    ctrl_fd, parent_pid = int(argv[0]), int(argv[1])
    options = argv[3:]
    log_fd = next(
        (int(o[len("log-writer=") :]) for o in options if o.startswith("log-writer=")), None
    )
    stamp("zygote: main")
    # `-m` put the invoker's working directory first on sys.path; a Lambda function
    # sees only its task root (added per environment) and the runtime's packages.
    cwd = os.getcwd()
    sys.path[:] = [p for p in sys.path if p not in ("", cwd)]
    set_parent_death_signal(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the invoker's to handle
    _isolation.namespaced()  # probed now (a fork) where on: cheaper before the preload
    warm = preload_modules([m for m in argv[2].split(",") if m] if len(argv) > 2 else [])
    stamp("zygote: preloaded")
    ctrl = socket.socket(fileno=ctrl_fd)
    serve(ctrl, warm, hold_warm="hold" in options, log_writer=log_fd)


if __name__ == "__main__":
    main(sys.argv[1:])
