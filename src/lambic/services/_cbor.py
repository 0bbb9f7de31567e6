"""CBOR (RFC 8949): the binary data model AWS's `application/x-amz-cbor-1.1` protocol uses.

Python values map as RFC 8949 §3 describes: unsigned and negative integers <-> `int`, byte
strings <-> `bytes`, text strings <-> `str`, arrays <-> `list`, maps <-> `dict`, floats
(half, single and double on the wire) <-> `float`, true/false/null <-> `bool`/`None`.
A tag is kept as `Tagged(tag, value)` and left for the caller to read, because protocols
disagree on what a tag means (AWS's tag 1 carries epoch *milliseconds*, not RFC 8949's
seconds); other simple values are `Simple(n)`. `undefined` decodes as None.

The decoder accepts definite and indefinite lengths and refuses anything malformed
(truncated, trailing bytes, reserved additional information, a stray "break", invalid
UTF-8, nesting deeper than `MAX_DEPTH`) with `CBORDecodeError`, never another exception.
The encoder writes definite lengths and each float in the shortest width that keeps it.

    >>> loads(bytes.fromhex("a26161016162820203"))
    {'a': 1, 'b': [2, 3]}
    >>> dumps({"a": 1, "b": [2, 3]}).hex()
    'a26161016162820203'
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any

#: Nesting AWS's shapes never approach; deeper input is refused, not recursed into.
MAX_DEPTH = 64


class CBORDecodeError(ValueError):
    """The bytes are not one well-formed CBOR data item."""


@dataclass(frozen=True, slots=True)
class Tagged:
    """A tagged data item (major type 6): `tag` applied to `value`."""

    tag: int
    value: Any


@dataclass(frozen=True, slots=True)
class Simple:
    """A simple value (major type 7) without a Python counterpart, e.g. simple(16)."""

    value: int


_BREAK = object()


def loads(data: bytes) -> Any:
    """The one data item `data` holds; `CBORDecodeError` if it is not exactly that."""
    decoder = _Decoder(bytes(data))
    value = decoder.item(0)
    if value is _BREAK:
        raise CBORDecodeError("Unexpected break outside an indefinite-length item")
    if decoder.pos != len(decoder.data):
        raise CBORDecodeError(f"Trailing bytes after the data item at offset {decoder.pos}")
    return value


class _Decoder:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, count: int) -> bytes:
        end = self.pos + count
        if end > len(self.data):
            raise CBORDecodeError(f"Truncated input: {count} bytes needed at offset {self.pos}")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def argument(self, info: int) -> int | None:
        """The head's argument; None for an indefinite length (info 31)."""
        if info < 24:
            return info
        if info == 24:
            return self.take(1)[0]
        if info == 25:
            return int.from_bytes(self.take(2), "big")
        if info == 26:
            return int.from_bytes(self.take(4), "big")
        if info == 27:
            return int.from_bytes(self.take(8), "big")
        if info == 31:
            return None
        raise CBORDecodeError(f"Reserved additional information {info} at offset {self.pos - 1}")

    def item(self, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise CBORDecodeError(f"Nesting deeper than {MAX_DEPTH} levels")
        initial = self.take(1)[0]
        major, info = initial >> 5, initial & 0x1F
        if major == 7:
            return self.simple(info)
        length = self.argument(info)
        if major == 0 or major == 1 or major == 6:
            if length is None:
                raise CBORDecodeError(f"Indefinite length on major type {major}")
            if major == 0:
                return length
            if major == 1:
                return -1 - length
            return Tagged(length, self.item_not_break(depth + 1))
        if major == 2 or major == 3:
            raw = self.take(length) if length is not None else self.chunks(major)
            if major == 2:
                return raw
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise CBORDecodeError(f"Text string is not valid UTF-8: {exc}") from None
        if major == 4:
            return self.array(length, depth + 1)
        return self.map(length, depth + 1)

    def item_not_break(self, depth: int) -> Any:
        value = self.item(depth)
        if value is _BREAK:
            raise CBORDecodeError("Unexpected break where a data item was expected")
        return value

    def simple(self, info: int) -> Any:
        if info < 20:
            return Simple(info)
        if info <= 23:
            return (False, True, None, None)[info - 20]
        if info == 24:
            value = self.take(1)[0]
            if value < 32:
                raise CBORDecodeError(f"Simple value {value} must use the one-byte form")
            return Simple(value)
        if info == 25:
            return float(struct.unpack(">e", self.take(2))[0])
        if info == 26:
            return float(struct.unpack(">f", self.take(4))[0])
        if info == 27:
            return float(struct.unpack(">d", self.take(8))[0])
        if info == 31:
            return _BREAK
        raise CBORDecodeError(f"Reserved additional information {info} on major type 7")

    def chunks(self, major: int) -> bytes:
        """An indefinite-length string: definite chunks of the same major type, then break."""
        parts: list[bytes] = []
        while True:
            initial = self.take(1)[0]
            if initial == 0xFF:
                return b"".join(parts)
            length = self.argument(initial & 0x1F)
            if initial >> 5 != major or length is None:
                raise CBORDecodeError("An indefinite-length string chunk must be a definite string")
            parts.append(self.take(length))

    def array(self, length: int | None, depth: int) -> list[Any]:
        if length is None:
            items: list[Any] = []
            while (value := self.item(depth)) is not _BREAK:
                items.append(value)
            return items
        # Every item takes at least one byte: refuse a count the input cannot hold.
        if length > len(self.data) - self.pos:
            raise CBORDecodeError(f"Array of {length} items exceeds the input")
        return [self.item_not_break(depth) for _ in range(length)]

    def map(self, length: int | None, depth: int) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        if length is not None and 2 * length > len(self.data) - self.pos:
            raise CBORDecodeError(f"Map of {length} pairs exceeds the input")
        count = 0
        while length is None or count < length:
            key = self.item(depth) if length is None else self.item_not_break(depth)
            if key is _BREAK:
                break
            if isinstance(key, list | dict):
                raise CBORDecodeError("A map key must not be an array or a map")
            result[key] = self.item_not_break(depth)
            count += 1
        return result


def dumps(value: Any) -> bytes:
    """`value` as one CBOR data item (definite lengths; `TypeError` for other types)."""
    out = bytearray()
    _encode(value, out)
    return bytes(out)


def _head(major: int, argument: int, out: bytearray) -> None:
    if argument < 24:
        out.append(major << 5 | argument)
    elif argument < 0x100:
        out += bytes((major << 5 | 24, argument))
    elif argument < 0x10000:
        out.append(major << 5 | 25)
        out += argument.to_bytes(2, "big")
    elif argument < 0x100000000:
        out.append(major << 5 | 26)
        out += argument.to_bytes(4, "big")
    elif argument < 0x10000000000000000:
        out.append(major << 5 | 27)
        out += argument.to_bytes(8, "big")
    else:
        raise ValueError(f"Integer {argument} does not fit CBOR's 64-bit argument")


def _encode(value: Any, out: bytearray) -> None:
    if value is None:
        out.append(0xF6)
    elif value is True:
        out.append(0xF5)
    elif value is False:
        out.append(0xF4)
    elif isinstance(value, int):
        if value >= 0:
            _head(0, value, out)
        else:
            _head(1, -1 - value, out)
    elif isinstance(value, str):
        raw = value.encode("utf-8")
        _head(3, len(raw), out)
        out += raw
    elif isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        _head(2, len(raw), out)
        out += raw
    elif isinstance(value, float):
        _float(value, out)
    elif isinstance(value, list | tuple):
        _head(4, len(value), out)
        for item in value:
            _encode(item, out)
    elif isinstance(value, dict):
        _head(5, len(value), out)
        for key, item in value.items():
            _encode(key, out)
            _encode(item, out)
    elif isinstance(value, Tagged):
        _head(6, value.tag, out)
        _encode(value.value, out)
    elif isinstance(value, Simple):
        if 24 <= value.value < 32 or not 0 <= value.value < 256:
            raise ValueError(f"simple({value.value}) is not encodable")
        _head(7, value.value, out)
    else:
        raise TypeError(f"Cannot encode {type(value).__name__} as CBOR")


def _float(value: float, out: bytearray) -> None:
    """The shortest of half, single and double that round-trips `value` (NaN as f97e00)."""
    if math.isnan(value):
        out += b"\xf9\x7e\x00"
        return
    for code, fmt in ((0xF9, ">e"), (0xFA, ">f")):
        try:
            packed = struct.pack(fmt, value)
        except OverflowError:
            continue
        if struct.unpack(fmt, packed)[0] == value:
            out.append(code)
            out += packed
            return
    out.append(0xFB)
    out += struct.pack(">d", value)
