"""The invoker's journal of recent invocations (what the console shows and replays)."""

from __future__ import annotations

from lambic.runtime.journal import MAX_PAYLOAD, InvocationJournal
from lambic.runtime.results import InvocationResult


def _result(request_id: str, payload: bytes = b'{"ok": true}') -> InvocationResult:
    return InvocationResult("ok", payload, None, request_id, duration_ms=1.5, cold_start=True)


def test_recent_is_newest_first_and_bounded_per_function() -> None:
    journal = InvocationJournal(keep=3)
    for n in range(5):
        journal.record("api", b'{"n": %d}' % n, _result(f"r{n}"))
    journal.record("worker", b"{}", _result("w0"))
    entries = journal.recent("api")
    assert [e.request_id for e in entries] == ["r4", "r3", "r2"]
    first = entries[0]
    assert (first.function, first.event, first.response) == ("api", b'{"n": 4}', b'{"ok": true}')
    assert (first.status, first.duration_ms, first.cold_start, first.truncated) == (
        "ok", 1.5, True, False
    )  # fmt: skip
    assert first.timestamp_ms > 0
    assert [e.request_id for e in journal.recent("worker")] == ["w0"]
    assert journal.recent("nothing") == []


def test_find_by_request_id_across_functions() -> None:
    journal = InvocationJournal()
    journal.record("api", b"{}", _result("a"))
    journal.record("worker", b'{"job": 1}', _result("b"))
    found = journal.find("b")
    assert found is not None and (found.function, found.event) == ("worker", b'{"job": 1}')
    assert journal.find("missing") is None


def test_long_payloads_are_cut_and_not_held_whole() -> None:
    journal = InvocationJournal()
    big = b"x" * (MAX_PAYLOAD + 10)
    journal.record("api", big, _result("e"))
    journal.record("api", b"{}", _result("r", big))
    by_id = {e.request_id: e for e in journal.recent("api")}
    assert len(by_id["e"].event) == MAX_PAYLOAD and by_id["e"].truncated
    assert by_id["e"].response == b'{"ok": true}'
    assert len(by_id["r"].response) == MAX_PAYLOAD and by_id["r"].truncated
    assert by_id["r"].event == b"{}"
    # What the journal holds is the cut response, not the result's whole payload.
    held = journal._entries["api"][-1][1]
    assert len(held.payload) == MAX_PAYLOAD
