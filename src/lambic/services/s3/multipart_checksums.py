"""Checksums of multipart uploads, as S3 computes them.

CreateMultipartUpload names an algorithm (`x-amz-checksum-algorithm`) and a type
(`x-amz-checksum-type`); each part carries its checksum; CompleteMultipartUpload
gives the object:

- COMPOSITE (SHA1, SHA256, CRC32, CRC32C): the algorithm applied to the concatenated
  binary part checksums, then `-<part count>`;
- FULL_OBJECT (CRC32, CRC32C, CRC64NVME): the CRC of the whole object, combined from
  the part CRCs and sizes (zlib's crc32_combine, generalised to any reflected CRC
  whose init and final XOR are all ones), so no byte is read again.

A complete request's part checksums must match the stored ones (InvalidPart) and its
whole-object checksum header must match the result (BadDigest), as on AWS.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lambic.services.base import Headers
from lambic.services.s3 import crc
from lambic.services.s3._wire import CHECKSUM_ALGORITHMS
from lambic.services.s3.errors import S3Error

COMPOSITE = "COMPOSITE"
FULL_OBJECT = "FULL_OBJECT"
# Reflected polynomial and width of each CRC S3 offers.
_CRCS = {
    "CRC32": (0xEDB88320, 32),
    "CRC32C": (crc.CRC32C_POLY, 32),
    "CRC64NVME": (crc.CRC64NVME_POLY, 64),
}
_TYPES = {
    "SHA1": (COMPOSITE,),
    "SHA256": (COMPOSITE,),
    "CRC32": (COMPOSITE, FULL_OBJECT),
    "CRC32C": (COMPOSITE, FULL_OBJECT),
    "CRC64NVME": (FULL_OBJECT,),
}


@dataclass(frozen=True)
class UploadChecksum:
    """What an upload was created to compute."""

    algorithm: str
    kind: str  # COMPOSITE | FULL_OBJECT


def requested(headers: Headers) -> UploadChecksum | None:
    """CreateMultipartUpload's checksum algorithm and type, validated."""
    raw = headers.get("x-amz-checksum-algorithm")
    if raw is None:
        return None
    algorithm = raw.upper()
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise S3Error(
            "InvalidRequest",
            "Checksum algorithm provided is unsupported. Please try again with any of the "
            "valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
        )
    kind = headers.get("x-amz-checksum-type", _TYPES[algorithm][0]).upper()
    if kind not in _TYPES[algorithm]:
        raise S3Error(
            "InvalidRequest",
            f"The {algorithm} checksum algorithm does not support the {kind} checksum type.",
        )
    return UploadChecksum(algorithm, kind)


def _raw(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise S3Error("InvalidDigest") from exc


def _gf2_times(matrix: Sequence[int], vector: int) -> int:
    total, row = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[row]
        vector >>= 1
        row += 1
    return total


def _gf2_square(matrix: Sequence[int]) -> list[int]:
    return [_gf2_times(matrix, row) for row in matrix]


def crc_combine(crc1: int, crc2: int, length2: int, poly: int, width: int) -> int:
    """CRC(A + B) from CRC(A), CRC(B) and len(B): shift CRC(A) past len(B) zero bytes."""
    if length2 <= 0:
        return crc1
    odd = [poly] + [1 << bit for bit in range(width - 1)]  # one zero bit
    even = _gf2_square(odd)  # two zero bits
    odd = _gf2_square(even)  # four zero bits
    while True:
        even = _gf2_square(odd)  # the first pass: one zero byte
        if length2 & 1:
            crc1 = _gf2_times(even, crc1)
        length2 >>= 1
        if not length2:
            break
        odd = _gf2_square(even)
        if length2 & 1:
            crc1 = _gf2_times(odd, crc1)
        length2 >>= 1
        if not length2:
            break
    return crc1 ^ crc2


def _crc32_of(data: bytes) -> bytes:
    return zlib.crc32(data).to_bytes(4, "big")


_DIGESTS: dict[str, Callable[[bytes], bytes]] = {
    "SHA1": lambda data: hashlib.sha1(data).digest(),
    "SHA256": lambda data: hashlib.sha256(data).digest(),
    "CRC32": _crc32_of,
    "CRC32C": crc.crc32c,
}


def _composite(algorithm: str, parts: Sequence[bytes]) -> str:
    digest = _DIGESTS[algorithm]
    return f"{base64.b64encode(digest(b''.join(parts))).decode()}-{len(parts)}"


def _full_object(algorithm: str, parts: Sequence[bytes], sizes: Sequence[int]) -> str:
    poly, width = _CRCS[algorithm]
    combined = int.from_bytes(parts[0], "big")
    for value, size in zip(parts[1:], sizes[1:], strict=True):
        combined = crc_combine(combined, int.from_bytes(value, "big"), size, poly, width)
    return base64.b64encode(combined.to_bytes(width // 8, "big")).decode()


def complete(
    checksum: UploadChecksum,
    stored: Sequence[str | None],
    sent: Sequence[str | None],
    sizes: Sequence[int],
    headers: Headers,
) -> tuple[str | None, tuple[str, ...]]:
    """The object's checksum and its parts' from the chosen parts' stored checksums
    ("ALG:value"), checked against the complete request's part checksums (`sent`) and
    its whole-object header."""
    values: list[str] = []
    for number, (mine, theirs) in enumerate(zip(stored, sent, strict=True), start=1):
        value = mine.partition(":")[2] if mine and mine.startswith(checksum.algorithm) else None
        if value is None or (theirs is not None and theirs != value):
            raise S3Error(
                "InvalidPart",
                f"The upload was created using a {checksum.algorithm.lower()} checksum. The "
                f"complete request must include the checksum for each part. It was missing "
                f"or did not match for part {number}.",
            )
        values.append(value)
    raw = [_raw(value) for value in values]
    if checksum.kind == FULL_OBJECT:
        whole: str | None = _full_object(checksum.algorithm, raw, sizes)
    else:
        whole = _composite(checksum.algorithm, raw)
    claimed = headers.get(f"x-amz-checksum-{checksum.algorithm.lower()}")
    if claimed is not None and whole is not None and claimed != whole:
        raise S3Error(
            "BadDigest",
            f"The {checksum.algorithm} you specified did not match the calculated checksum.",
        )
    return whole, tuple(values)
