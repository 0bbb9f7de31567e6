"""The stage's meter: counts in memory, one row per minute and metric on flush, storage
sampled as byte-hours, and an off switch."""

from __future__ import annotations

import gc
import sqlite3
import threading
import time
from pathlib import Path

from lambic.project.metering import Meter, create_meter, metering_enabled


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def rows(path: Path) -> list[tuple[int, str, str, str, float]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT minute_ms, service, resource, metric, quantity FROM metered ORDER BY 1, 2, 3, 4"
        ).fetchall()


def test_counts_are_summed_per_minute_and_written_on_close(tmp_path: Path) -> None:
    clock = Clock(120.5)  # minute 2
    meter = Meter(tmp_path / "logs.sqlite3", clock=clock)
    meter.add("sqs", "orders", "requests")
    meter.add("sqs", "orders", "requests", 3)
    clock.now = 185.0  # minute 3
    meter.add("sqs", "orders", "requests")
    meter.add("dynamodb", "t", "write_units", 1.5)
    meter.close()
    assert rows(tmp_path / "logs.sqlite3") == [
        (120_000, "sqs", "orders", "requests", 4.0),
        (180_000, "dynamodb", "t", "write_units", 1.5),
        (180_000, "sqs", "orders", "requests", 1.0),
    ]


def test_each_count_is_dated_by_its_own_minute_at_the_edges_and_when_the_clock_goes_back(
    tmp_path: Path,
) -> None:
    # `add` keeps the current minute between calls: a count at its last instant, the
    # first of the next, and one after the clock was set back are each dated right.
    clock = Clock(119.999)  # the last instant of minute 1
    meter = Meter(tmp_path / "logs.sqlite3", clock=clock)
    meter.add("s3", "b", "tier1")
    clock.now = 120.0  # minute 2 starts
    meter.add("s3", "b", "tier1", 2)
    clock.now = 61.0  # set back into minute 1
    meter.add("s3", "b", "tier1", 4)
    clock.now = 3600.0 * 24 * 365 * 56 + 59.5  # a real epoch, late in its minute
    meter.add("s3", "b", "tier1", 8)
    meter.close()
    late = 3600 * 24 * 365 * 56 // 60 * 60_000
    assert rows(tmp_path / "logs.sqlite3") == [
        (60_000, "s3", "b", "tier1", 5.0),
        (120_000, "s3", "b", "tier1", 2.0),
        (late, "s3", "b", "tier1", 8.0),
    ]


def test_a_second_flush_in_the_same_minute_adds_to_the_row(tmp_path: Path) -> None:
    clock = Clock(60.0)
    meter = Meter(tmp_path / "logs.sqlite3", clock=clock, flush_interval=3600)
    meter.add("s3", "photos", "tier1", 2)
    meter.flush()
    meter.add("s3", "photos", "tier1", 5)
    meter.close()
    assert rows(tmp_path / "logs.sqlite3") == [(60_000, "s3", "photos", "tier1", 7.0)]


def test_the_flush_thread_writes_without_close(tmp_path: Path) -> None:
    meter = Meter(tmp_path / "logs.sqlite3", flush_interval=0.05)
    try:
        meter.add("events", "default", "events", 2)
        for _ in range(100):
            try:
                if rows(tmp_path / "logs.sqlite3"):
                    break
            except sqlite3.OperationalError:  # the file exists before the table does
                pass
            time.sleep(0.05)
        assert [r[1:] for r in rows(tmp_path / "logs.sqlite3")] == [
            ("events", "default", "events", 2.0)
        ]
    finally:
        meter.close()


def test_stored_bytes_become_byte_hours_between_samples(tmp_path: Path) -> None:
    clock = Clock(0.0)
    meter = Meter(tmp_path / "logs.sqlite3", clock=clock, sample_interval=60)
    meter.sample(lambda: {("s3", "photos"): 1_000, ("dynamodb", "t"): 0})  # from now on
    clock.now = 1800.0  # half an hour later
    meter.flush()
    clock.now = 3600.0
    meter.close()  # a last sample at close
    stored = [r for r in rows(tmp_path / "logs.sqlite3") if r[3] == "byte_hours"]
    assert sum(r[4] for r in stored) == 1_000.0  # 1,000 bytes for one hour
    assert {r[2] for r in stored} == {"photos"}  # nothing stored, nothing counted


def test_no_meter_in_memory_or_when_switched_off(tmp_path: Path) -> None:
    assert create_meter(None) is None
    assert create_meter(tmp_path, {"LAMBIC_METERING": "off"}) is None
    meter = create_meter(tmp_path, {})
    assert meter is not None and meter.path == tmp_path / "logs.sqlite3"
    meter.close()
    assert metering_enabled({}) and metering_enabled({"LAMBIC_METERING": "on"})
    assert not metering_enabled({"LAMBIC_METERING": "0"})


def test_a_meter_that_counted_nothing_writes_nothing(tmp_path: Path) -> None:
    meter = Meter(tmp_path / "logs.sqlite3")
    meter.close()
    assert not (tmp_path / "logs.sqlite3").exists()


def test_counts_from_many_threads_are_all_written_while_flushing(tmp_path: Path) -> None:
    meter = Meter(tmp_path / "logs.sqlite3", flush_interval=0.001, clock=Clock(60.0))

    def count() -> None:
        for _ in range(5000):
            meter.add("apigateway", "rest", "requests")

    threads = [threading.Thread(target=count) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    meter.close()
    assert rows(tmp_path / "logs.sqlite3") == [(60_000, "apigateway", "rest", "requests", 20000.0)]


def test_counting_holds_nothing_per_count_until_the_flush(tmp_path: Path) -> None:
    # A queue of one tuple per count, held until the flush, kept thousands of objects
    # alive in the gateway's process between flushes.
    meter = Meter(tmp_path / "logs.sqlite3", flush_interval=3600, clock=Clock(60.0))
    meter.add("apigateway", "rest", "requests")
    gc.collect()
    tracked = len(gc.get_objects())
    for _ in range(20000):
        meter.add("apigateway", "rest", "requests")
    assert len(gc.get_objects()) - tracked < 100
    meter.close()
    assert rows(tmp_path / "logs.sqlite3") == [(60_000, "apigateway", "rest", "requests", 20001.0)]


def test_a_tally_is_written_by_each_flush_once_dated_by_the_flush(tmp_path: Path) -> None:
    clock = Clock(60.0)
    meter = Meter(tmp_path / "logs.sqlite3", flush_interval=3600, clock=clock)
    tally = meter.tally("apigateway", "rest", "requests")
    for _ in range(3):
        tally.total += 1
    meter.flush()
    meter.flush()  # nothing new: nothing more written
    clock.now = 125.0
    tally.total += 2
    meter.close()
    assert rows(tmp_path / "logs.sqlite3") == [
        (60_000, "apigateway", "rest", "requests", 3.0),
        (120_000, "apigateway", "rest", "requests", 2.0),
    ]


def test_a_tally_counted_while_the_thread_flushes_loses_nothing(tmp_path: Path) -> None:
    meter = Meter(tmp_path / "logs.sqlite3", flush_interval=0.001, clock=Clock(60.0))
    tally = meter.tally("apigateway", "http", "requests")
    for _ in range(50_000):
        tally.total += 1
    meter.close()
    assert rows(tmp_path / "logs.sqlite3") == [(60_000, "apigateway", "http", "requests", 50000.0)]
