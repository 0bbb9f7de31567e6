"""The log store's writer, forked by the zygote instead of being a new interpreter.

A writer started as a new interpreter (`python -m lambic.runtime._log_writer`) holds
~9 MB of its own memory at idle, 4 MB of that the interpreter itself. Forked, it
shares the interpreter's pages and adds only what it imports itself (sqlite3, orjson,
the log store). `lambic local`'s zygote forks it (`fork_from_zygote`;
`_zygote_launch.launch(log_writer=True)` passes it a socket, whose other end the
gateway's process keeps) once its image is final and `LogStore`, busy (`BUSY_ROWS`),
has sent the writer its settings and the terminal's descriptor on that socket; a quiet
local cloud commits its logs itself and has no writer:

    launched = launch(preload, log_writer=True)    # the zygote may fork the writer
    writer = launched.take_log_writer()            # `writer_on` its socket
    ...                                            # heavy imports, the cloud starts
    LogStore(path, echo_fd=1, forked=writer)       # busy: `ForkedWriter.start`

It speaks the subprocess writer's protocol (a batch line in, `ok` out) over a socket
pair, and ends when the socket closes: when `LogStore` stops it, or when the gateway's
process dies, even before anything started it (the socket is close-on-exec and no
other process holds that end). The zygote's writer outlives a killed zygote (it holds
none of the zygote's descriptors; the zygote reaps it). This module imports only the
standard library's light modules: it is imported on the way to the first answer.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, NoReturn

from lambic.runtime._descriptors import close_all_but
from lambic.runtime._process_names import LOG_WRITER, name_this_process
from lambic.runtime._waiting import poll_until

__all__ = [
    "PROCESS_NAME",
    "ForkedWriter",
    "fork_from_zygote",
    "settle",
    "writer_on",
]


def settle() -> None:
    """Ignore Ctrl-C and run at the lowest priority (the writer's first step)."""
    # Ctrl-C reaches the whole process group; the invoker decides when we stop
    # (by closing our input), so the last batch is still written.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Batches are not urgent: like the environments (see `_sandbox`), never preempt
    # the gateway's process to write them. And be preempted: a batch holds a CPU for
    # ~3 ms, and at nice 0 a woken environment waited for it to finish (the kernel's
    # deadline scheduler let the running batch keep its slice): bench/tail_trace.py on a
    # quiet machine found a batch under 111 of the 150 slowest one-connection requests
    # (shifted control: 4-51), p99 5.2x p50. At nice 19 the woken task's deadline comes
    # first and it runs at once: p99 2.9-3.0x (nice 5: 3.5x). The writer still gets the
    # idle gaps between requests and its weight's share under full load.
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
        os.nice(19)


class ForkedWriter:
    """The gateway process's handle on a forked writer; `Popen`'s shape where
    `LogStore` uses it (`stdin`, `stdout`, `wait`, `kill`).

    The writer is the zygote's child (`fork_from_zygote`) and reports its pid first
    thing on the socket: not being our child, its end is watched through a pidfd (or
    /proc) instead of `waitpid`, and its exit status is its parent's to read.
    """

    def __init__(self, sock: socket.socket) -> None:
        self._pid: int | None = None
        self._sock: socket.socket | None = sock
        self.stdin: BinaryIO | None = None
        self.stdout: BinaryIO | None = None
        self._status: int | None = None
        self._pidfd: int | None = None
        self._start_time: str | None = None  # /proc's, where pidfds are missing
        # `LogStore`'s thread starts us (waiting for the zygote to fork the writer)
        # while another may ask for our pid: one learns it, the other waits.
        self._learning = threading.Lock()

    @property
    def started(self) -> bool:
        return self._sock is None

    @property
    def pid(self) -> int:
        """The writer's pid (waits for it to report it)."""
        with self._learning:
            if self._pid is None:
                if self._sock is None:
                    raise RuntimeError("This log writer never reported its pid")
                self._learn_pid(self._sock)
        assert self._pid is not None  # set by _learn_pid
        return self._pid

    def _learn_pid(self, sock: socket.socket) -> None:
        try:
            head = _receive_exactly(sock, 4)
        except EOFError:  # its zygote ended (or failed to fork) before it existed
            raise ConnectionResetError("the log writer's process is gone") from None
        pid = struct.unpack("!I", head)[0]
        # Held from now on, the pidfd names this process even once its pid is reused.
        try:
            self._pidfd = os.pidfd_open(pid)
        except ProcessLookupError:
            self._status = 0  # ended already
        except (AttributeError, OSError):  # no pidfds (Linux < 5.3): /proc, by start time
            self._start_time = _start_time(pid)
        self._pid = pid

    def start(
        self, path: Path, echo_fd: int | None, rewrite: tuple[str, str] | None, *, verbose: bool
    ) -> None:
        """Hand the writer its settings (and `echo_fd`, passed over the socket): the
        zygote forks it when they arrive; then batches may be written to `stdin`.
        OSError: the writer is gone (the zygote that was to fork it ended first), and is
        closed."""
        settings = json.dumps({"path": str(path), "rewrite": rewrite, "verbose": verbose}).encode()
        message = struct.pack("!I", len(settings)) + settings
        with self._learning:
            sock, self._sock = self._sock, None
            if sock is None:
                raise RuntimeError("This log writer was started already")
            try:
                socket.send_fds(sock, [message], [] if echo_fd is None else [echo_fd])
                if self._pid is None:
                    self._learn_pid(sock)
            except OSError:
                sock.close()
                raise
        self.stdin = sock.makefile("wb")
        self.stdout = sock.makefile("rb")
        sock.close()  # the two files hold the descriptor; closing both ends the writer

    def wait(self, timeout: float | None = None) -> int:
        """0 once the writer has ended (`subprocess.TimeoutExpired`): its exit status is
        its parent's (the zygote's) to read."""
        if self._status is None:
            if not self._ended(timeout):
                raise subprocess.TimeoutExpired(f"log writer {self._pid}", timeout or 0)
            self._status = 0
        return self._status

    def _ended(self, timeout: float | None) -> bool:
        """Whether the writer ended within `timeout` seconds."""
        if self._pid is None:  # never reported: it ends when its socket closes
            return True
        if self._pidfd is not None:
            # A pidfd turns readable when its process exits (zombie or reaped).
            poll = select.poll()
            poll.register(self._pidfd, select.POLLIN)
            if not poll.poll(None if timeout is None else max(0, round(timeout * 1000))):
                return False
            os.close(self._pidfd)
            self._pidfd = None
            return True
        pid, started = self._pid, self._start_time
        return poll_until(lambda: started is None or _start_time(pid) != started, timeout)

    def kill(self) -> None:
        if self._pidfd is not None:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
        elif self._pid is not None and _start_time(self._pid) == self._start_time:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)

    def close(self) -> None:
        """End a writer never started (the cloud failed before its invoker existed)."""
        if self._sock is not None:
            self._sock.close()  # it ends when its socket closes; the zygote reaps it
            self._sock = None
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None


def _start_time(pid: int) -> str | None:
    """When process `pid` started (/proc's clock ticks); None once it has ended."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # Fields after the name: state is the 1st, the start time the 20th.
    return None if fields[0] in (b"Z", b"X") else fields[19].decode()


def fork_from_zygote(fd: int, in_child: Callable[[], object]) -> None:
    """In the zygote, once its image is final (its preload and warm-up done) and the
    store has sent the writer its settings: fork the writer on socket `fd`, whose other
    end the gateway's process holds (`writer_on`); `in_child` runs first in the fork
    (the zygote's descriptors closed, its signal handling undone).

    Forked then, the writer shares the image every environment is forked from and
    copies only the pages it writes: ~3.4 MB of its own on the flagship. Forked
    before the preload it held ~6.6 MB: the originals of every page of the bare
    interpreter that the zygote (its preload) and the gateway's process (its imports)
    have since both written to were its alone; forked from the gateway's process,
    ~7.6 MB. It is the zygote's child but not tied to it: it outlives a killed zygote
    and ends when its socket closes.
    """
    sock = socket.socket(fileno=fd)
    sys.stdout.flush()
    sys.stderr.flush()
    gc.freeze()  # the zygote's collections leave these pages alone
    try:
        pid = os.fork()
    except OSError:  # the gateway's process sees the socket close, and spawns a writer
        sock.close()
        return
    if pid:
        sock.close()
        return
    in_child()
    _be_writer(sock)


def writer_on(sock: socket.socket) -> ForkedWriter:
    """The handle on the writer a zygote forks on the other end of `sock`
    (`_zygote_launch.launch(log_writer=True)`)."""
    return ForkedWriter(sock)


def _be_writer(sock: socket.socket) -> NoReturn:
    status = 1
    try:
        _run(sock)
        status = 0
    except ConnectionResetError:  # the gateway's process closed its end unread (our pid)
        status = 0
    except BaseException:  # reported; never back into the caller's code (click's)
        with contextlib.suppress(BaseException):
            import traceback

            traceback.print_exc()
    finally:
        os._exit(status)


def _receive_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


#: The forked writer's name in `ps`/`top` (its command line is still `lambic local`'s).
PROCESS_NAME = LOG_WRITER


def _run(sock: socket.socket) -> None:
    close_all_but([sock.fileno()])  # what the zygote had open the writer must not hold
    name_this_process(PROCESS_NAME)
    settle()
    # Collections would write to every object inherited from the process we were
    # forked from (their GC headers), copying pages the two share: leave them alone.
    # The writer's own objects are collected (the zygote forks it while collection is
    # off).
    gc.freeze()
    gc.enable()
    try:  # named and niced by now, as whoever learns our pid will see
        sock.sendall(struct.pack("!I", os.getpid()))
    except OSError:  # the gateway's process ended already
        return
    head, fds, _flags, _address = socket.recv_fds(sock, 4, 1)
    if not head:  # the gateway's process ended before it needed a writer
        return
    head += _receive_exactly(sock, 4 - len(head))
    settings = json.loads(_receive_exactly(sock, struct.unpack("!I", head)[0]))
    from lambic.runtime._log_lines import PathRewrite
    from lambic.runtime._log_writer import serve

    echo = os.fdopen(fds[0], "wb") if fds else None
    rewrite = None if settings["rewrite"] is None else PathRewrite(*settings["rewrite"])
    with sock.makefile("rb") as batches, sock.makefile("wb") as answers:
        serve(Path(settings["path"]), batches, answers, echo, rewrite, verbose=settings["verbose"])
