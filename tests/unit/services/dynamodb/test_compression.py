"""Request decoding and DynamoDB's reading of Accept-Encoding."""

from __future__ import annotations

import gzip
import zlib

import pytest

from lambic._http_limits import SERVICES_MAX_BODY_BYTES
from lambic.services.dynamodb.compression import choose_encoding, compress, decode_request_body
from lambic.services.dynamodb.errors import InternalServerError

BODY = b'{"TableName": "orders", "Key": {"pk": {"S": "a"}}}'


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, None),
        ("", None),
        ("identity", None),
        ("br", None),
        ("x-gzip", None),
        ('"gzip"', None),
        ("gzip br", None),
        ("gzip:q=1", None),
        ("gzip, deflate", "gzip"),
        ("br, identity, deflate, gzip", "deflate"),  # the earlier entry wins a tie
        ("GZIP, identity", "gzip"),
        ("dog, gzip ,, cat", "gzip"),
        ("gzip;q=0.8, deflate;q=0.5", "gzip"),
        ("br, gzip;q=0, deflate; q = 0.5 , identity;q=0", "deflate"),
        ("*", "gzip"),
        ("*, deflate;q=0.5", "gzip"),
        ("*, deflate", "deflate"),  # named explicitly beats admitted by *
        ("*, gzip;q=0.5", "deflate"),
        ("*;q=0", None),
        ("gzip ;q=0", None),
        ("br;q=0.8,identity;q=0.5,*;q=0", None),
        ("deflate;q=0.5, gzip;q=31", "gzip"),  # above 1 counts as 1
        ("deflate;q=0.5, gzip;q=1;q=0.2", "gzip"),  # the first q= counts
        ("deflate;q=0.5,gzip;q=0.", "deflate"),
        ("deflate;q=0.5,gzip;q=0.x", "gzip"),  # unparsable counts as 1
        ("deflate;q=-0.5,gzip;q=0.2", "gzip"),
        ("gzip;q= 0;q=1", None),
        ("gzip;q =0;q=1", "gzip"),  # "q =" is not "q="
        ("gzip;nq=0;q=1", None),  # ...but "nq=" contains it
        ("gzip;q=0, gzip;q=1, gzip;q=0", "gzip"),
        ("br,identity;q=0.5,gzip;q=0.0001", "gzip"),
    ],
)
def test_accept_encoding_is_read_as_dynamodb_reads_it(
    accept: str | None, expected: str | None
) -> None:
    assert choose_encoding(accept) == expected


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compressed_responses_decode_with_the_standard_codecs(encoding: str) -> None:
    packed = compress(BODY * 100, encoding)
    unpacked = gzip.decompress(packed) if encoding == "gzip" else zlib.decompress(packed)
    assert unpacked == BODY * 100


def test_request_bodies_decode_gzip_members_and_zlib_streams() -> None:
    assert decode_request_body(BODY, None) == BODY
    assert decode_request_body(gzip.compress(BODY), "gzip") == BODY
    assert decode_request_body(gzip.compress(BODY), " GZIP ") == BODY
    two = gzip.compress(BODY[:10]) + gzip.compress(BODY[10:])
    assert decode_request_body(two, "gzip") == BODY
    assert decode_request_body(zlib.compress(BODY), "deflate") == BODY


@pytest.mark.parametrize(
    ("body", "encoding"),
    [
        (BODY, "garbage"),
        (BODY, "gzip"),  # not gzip at all
        (gzip.compress(BODY)[:-1], "gzip"),  # truncated
        (b"", "gzip"),
        (b"", "deflate"),
        (BODY, "deflate"),
        (zlib.compress(BODY) + b"junk", "deflate"),
    ],
    # gzip's header carries the time: ids from the bytes would differ between xdist workers
    ids=[
        "garbage",
        "not-gzip",
        "truncated-gzip",
        "empty-gzip",
        "empty-deflate",
        "not-deflate",
        "deflate-junk",
    ],
)
def test_undecodable_request_bodies_are_internal_server_errors(body: bytes, encoding: str) -> None:
    with pytest.raises(InternalServerError):
        decode_request_body(body, encoding)


def test_a_small_body_that_inflates_past_the_request_cap_is_refused() -> None:
    bomb = gzip.compress(b" " * (SERVICES_MAX_BODY_BYTES + 1))
    assert len(bomb) < 100_000
    with pytest.raises(InternalServerError, match="too large"):
        decode_request_body(bomb, "gzip")
