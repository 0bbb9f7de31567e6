"""The log store's writer process.

    python -m lambic.runtime._log_writer DB [--echo-fd FD] [--rewrite PREFIX SOURCE] [--verbose]

Reads one JSON batch (orjson) per stdin line (`{"e": [event rows and invocation
records], "u": [usage rows]}`), commits it and answers `ok`; with `--echo-fd` it also
prints the events there (`lambic local`'s terminal), so printing costs the gateway's
process nothing. Ends (after committing) when stdin closes, which also happens when
the invoker's process dies, so it never outlives it. `lambic local` forks the same
loop early instead (`_log_writer_fork`), which runs `serve` over a socket.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import BinaryIO

import orjson

from lambic.runtime._log_lines import PathRewrite
from lambic.runtime._log_writer_fork import settle
from lambic.runtime.logstore import commit_batch, connect


def serve(
    path: Path,
    batches: BinaryIO,
    answers: BinaryIO,
    echo: BinaryIO | None,
    rewrite: PathRewrite | None,
    *,
    verbose: bool,
) -> None:
    """Commit each batch line read from `batches`, answering `ok` on `answers`, until
    `batches` ends."""
    conn = connect(path)
    for line in batches:
        batch = orjson.loads(line)
        commit_batch(conn, batch["e"], batch["u"], echo, rewrite, verbose=verbose)
        answers.write(b"ok\n")
        answers.flush()
    conn.close()


def main(argv: list[str]) -> None:
    import argparse  # here: the forked writer (`serve` only) need not hold it

    parser = argparse.ArgumentParser(prog="lambic.runtime._log_writer")
    parser.add_argument("path")
    parser.add_argument("--echo-fd", type=int)
    parser.add_argument("--rewrite", nargs=2, metavar=("PREFIX", "SOURCE"))
    parser.add_argument("--verbose", action="store_true", help="print START/END/REPORT too")
    args = parser.parse_args(argv)
    echo = None if args.echo_fd is None else os.fdopen(args.echo_fd, "wb")
    rewrite = None if args.rewrite is None else PathRewrite(*args.rewrite)
    settle()
    serve(
        Path(args.path),
        sys.stdin.buffer,
        sys.stdout.buffer,
        echo,
        rewrite,
        verbose=args.verbose,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
