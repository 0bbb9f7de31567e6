"""Starting the zygote's process, and `lambic local`'s start of it ahead of the CLI.

`Zygote` (the invoker's handle, `zygote.py`) starts its process here (`launch`), or
adopts one already started (`take_ahead`). On the way to `lambic local`'s first
answer the zygote's own start (a new interpreter importing boto3, ~0.2 s of CPU) is
the longest step; the process needs nothing from the command's options (the paths it
protects travel with each request later), so the CLI starts it before it imports click
and its commands (`launch_ahead`, from the console script, `lambic.__main__`): ~60 ms
of the CLI's imports then run beside the zygote's instead of before them. There, where
the process has no thread yet, the zygote is a fork of the CLI's process once the code
both use is imported (`_zygote_fork`: the two share those pages); elsewhere a new
interpreter.

Standard library only, and no asyncio: this runs before anything else is imported.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from lambic.runtime._log_writer_fork import ForkedWriter

__all__ = [
    "DEFAULT_PRELOAD",
    "Launched",
    "is_local_command",
    "launch",
    "launch_ahead",
    "launch_local",
    "take_ahead",
]

# "boto3:<service>,..." imports boto3 and builds (then drops) one client per service,
# which leaves botocore's parsed service models and endpoint rules in the default
# session's loader cache. Measured on this machine: a cold environment creating
# DynamoDB, S3, SQS and SNS clients took ~310 ms without this and ~40 ms with it;
# the price is ~25 MB more shared (copy-on-write) memory per environment. The imports
# happen before the zygote says it is ready, the clients after (`serve`, in idle
# moments): the manifest reader and a first cold start do not wait for ~0.2 s of
# model loading they may not need. `lambic.app` loads its event half (schedules, event
# objects, event-source configs) on first use; an app with any event handler uses it,
# and importing it in each environment made ~1 MB of the zygote's pages its own.
DEFAULT_PRELOAD = (
    "json",
    "logging",
    "lambic.app",
    "lambic.app.event_sources",
    "boto3:dynamodb;s3;sqs;sns;events;dynamodbstreams;sts",
)


class ZygoteProcess(Protocol):
    """The zygote's process as its users see it: a `subprocess.Popen`, or
    `_zygote_fork.ForkedProcess`."""

    @property
    def pid(self) -> int: ...

    @property
    def returncode(self) -> int | None: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def kill(self) -> None: ...


class Launched:
    """A zygote process and our end of its control socket, not yet in a `Zygote`;
    `log_writer`: our end of the log writer's socket when the zygote forks one
    (`_log_writer_fork.writer_on`), until someone takes it (then None)."""

    __slots__ = ("ctrl", "log_writer", "proc")

    def __init__(
        self,
        proc: ZygoteProcess,
        ctrl: socket.socket,
        log_writer: socket.socket | None = None,
    ) -> None:
        self.proc = proc
        self.ctrl = ctrl
        self.log_writer = log_writer

    def take_log_writer(self) -> ForkedWriter | None:
        """The handle on the log writer this zygote forked (once: the caller owns it
        now), or None when it forks none."""
        from lambic.runtime._log_writer_fork import writer_on

        sock, self.log_writer = self.log_writer, None
        return None if sock is None else writer_on(sock)

    def close(self) -> None:
        """Stop a process nobody will use (no `Zygote` took it over), and the log
        writer nobody took (it ends when its socket closes)."""
        if self.log_writer is not None:
            self.log_writer.close()
            self.log_writer = None
        self.ctrl.close()
        with contextlib.suppress(OSError):
            self.proc.kill()
        self.proc.wait()


def launch(
    preload: Sequence[str] = DEFAULT_PRELOAD,
    *,
    hold_warm: bool = False,
    log_writer: bool = False,
    fork: bool = False,
) -> Launched:
    """Start a zygote process (`_zygote_main`) that preloads `preload`; with
    `log_writer`, it first forks the log store's writer (`Launched.log_writer`); with
    `fork`, as a fork of this process (`_zygote_fork`: only while it has no thread but
    this one) instead of a new interpreter.

    PDEATHSIG fires when the *thread* that forked it exits: call this from the thread
    that will run the invoker's loop (the main thread, for the CLI).
    """
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    # A stream, as the writer's protocol is (lines in, `ok` out); only this process
    # holds `ours` (close-on-exec), so the writer sees it close when we end.
    ours, theirs = (
        socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM) if log_writer else (None, None)
    )
    passed = [child.fileno()] + ([] if theirs is None else [theirs.fileno()])
    args = [
        str(child.fileno()),
        str(os.getpid()),
        ",".join(preload),
        *(["hold"] if hold_warm else []),
        *([] if theirs is None else [f"log-writer={theirs.fileno()}"]),
    ]
    try:
        proc: ZygoteProcess
        if fork:
            from lambic.runtime._zygote_fork import fork_zygote

            proc = fork_zygote(args, passed)
        else:
            command = [sys.executable, "-m", "lambic.runtime._zygote_main", *args]
            proc = subprocess.Popen(command, pass_fds=passed, stdin=subprocess.DEVNULL)
    except BaseException:
        parent.close()
        if ours is not None:
            ours.close()
        raise
    finally:
        child.close()
        if theirs is not None:
            theirs.close()
    return Launched(proc, parent, ours)


def launch_local(*, fork: bool = False) -> Launched:
    """`lambic local`'s zygote: the usual preload, its boto3 clients built after its
    first request (the manifest read, `hold_warm`), the log writer forked once they are
    and the log store is busy."""
    return launch(DEFAULT_PRELOAD, hold_warm=True, log_writer=True, fork=fork)


_ahead: Launched | None = None


def is_local_command(argv: Sequence[str]) -> bool:
    """Whether this process is `lambic local ...` (the console script or `python -m
    lambic`), other than its --help."""
    if len(argv) < 2 or argv[1] != "local" or {"-h", "--help"} & set(argv[2:]):
        return False
    program = argv[0]
    return os.path.basename(program) == "lambic" or program.endswith(
        os.path.join("lambic", "__main__.py")
    )


def launch_ahead(argv: Sequence[str]) -> None:
    """Under `lambic local`, start its zygote now (`lambic local` takes it over with
    `take_ahead`); for any other command, nothing.

    Started as `lambic local` starts its own where there is none (`launch_local`), a
    fork of this process when it has no thread yet. Should the command never take it
    (a usage error), it is stopped at exit.
    """
    global _ahead
    if _ahead is not None or not is_local_command(argv):
        return
    from lambic.runtime._zygote_fork import can_fork

    _ahead = launch_local(fork=can_fork())
    atexit.register(_discard_ahead)


def take_ahead() -> Launched | None:
    """The zygote `launch_ahead` started, if any (once: the caller owns it now)."""
    global _ahead
    launched, _ahead = _ahead, None
    return launched


def _discard_ahead() -> None:
    launched = take_ahead()
    if launched is not None:
        launched.close()
