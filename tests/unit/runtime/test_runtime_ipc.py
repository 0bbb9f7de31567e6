"""The invoker <-> environment frame format."""

from __future__ import annotations

import socket
import threading

from lambic.runtime._ipc import INVOKE, RESULT, FrameReader, encode_frame, recv_frame, send_frame


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
