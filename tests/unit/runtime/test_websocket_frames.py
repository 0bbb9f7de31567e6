"""RFC 6455 frames as the WebSocket gateway reads and writes them."""

from __future__ import annotations

import struct

import pytest

from lambic.runtime._websocket_frames import (
    OP_CLOSE,
    OP_TEXT,
    FrameParser,
    ProtocolError,
    accept_key,
    close_payload,
    encode_frame,
    parse_close,
)


def masked(
    opcode: int, payload: bytes, *, fin: bool = True, mask: bytes = b"\x01\x02\x03\x04"
) -> bytes:
    first = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", first, 0x80 | n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", first, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", first, 0x80 | 127, n)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + body


def test_accept_key_matches_rfc_example() -> None:
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_parser_unmasks_frames_fed_byte_by_byte() -> None:
    parser = FrameParser(max_frame=1 << 20)
    data = masked(OP_TEXT, b"hello") + masked(OP_TEXT, b"x" * 300)
    frames = []
    for i in range(len(data)):
        frames += parser.feed(data[i : i + 1])
    assert [f.payload for f in frames] == [b"hello", b"x" * 300]


def test_unmasked_client_frame_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError) as caught:
        FrameParser(1024).feed(encode_frame(OP_TEXT, b"hi"))
    assert caught.value.code == 1002


def test_frame_over_the_limit_is_refused_from_its_header_with_1009() -> None:
    header_only = masked(OP_TEXT, b"y" * 2000)[:8]
    with pytest.raises(ProtocolError) as caught:
        FrameParser(1024).feed(header_only)
    assert caught.value.code == 1009


def test_server_frames_use_the_shortest_length_form() -> None:
    assert encode_frame(OP_TEXT, b"a" * 125)[:2] == b"\x81\x7d"
    assert encode_frame(OP_TEXT, b"a" * 126)[:4] == b"\x81\x7e\x00\x7e"
    assert encode_frame(OP_TEXT, b"a" * 70000)[:2] == b"\x81\x7f"


def test_close_payload_round_trip_and_missing_code() -> None:
    assert parse_close(close_payload(1001, "Going away")) == (1001, "Going away")
    assert parse_close(b"") == (1005, "")
    assert close_payload(1005) == b""
    with pytest.raises(ProtocolError):
        parse_close(struct.pack("!H", 999))
    assert encode_frame(OP_CLOSE, b"")[:2] == b"\x88\x00"
