"""Hash keys, shard ids, sequence numbers and shard iterators, as Kinesis makes them."""

from __future__ import annotations

import hashlib
import itertools

import pytest

from lambic.services.kinesis import keys
from lambic.services.kinesis.errors import ExpiredIteratorError, InvalidArgumentError


def test_a_partition_key_hashes_to_its_md5_as_a_128_bit_number() -> None:
    expected = int.from_bytes(hashlib.md5(b"user-1").digest(), "big")
    assert keys.hash_key("user-1") == expected
    assert keys.hash_key("a") == 16955237001963240173058271559858726497
    # Non-ASCII keys are hashed as UTF-8.
    assert keys.hash_key("é") == int.from_bytes(hashlib.md5("é".encode()).digest(), "big")


def test_even_ranges_cover_the_whole_hash_space_without_gaps() -> None:
    assert keys.even_ranges(1) == [(0, 2**128 - 1)]
    four = keys.even_ranges(4)
    # AWS's four-shard stream: the second shard starts at 2**126.
    assert four[1][0] == 85070591730234615865843651857942052864 == 2**126
    for count in (1, 2, 3, 4, 7):
        ranges = keys.even_ranges(count)
        assert ranges[0][0] == 0 and ranges[-1][1] == keys.MAX_HASH_KEY
        assert all(a[1] + 1 == b[0] for a, b in itertools.pairwise(ranges))


def test_explicit_hash_keys_outside_the_space_are_refused() -> None:
    assert keys.parse_explicit_hash_key("0") == 0
    assert keys.parse_explicit_hash_key(str(2**128 - 1)) == 2**128 - 1
    for bad in (str(2**128), "-1", "12a", ""):
        with pytest.raises(InvalidArgumentError, match="ExplicitHashKey must be in the range"):
            keys.parse_explicit_hash_key(bad)


def test_shard_ids_have_twelve_digits_and_parse_back() -> None:
    assert keys.shard_id(0) == "shardId-000000000000"
    assert keys.shard_id(12) == "shardId-000000000012"
    assert keys.parse_shard_id("shardId-000000000012") == 12
    assert keys.parse_shard_id(None) is None


def test_a_shard_id_names_the_index_after_its_first_dash_as_kinesis_reads_it() -> None:
    # Kinesis accepts short and foreign-prefixed ids (kinesalite's AWS recordings).
    named = ["shardId-5", "shard-5", "x-000005", "5", "-00005"]
    assert [keys.parse_shard_id(text) for text in named] == [5, 5, 5, 5, 5]
    assert keys.parse_shard_id("2147483647") == 2**31 - 1
    # Past a Java int, not digits, an exponent, an empty tail: no shard at all.
    for text in ("2147483648", "shardId-002147483648", "ABKLFD8", "2.14E4", "a-b-1", "shardId-"):
        assert keys.parse_shard_id(text) is None, text


def test_sequence_numbers_are_56_digits_increasing_within_a_shard_and_name_it() -> None:
    numbers = [keys.sequence_number(3, position) for position in (1, 2, 10, 999, 10**12)]
    assert all(len(n) == 56 and n.isdigit() and n.startswith("49") for n in numbers)
    # Compared as numbers, as consumers do (the KCL, Lambda's checkpoints).
    assert [int(n) for n in numbers] == sorted(int(n) for n in numbers)
    assert keys.parse_sequence(numbers[2]) == (3, 10)
    assert keys.parse_sequence("123") is None
    assert keys.parse_sequence("1" * 56) is None


def test_an_iterator_names_its_position_and_expires_after_five_minutes() -> None:
    token = keys.encode_iterator("clicks", 1700000000.5, 2, 41)
    assert len(token) <= 512  # botocore's ShardIterator limit
    iterator = keys.decode_iterator(token)
    assert (iterator.stream, iterator.created, iterator.shard, iterator.position) == (
        "clicks",
        1700000000.5,
        2,
        41,
    )
    assert keys.decode_iterator(token, now=iterator.issued + 299).position == 41
    with pytest.raises(ExpiredIteratorError, match=r"^Iterator expired\. The iterator was created"):
        keys.decode_iterator(token, now=iterator.issued + 301)


def test_a_malformed_iterator_is_an_invalid_argument() -> None:
    for bad in ("not-base64!", "e30=", None):
        with pytest.raises(InvalidArgumentError, match="Invalid ShardIterator"):
            keys.decode_iterator(bad)
