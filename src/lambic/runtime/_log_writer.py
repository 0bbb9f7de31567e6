"""The log store's writer process.

    python -m lambic.runtime._log_writer DB [--echo-fd FD] [--rewrite PREFIX SOURCE] [--verbose]

Reads one JSON batch (orjson) per stdin line (`{"e": [event rows and invocation
records], "u": [usage rows]}`), commits it and answers `ok`; with `--echo-fd` it also
prints the events there (`lambic local`'s terminal), so printing costs the gateway's
process nothing. Ends (after committing) when stdin closes, which also happens when
the invoker's process dies, so it never outlives it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from pathlib import Path

import orjson

from lambic.runtime._log_lines import PathRewrite
from lambic.runtime.logstore import commit_batch, connect


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="lambic.runtime._log_writer")
    parser.add_argument("path")
    parser.add_argument("--echo-fd", type=int)
    parser.add_argument("--rewrite", nargs=2, metavar=("PREFIX", "SOURCE"))
    parser.add_argument("--verbose", action="store_true", help="print START/END/REPORT too")
    args = parser.parse_args(argv)
    echo = None if args.echo_fd is None else os.fdopen(args.echo_fd, "wb")
    rewrite = None if args.rewrite is None else PathRewrite(*args.rewrite)
    # Ctrl-C reaches the whole process group; the invoker decides when we stop
    # (by closing stdin), so the last batch is still written.
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
    conn = connect(Path(args.path))
    for line in sys.stdin.buffer:
        batch = orjson.loads(line)
        commit_batch(conn, batch["e"], batch["u"], echo, rewrite, verbose=args.verbose)
        sys.stdout.buffer.write(b"ok\n")
        sys.stdout.buffer.flush()
    conn.close()


if __name__ == "__main__":
    main(sys.argv[1:])
