from __future__ import annotations

from lambic.services.sqs._checksums import md5_hex, md5_of_attributes
from lambic.services.sqs.model import AttributeValue


def test_attribute_digest_matches_the_value_aws_and_moto_compute() -> None:
    # Cross-checked against moto's independent implementation (tests/conformance).
    attributes = {
        "count": AttributeValue("Number", "42"),
        "city": AttributeValue("String", "Zürich"),
        "blob": AttributeValue("Binary", None, b"\x00\x01\xff"),
    }
    assert md5_of_attributes(attributes) == "7dd2b41929be88c0c5b4ec9bcde42e86"
    assert md5_of_attributes({"k": AttributeValue("String", "v")}) == (
        "0a77b0642718c3d9dd47090567d11e0d"
    )


def test_attribute_digest_is_independent_of_insertion_order() -> None:
    a = {"x": AttributeValue("String", "1"), "y": AttributeValue("String", "2")}
    b = {"y": AttributeValue("String", "2"), "x": AttributeValue("String", "1")}
    assert md5_of_attributes(a) == md5_of_attributes(b)


def test_no_attributes_gives_no_digest() -> None:
    assert md5_of_attributes({}) is None


def test_body_digest_is_md5_of_utf8() -> None:
    assert md5_hex(b"hello") == "5d41402abc4b2a76b9719d911017c592"
