"""The console's reads of a log store written the way the runtime writes it."""

from __future__ import annotations

from pathlib import Path

from lambic.console.model import LogStoreReader, percentile
from lambic.runtime.logstore import LogEvent, LogStore

GROUP = "/aws/lambda/app-dev-worker"


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([], 0.5) is None


def write_invocations(path: Path) -> None:
    store = LogStore(path)
    for n, (status, duration, cold) in enumerate([("ok", 10.0, 5.0), ("error", 30.0, None)]):
        rid = f"req-{n}"
        if cold is None:
            store.append(
                LogEvent(GROUP, "s1", 1000 + n, f"START RequestId: {rid} Version: $LATEST")
            )
        store.append(LogEvent(GROUP, "s1", 1001 + n, f"working on {rid}"))
        store.append(
            (GROUP, "s1", 1000 + n if cold is not None else None, 1002 + n, rid, duration,
             int(duration), 256, 60 + n, cold, "app-dev-worker", status)
        )  # fmt: skip
    store.append(LogEvent(GROUP, "s2", 2000, "other stream"))
    store.close()


def test_stats_count_invocations_errors_and_cold_starts(tmp_path: Path) -> None:
    write_invocations(tmp_path / "logs.sqlite3")
    reader = LogStoreReader(tmp_path / "logs.sqlite3")

    stats = reader.stats()["app-dev-worker"]

    assert (stats.invocations, stats.errors, stats.cold_starts) == (2, 1, 1)
    assert (stats.p50_ms, stats.p99_ms, stats.max_memory_mb) == (10.0, 30.0, 61)
    assert [row["request_id"] for row in reader.invocations("app-dev-worker")] == [
        "req-1",
        "req-0",
    ]
    reader.close()


def test_an_invocations_log_lines_run_from_start_to_report(tmp_path: Path) -> None:
    write_invocations(tmp_path / "logs.sqlite3")
    reader = LogStoreReader(tmp_path / "logs.sqlite3")

    lines = [row["message"] for row in reader.invocation_logs(GROUP, "req-1")]

    assert lines[0] == "START RequestId: req-1 Version: $LATEST"
    assert lines[1] == "working on req-1"
    assert lines[2] == "END RequestId: req-1"
    assert lines[3].startswith("REPORT RequestId: req-1\t")
    assert len(lines) == 4
    reader.close()


def test_a_store_not_written_yet_reads_as_empty(tmp_path: Path) -> None:
    reader = LogStoreReader(tmp_path / "missing.sqlite3")
    assert reader.stats() == {}
    assert reader.invocations("f") == [] and reader.logs() == []
    assert reader.last_ids() == (0, 0)


def test_stats_fold_in_the_invocations_recorded_since_the_last_read(tmp_path: Path) -> None:
    write_invocations(tmp_path / "logs.sqlite3")
    reader = LogStoreReader(tmp_path / "logs.sqlite3")
    assert reader.stats()["app-dev-worker"].invocations == 2

    store = LogStore(tmp_path / "logs.sqlite3")
    store.append((GROUP, "s1", 5000, 5001, "req-2", 50.0, 50, 256, 99, 3.0, "app-dev-worker", "ok"))
    store.close()

    stats = reader.stats()["app-dev-worker"]
    assert (stats.invocations, stats.errors, stats.cold_starts, stats.max_memory_mb) == (
        3,
        1,
        2,
        99,
    )
    assert (stats.p50_ms, stats.p99_ms, stats.last_ms) == (30.0, 50.0, 5001)
    reader.close()


def test_invocations_page_by_time_newest_first(tmp_path: Path) -> None:
    write_invocations(tmp_path / "logs.sqlite3")
    reader = LogStoreReader(tmp_path / "logs.sqlite3")

    first = reader.invocations("app-dev-worker", limit=1)
    second = reader.invocations("app-dev-worker", limit=1, before_id=first[0]["id"])

    assert [first[0]["request_id"], second[0]["request_id"]] == ["req-1", "req-0"]
    assert reader.invocations("app-dev-worker", limit=1, before_id=second[0]["id"]) == []
    reader.close()
