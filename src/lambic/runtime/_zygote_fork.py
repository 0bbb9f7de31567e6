"""`lambic local`'s zygote forked from the CLI's process instead of started as a new
interpreter.

The zygote and the gateway's process import much of the same code: ~190 modules of
the standard library that boto3 and the services both use (email, ssl, xml,
decimal, uuid, ...) and `lambic.app`, ~11 MB of objects once imported; the log
store's writer, which the zygote forks, imports what the gateway's log store does.
Started as a new interpreter, the zygote built copies of its own. Forked once the
CLI has imported them (`SHARED_IMPORTS`), the processes share those pages until one
writes to one (measured on the flagship: ~6.5 MB less PSS in total at idle; many of
the pages are written to sooner or later by one side: reference counts) and the
zygote skips an interpreter's start.

The fork happens at the very start of `lambic local` (`_zygote_launch.launch_ahead`),
before click, asyncio or any thread, and only in a process without threads (a fork
copies only the thread that forks; another thread's lock held then stays held in the
child forever): elsewhere the zygote is started as a new interpreter, as before. The
child sheds what it inherited and the new interpreter would not have had (descriptors
other than its sockets and the terminal, stdin, the CLI's `__main__` and script
directory on `sys.path`) and never returns into the CLI's code: it runs
`_zygote_main.main` and `os._exit`s. Its command line is the CLI's; its name (`comm`,
what `top` and `ps -o comm` show) is `PROCESS_NAME`; what it forks names itself
(`_process_names`).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import signal
import subprocess
import sys
import threading
import types
from collections.abc import Sequence

from lambic import _start_trace
from lambic.runtime._descriptors import close_all_but
from lambic.runtime._process_names import ZYGOTE, name_this_process
from lambic.runtime._waiting import poll_until

__all__ = [
    "BOTH_USE",
    "PROCESS_NAME",
    "SHARED_IMPORTS",
    "WRITER_USES",
    "ForkedProcess",
    "can_fork",
    "fork_zygote",
]

#: The standard library and `lambic` modules that the zygote's preload (boto3's import
#: above all) and the gateway's process (serving the flagship: a table, a bucket, a
#: schedule) both import: these names pull in ~190 modules, ~11 MB of objects.
#: `tests/integration/runtime/test_zygote_fork.py` checks that both sides still do.
BOTH_USE = (
    "lambic.app",
    "lambic.app.schedules",
    "lambic.runtime._ipc",
    "lambic.runtime._log_writer_fork",
    "lambic.runtime._management_redirect",
    "lambic.runtime._zygote_process",
    "concurrent.futures.thread",
    "contextvars",
    "decimal",
    "email.header",
    "email.utils",
    "http",
    "secrets",
    "ssl",
    "tempfile",
    "uuid",
    "xml.etree.ElementTree",
)

#: The log store's writer, which the zygote forks once its image is final and the store busy
#: (`_log_writer_fork`): what it imports (sqlite3, orjson, the log store) the gateway's
#: process imports too.
#: Imported by the writer after the fork, they were ~2 MB of its own memory (the
#: import machinery writes to pages of the image it shares); imported here, nobody
#: holds a copy (measured on the flagship: the writer's own 5.0 -> 3.1 MB).
WRITER_USES = ("lambic.runtime._log_writer",)

#: What the CLI's process imports before forking: the above, and the zygote's entry
#: point, which the child runs at once (its few modules of its own: ~1 ms here).
SHARED_IMPORTS = (*BOTH_USE, *WRITER_USES, "lambic.runtime._zygote_main")

#: The forked zygote's process name (`/proc/PID/comm`).
PROCESS_NAME = ZYGOTE


class ForkedProcess:
    """Our handle on the forked zygote, with the parts of `subprocess.Popen` that its
    users call (`pid`, `returncode`, `poll`, `wait`, `kill`)."""

    __slots__ = ("pid", "returncode")

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """The exit code once the process has ended (reaped here), else None."""
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped by someone else: its status is lost
                self.returncode = -1
            else:
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the end (`subprocess.TimeoutExpired` after `timeout` seconds)."""
        if not poll_until(lambda: self.poll() is not None, timeout):
            raise subprocess.TimeoutExpired(PROCESS_NAME, timeout or 0.0)
        assert self.returncode is not None  # set by `poll`
        return self.returncode

    def kill(self) -> None:
        """SIGKILL, unless it has been reaped already (its pid may be another's now)."""
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


def can_fork() -> bool:
    """Whether this process may fork the zygote: it runs no thread but this one, and it
    is still small (it has not imported asyncio: a process that has, a test runner's
    say, would hand the zygote pages of its own it does not share with anything)."""
    return hasattr(os, "fork") and threading.active_count() == 1 and "asyncio" not in sys.modules


def import_shared() -> None:
    """Import `SHARED_IMPORTS` (without collecting: nothing they make is garbage) and
    freeze the result, so that neither process's collections write to those pages."""
    gc.disable()
    try:
        for name in SHARED_IMPORTS:
            with contextlib.suppress(ImportError):
                importlib.import_module(name)
    finally:
        gc.freeze()
        gc.enable()


def fork_zygote(args: Sequence[str], keep: Sequence[int]) -> ForkedProcess:
    """Fork the zygote, which runs `_zygote_main.main(args)` with the descriptors
    `keep` open (and the terminal's); call `can_fork` first."""
    import_shared()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return ForkedProcess(pid)
    status = 1
    try:
        _shed_inheritance(keep)
        from lambic.runtime import _zygote_main

        sys.argv = [_zygote_main.__file__ or "_zygote_main", *args]
        _zygote_main.main(args)
        status = 0
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:  # never back into the CLI's code
        with contextlib.suppress(BaseException):
            import traceback

            traceback.print_exc()
    finally:
        os._exit(status)


def _shed_inheritance(keep: Sequence[int]) -> None:
    """In the child: what a new interpreter started with `pass_fds=keep` and stdin
    from /dev/null would not have had."""
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    trace = _start_trace.descriptor()  # LAMBIC_START_TRACE's file: the zygote stamps too
    close_all_but([*keep, *([] if trace is None else [trace])])
    # The CLI's script directory (or working directory, under `python -m`) is first on
    # sys.path unless -P; `_zygote_main.main` drops the working directory as before.
    if not sys.flags.safe_path and sys.path:
        del sys.path[0]
    # The CLI's `__main__` (the console script) and its half-imported `lambic.cli`:
    # code run later in an environment finds neither, as under a new interpreter.
    sys.modules["__main__"] = types.ModuleType("__main__")
    for name in [n for n in sys.modules if n == "lambic.cli" or n.startswith("lambic.cli.")]:
        del sys.modules[name]
    name_this_process(PROCESS_NAME)
