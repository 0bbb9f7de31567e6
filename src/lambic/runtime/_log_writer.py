"""The log store's writer process: `python -m lambic.runtime._log_writer DB`.

Reads one JSON batch (orjson) per stdin line (`{"e": [event rows], "u": [usage rows]}`),
commits it and answers `ok`. Ends (after committing) when stdin closes, which also
happens when the invoker's process dies, so it never outlives it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import sys
from pathlib import Path

import orjson

from lambic.runtime.logstore import connect, write_rows


def main(path: str) -> None:
    # Ctrl-C reaches the whole process group; the invoker decides when we stop
    # (by closing stdin), so the last batch is still written.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Batches are not urgent: like the environments (see `_sandbox`), never preempt
    # the gateway's process to write them.
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    conn = connect(Path(path))
    for line in sys.stdin.buffer:
        batch = orjson.loads(line)
        with contextlib.suppress(sqlite3.Error):  # a full disk loses the batch only
            write_rows(conn, batch["e"], batch["u"])
        sys.stdout.buffer.write(b"ok\n")
        sys.stdout.buffer.flush()
    conn.close()


if __name__ == "__main__":
    main(sys.argv[1])
