"""The MD5 digests SQS returns so clients can verify what it stored.

botocore recomputes `MD5OfMessageBody` and `MD5OfMessageAttributes` and raises if
ours differ, so these follow AWS's documented encoding byte for byte: attributes
sorted by name; for each, the 4-byte big-endian length and UTF-8 bytes of the name,
then of the data type, then a transport byte (1 = string/number, 2 = binary), then
the length and bytes of the value.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping

from lambic.services.sqs.model import AttributeValue

_STRING = b"\x01"
_BINARY = b"\x02"


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _field(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def md5_of_attributes(attributes: Mapping[str, AttributeValue]) -> str | None:
    """AWS's MD5OfMessageAttributes; None when there are no attributes (AWS omits it)."""
    if not attributes:
        return None
    parts: list[bytes] = []
    for name in sorted(attributes):
        value = attributes[name]
        parts.append(_field(name.encode()))
        parts.append(_field(value.data_type.encode()))
        if value.binary_value is not None:
            parts.append(_BINARY + _field(value.binary_value))
        else:
            parts.append(_STRING + _field((value.string_value or "").encode()))
    return md5_hex(b"".join(parts))
