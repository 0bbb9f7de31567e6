"""The invoker <-> environment frame format."""

from __future__ import annotations

import socket
import threading

from lambic.runtime._ipc import (
    INVOKE,
    INVOKE_FAST,
    RESULT,
    RESULT_OK,
    BlockingFrameSocket,
    FrameReader,
    encode_frame,
    recv_frame,
    send_frame,
)


def test_frames_survive_being_split_at_every_byte() -> None:
    data = encode_frame(INVOKE, {"request_id": "r1"}, b'{"x": 1}') + encode_frame(RESULT, {}, b"")
    reader = FrameReader()
    frames = []
    for i in range(len(data)):
        frames += reader.feed(data[i : i + 1])
    assert frames == [(INVOKE, {"request_id": "r1"}, b'{"x": 1}'), (RESULT, {}, b"")]


def test_blocking_side_reads_what_the_other_side_sent_and_sees_end_of_stream() -> None:
    left, right = socket.socketpair()
    body = b"x" * 300_000  # larger than a socket buffer: needs several reads

    def writer() -> None:
        send_frame(left, RESULT, {"maxrss_kb": 1}, body)
        left.shutdown(socket.SHUT_WR)

    with left, right:
        right.settimeout(10)  # bounded: a bug must fail, not hang
        thread = threading.Thread(target=writer)
        thread.start()
        assert recv_frame(right) == (RESULT, {"maxrss_kb": 1}, body)
        assert recv_frame(right) is None
        thread.join(10)


def test_fast_frames_carry_request_id_deadline_and_memory_without_json() -> None:
    invoke = encode_frame(
        INVOKE_FAST, {"deadline_ms": 1_764_000_000_123, "request_id": "abc"}, b"{}"
    )
    ok = encode_frame(RESULT_OK, {"maxrss_kb": 40960}, b'"done"')
    assert b"deadline" not in invoke and b"maxrss" not in ok
    assert FrameReader().feed(invoke + ok) == [
        (INVOKE_FAST, {"deadline_ms": 1_764_000_000_123, "request_id": "abc"}, b"{}"),
        (RESULT_OK, {"maxrss_kb": 40960}, b'"done"'),
    ]


def test_environment_side_reads_frames_that_arrive_together_one_at_a_time() -> None:
    left, right = socket.socketpair()
    with left, right:
        right.settimeout(10)
        left.sendall(encode_frame(INVOKE, {"a": 1}, b"1") + encode_frame(INVOKE, {"a": 2}, b"2"))
        left.shutdown(socket.SHUT_WR)
        channel = BlockingFrameSocket(right)
        assert channel.recv() == (INVOKE, {"a": 1}, b"1")
        assert channel.recv() == (INVOKE, {"a": 2}, b"2")
        assert channel.recv() is None


def test_fast_invoke_frames_carry_an_optional_trace_id() -> None:
    meta = {"deadline_ms": 5, "request_id": "r-1", "trace_id": "Root=1-abc;Sampled=1"}
    assert FrameReader().feed(encode_frame(INVOKE_FAST, meta, b"")) == [(INVOKE_FAST, meta, b"")]
