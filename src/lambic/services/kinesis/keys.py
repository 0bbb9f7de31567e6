"""The numbers Kinesis hands out: hash keys, shard ids, sequence numbers, iterators.

- A record's hash key is the MD5 of its partition key (UTF-8) read as a 128-bit
  unsigned integer, or its `ExplicitHashKey`; the open shard whose
  `[StartingHashKey, EndingHashKey]` holds it takes the record. A new stream of N
  shards splits `[0, 2**128 - 1]` into N even ranges, as AWS does.
- Shard ids are `shardId-` and twelve digits (`shardId-000000000003`), numbered in
  creation order within the stream.
- Sequence numbers are 56-digit decimal strings like AWS's (`4960...`): "49", the shard's
  index in 24 digits, then the record's position in the service's log in 30 digits. The
  log position only grows, so a shard's sequence numbers strictly increase, and the
  shard is read back from the number itself.
- Shard iterators are opaque base64 tokens naming the stream (name and creation time,
  so a re-created stream does not honour an old one), the shard, the log position read
  up to and when the iterator was issued; GetRecords refuses one older than 5 minutes.

    >>> hash_key("a")
    16955237001963240173058271559858726497
    >>> shard_id(3)
    'shardId-000000000003'
    >>> parse_sequence(sequence_number(2, 17))
    (2, 17)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from dataclasses import dataclass

from lambic.services.kinesis.errors import (
    ExpiredIteratorError,
    InvalidArgumentError,
)

#: The hash key space: [0, MAX_HASH_KEY].
MAX_HASH_KEY = 2**128 - 1
#: How long a shard iterator may be used (AWS: 5 minutes).
ITERATOR_LIFETIME_SECONDS = 300.0

_SHARD_PREFIX = "shardId-"
#: The largest shard index a shard id may name (a Java int, as Kinesis parses it).
MAX_SHARD_INDEX = 2**31 - 1
_SEQUENCE_LEAD = 49
_SHARD_DIGITS = 24
_POSITION_DIGITS = 30


def hash_key(partition_key: str) -> int:
    """The 128-bit hash key Kinesis computes from a partition key (MD5, big-endian)."""
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")


def parse_explicit_hash_key(text: object) -> int:
    """An `ExplicitHashKey` as a number, refused outside [0, 2**128 - 1]."""
    value = int(text) if isinstance(text, str) and text.isdigit() else -1
    if not 0 <= value <= MAX_HASH_KEY:
        raise InvalidArgumentError(
            f"Invalid ExplicitHashKey. ExplicitHashKey must be in the range: "
            f"[0, 2^128-1]. Specified value was {text}"
        )
    return value


def even_ranges(count: int) -> list[tuple[int, int]]:
    """`count` contiguous hash key ranges covering the whole space, as CreateStream
    splits it (the last range takes the remainder)."""
    step = (MAX_HASH_KEY + 1) // count
    ranges = [(i * step, (i + 1) * step - 1) for i in range(count)]
    ranges[-1] = (ranges[-1][0], MAX_HASH_KEY)
    return ranges


def shard_id(index: int) -> str:
    return f"{_SHARD_PREFIX}{index:012d}"


def parse_shard_id(text: object) -> int | None:
    """The shard index a ShardId names, as Kinesis reads it, else None.

    Kinesis takes the digits after the first `-` (or the whole text when there is
    none), so `shardId-000000000001`, `shardId-1`, `anything-1` and `1` all name shard
    1; anything else (letters, an exponent, more than a Java int) names no shard and is
    refused by name ("Could not find shard X ...", recorded against AWS by kinesalite's
    tests).

    >>> [parse_shard_id(s) for s in ("shardId-000000000002", "x-2", "2", "2.1E4", "a-b")]
    [2, 2, 2, None, None]
    """
    if not isinstance(text, str):
        return None
    pieces = text.split("-")
    digits = pieces[1] if len(pieces) > 1 and pieces[1] else text
    if not digits.isascii() or not digits.isdigit():
        return None
    index = int(digits)
    return index if index <= MAX_SHARD_INDEX else None


def sequence_number(shard: int, position: int) -> str:
    """The 56-digit sequence number of the record at log `position` in shard `shard`."""
    return f"{_SEQUENCE_LEAD}{shard:0{_SHARD_DIGITS}d}{position:0{_POSITION_DIGITS}d}"


def parse_sequence(text: object) -> tuple[int, int] | None:
    """(shard index, log position) of a sequence number this service made, else None."""
    if not isinstance(text, str) or len(text) != 2 + _SHARD_DIGITS + _POSITION_DIGITS:
        return None
    if not text.isdigit() or int(text[:2]) != _SEQUENCE_LEAD:
        return None
    return int(text[2 : 2 + _SHARD_DIGITS]), int(text[2 + _SHARD_DIGITS :])


@dataclass(frozen=True)
class Iterator:
    """Where a shard iterator points: after log `position` in one shard of one stream."""

    stream: str
    created: float  # the stream's creation time: a re-created stream is another stream
    shard: int
    position: int
    issued: float


def encode_iterator(stream: str, created: float, shard: int, position: int) -> str:
    payload = json.dumps(
        [stream, created, shard, position, round(time.time(), 3)], separators=(",", ":")
    )
    return base64.b64encode(payload.encode("utf-8")).decode("ascii")


def decode_iterator(token: object, now: float | None = None) -> Iterator:
    """The iterator a token names; InvalidArgument if malformed, ExpiredIterator if old."""
    if not isinstance(token, str):
        raise InvalidArgumentError("Invalid ShardIterator.")
    try:
        stream, created, shard, position, issued = json.loads(base64.b64decode(token))
        iterator = Iterator(str(stream), float(created), int(shard), int(position), float(issued))
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidArgumentError("Invalid ShardIterator.") from exc
    now = time.time() if now is None else now
    if now - iterator.issued > ITERATOR_LIFETIME_SECONDS:
        raise ExpiredIteratorError(
            f"Iterator expired. The iterator was created at time {_aws_time(iterator.issued)} "
            f"while right now it is {_aws_time(now)} which is further in the future than the "
            f"tolerated delay of {int(ITERATOR_LIFETIME_SECONDS * 1000)} milliseconds."
        )
    return iterator


def _aws_time(epoch: float) -> str:
    """Java's `Date.toString()` in UTC, as the Kinesis service prints times."""
    return time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(epoch))
