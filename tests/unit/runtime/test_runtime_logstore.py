"""The log store: batched durable writes, reading back, usage totals."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from lambic.runtime._log_lines import PathRewrite
from lambic.runtime.errors import LambicRuntimeError
from lambic.runtime.logstore import LogEvent, LogStore, iter_events, log_groups
from lambic.runtime.usage import UsageRecord, summarize_usage
from tests._support.logs import stored_messages


def test_appended_events_are_on_disk_after_flush_and_readable_by_another_connection(
    tmp_path: Path,
) -> None:
    store = LogStore(tmp_path / "state" / "logs.sqlite3")
    store.append(LogEvent("/aws/lambda/a-dev", "s1", 1000, "START RequestId: 1 Version: $LATEST"))
    store.append(LogEvent("/aws/lambda/b-dev", "s2", 2000, "hello"))
    store.flush()
    conn = sqlite3.connect(tmp_path / "state" / "logs.sqlite3")
    assert log_groups(conn) == ["/aws/lambda/a-dev", "/aws/lambda/b-dev"]
    events = list(iter_events(conn, "/aws/lambda/b-dev"))
    assert [(e.log_stream, e.timestamp_ms, e.message) for e in events] == [("s2", 2000, "hello")]
    assert list(iter_events(conn, since_ms=1500)) == events
    conn.close()
    store.close()


def test_close_commits_everything_and_later_appends_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "logs.sqlite3"
    store = LogStore(path, flush_interval=60)  # only close() can have written these
    for i in range(500):
        store.append(LogEvent("/aws/lambda/f", "s", i, f"line {i}"))
    store.close()
    store.append(LogEvent("/aws/lambda/f", "s", 999, "too late"))
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT COUNT(*), MAX(message) FROM log_events").fetchone() == (
        500,
        "line 99",
    )
    conn.close()


def test_usage_is_summarised_per_function_in_gb_seconds(tmp_path: Path) -> None:
    path = tmp_path / "logs.sqlite3"
    store = LogStore(path)
    store.append_usage(UsageRecord("f", "1", 10, "ok", 1.2, 2, 1024, 40, 5.0, True))
    store.append_usage(UsageRecord("f", "2", 20, "error", 0.4, 1000, 1024, 40, None, False))
    store.append_usage(UsageRecord("g", "3", 30, "ok", 0.4, 1, 128, 40, None, False))
    store.close()
    conn = sqlite3.connect(path)
    totals = summarize_usage(conn)
    assert totals["f"].invocations == 2 and totals["f"].errors == 1
    assert totals["f"].cold_starts == 1 and totals["f"].billed_ms == 1002
    assert abs(totals["f"].gb_seconds - 1.002) < 1e-9
    assert summarize_usage(conn, since_ms=25).keys() == {"g"}
    conn.close()


def test_log_event_names_its_function() -> None:
    assert LogEvent("/aws/lambda/app-dev-worker", "s", 0, "m").function_name == "app-dev-worker"


def test_an_unusable_state_directory_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("a file where the state directory should be")
    with pytest.raises(LambicRuntimeError) as excinfo:
        LogStore(blocker / "dev" / "logs.sqlite3")
    assert str(excinfo.value).startswith(f"Cannot open the log store {blocker}/dev/logs.sqlite3")


def test_an_echo_fd_gets_every_event_printed_by_the_writer_with_snapshot_paths_mapped(
    tmp_path: Path,
) -> None:
    read_end, write_end = os.pipe()
    rewrite = PathRewrite("/tmp/lambic-task-1-x/", "/home/me/app")
    store = LogStore(tmp_path / "logs.sqlite3", echo_fd=write_end, rewrite=rewrite)
    os.close(write_end)  # the store keeps its own copy
    store.append(LogEvent("/aws/lambda/app-dev", "s", 1, "START RequestId: 1 Version: $LATEST"))
    store.append(LogEvent("/aws/lambda/app-dev", "s", 2, 'File "/tmp/lambic-task-1-x/3/app.py"\n'))
    store.append(LogEvent("/aws/lambda/app-dev", "s", 3, "two\nlines"))
    store.close()  # the writer exits, so the pipe reaches end of file

    with os.fdopen(read_end, "rb") as printed:
        lines = printed.read().decode().splitlines()

    assert lines == [
        "[app-dev] START RequestId: 1 Version: $LATEST",
        '[app-dev] File "/home/me/app/app.py"',
        "[app-dev] two",
        "[app-dev] lines",
    ]


def test_an_echo_fd_that_is_not_open_only_stores(tmp_path: Path) -> None:
    not_open = 1_000_000  # above any descriptor this process has
    store = LogStore(tmp_path / "logs.sqlite3", echo_fd=not_open)
    store.append(LogEvent("/aws/lambda/app-dev", "s", 1, "kept"))
    store.close()
    conn = sqlite3.connect(tmp_path / "logs.sqlite3")
    assert conn.execute("SELECT message FROM log_events").fetchall() == [("kept",)]
    conn.close()


def test_without_verbose_the_terminal_gets_access_lines_and_output_but_not_start_end_report(
    tmp_path: Path,
) -> None:
    read_end, write_end = os.pipe()
    store = LogStore(tmp_path / "logs.sqlite3", echo_fd=write_end, verbose=False)
    os.close(write_end)
    group = "/aws/lambda/app-dev"
    store.append(LogEvent(group, "s", 1, "START RequestId: 1 Version: $LATEST"))
    store.append(LogEvent(group, "s", 2, "hello"))
    # A warm success as the invoker queues it: END/REPORT are made by the writer.
    store.append((group, "s", None, 3, "1", 1.5, 2, 128, 40, None, "app-dev", "ok"))
    store.append((3, "GET", "/a?b=1", 200, 4.25, "app-dev", 0))
    store.append(LogEvent(group, "lambic/events", 4, "[event] sqs:jobs -> app-dev 2 ok 1.0 ms"))
    store.close()

    with os.fdopen(read_end, "rb") as printed:
        lines = printed.read().decode().splitlines()

    assert lines[0] == "[app-dev] hello"
    assert lines[1].endswith('"GET /a?b=1" 200 OK 4.2 ms warm [app-dev]')
    assert lines[2] == "[event] sqs:jobs -> app-dev 2 ok 1.0 ms"
    assert len(lines) == 3
    # Everything but the access line is stored, for `lambic logs`.
    stored = stored_messages(tmp_path / "logs.sqlite3")
    assert stored[0].startswith("START RequestId: 1")
    assert stored[2:4] == ["END RequestId: 1", stored[3]] and stored[3].startswith("REPORT")
    assert stored[4].startswith("[event] sqs:jobs")
    assert len(stored) == 5
