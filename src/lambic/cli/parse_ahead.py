"""`lambic local`'s options parsed by its click command in a short-lived fork, so that
the process that then serves for hours never imports click.

The console script (`lambic.__main__`) forks, once `lambic local`'s zygote is forked
(`_zygote_launch.launch_ahead`) and while the process still has a single thread; the
child runs the whole `lambic` group on the command line as any command does, and
`local`, finding a `HandBack` in its context, writes its `LocalOptions` to a pipe
instead of serving, then exits. The parent serves them (`local_serve.serve`). When the
child hands nothing back it has already said why on the terminal (usage, an invalid
value) and its exit status becomes the command's. Elsewhere (a process with threads,
`local --help`, any other command) the group runs in this process, as before.

Standard library only, as `local_serve` is: importing this is all the serving
process pays for the command line.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Sequence
from typing import NoReturn

from lambic.cli.local_serve import LocalOptions
from lambic.runtime._descriptors import fork_with_pipe
from lambic.runtime._zygote_fork import can_fork
from lambic.runtime._zygote_launch import is_local_command

__all__ = ["HandBack", "local_options"]


class HandBack:
    """In the parsing child: where `lambic local` sends its options instead of serving."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def __call__(self, options: LocalOptions) -> None:
        data = memoryview(options.to_json())
        while data:
            data = data[os.write(self._fd, data) :]


def local_options(argv: Sequence[str]) -> LocalOptions | None:
    """`lambic local`'s options, parsed in a fork; None for any other command (or where
    this process cannot fork: then the group parses in this process). A command line
    that parses to nothing to serve (a usage error) ends this process with the status
    the parse ended with, as the group would have (`SystemExit`)."""
    if not is_local_command(argv) or not can_fork():
        return None
    sys.stdout.flush()
    sys.stderr.flush()
    pid, read_end, write_end = fork_with_pipe()
    if pid == 0:
        os.close(read_end)
        _parse(argv, write_end)
    os.close(write_end)
    interrupted = False
    with os.fdopen(read_end, "rb") as pipe:
        try:
            data = pipe.read()
        except KeyboardInterrupt:
            # Ctrl-C reaches the child too (it says "Aborted!", as click does); a
            # SIGINT meant for this process alone stops the child.
            interrupted, data = True, b""
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGINT)
    status = _wait(pid)
    if interrupted:
        raise SystemExit(1)
    if not data:
        raise SystemExit(status)
    return LocalOptions.from_json(data)


def _wait(pid: int) -> int:
    while True:
        try:
            _, status = os.waitpid(pid, 0)
        except KeyboardInterrupt:
            continue
        code = os.waitstatus_to_exitcode(status)
        return code if code >= 0 else 128 - code  # killed by a signal: as a shell says


def _parse(argv: Sequence[str], write_end: int) -> NoReturn:
    """In the child: run the `lambic` group on `argv`; never return."""
    status = 1
    try:
        from lambic.cli.main import main

        main(args=list(argv[1:]), obj=HandBack(write_end))
        status = 0
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:  # never back into the parent's code
        with contextlib.suppress(BaseException):
            import traceback

            traceback.print_exc()
    finally:
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(status)
