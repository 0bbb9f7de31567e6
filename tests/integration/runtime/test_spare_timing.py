"""The zygote forks its next spare once the environment it handed a spec to has
initialised: the environment says so by closing the spare's socket after READY (a
spare forked and walled in during the init took CPU from it)."""

from __future__ import annotations

import os
import select
import socket
import time
from pathlib import Path

from lambic.runtime import _isolation
from lambic.runtime._ipc import READY, FrameReader
from lambic.runtime._sandbox import run_environment

INIT_S = 0.3


def test_the_spare_socket_closes_after_ready_not_before(tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text(
        f"import time\ntime.sleep({INIT_S})\n\ndef handler(event, context):\n    return 1\n"
    )
    spec = {
        "env": {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), _isolation.SWITCH: "off"},
        "task_root": str(tmp_path),
        "handler": "slow.handler",
        "function_name": "slow",
        "function_arn": "arn:aws:lambda:us-east-1:123456789012:function:slow",
        "memory_size": 128,
        "log_group": "/aws/lambda/slow",
        "log_stream": "stream",
        "zygote_pid": os.getpid(),
        "protect": [],
    }
    env_ours, env_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    spare_ours, spare_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    log_r, log_w = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the environment
        os.environ[_isolation.SWITCH] = "off"
        env_ours.close()
        spare_ours.close()
        os.close(log_r)
        run_environment(spec, env_theirs, log_w, spare_theirs)
    env_theirs.close()
    spare_theirs.close()
    os.close(log_w)
    try:
        ready, _, _ = select.select([spare_ours], [], [], 30)
        assert ready, "the spare socket never closed"
        assert spare_ours.recv(16) == b""  # EOF: the environment has initialised
        assert time.monotonic() - started >= INIT_S  # not before its init ran
        env_ours.settimeout(0)  # READY is already there: it was sent first
        frames = FrameReader().feed(env_ours.recv(65536))
        assert [kind for kind, _, _ in frames] == [READY]
        assert "error" not in frames[0][1], frames[0][1]
    finally:
        env_ours.close()  # the environment's loop ends with its socket
        spare_ours.close()
        os.waitpid(pid, 0)
        os.close(log_r)
