"""CRC32C and CRC64NVME (`lambic.services.s3.crc`) as S3 and its SDKs compute them."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable

import pytest

from lambic.services.s3 import crc


def test_the_standard_check_values() -> None:
    # The catalogue check value of each CRC: its CRC of the nine bytes "123456789".
    assert crc.crc32c(b"123456789").hex() == "e3069283"
    assert crc.crc64nvme(b"123456789").hex() == "ae8b14860a799888"


def test_s3s_encoding_of_a_known_object() -> None:
    # 1,024 bytes of "A": the x-amz-checksum-crc64nvme an SDK sends for them.
    assert base64.b64encode(crc.crc64nvme(b"A" * 1024)).decode() == "Qeh8oXvGiSo="
    assert crc.crc32c(b"").hex() == "00000000"
    assert crc.crc64nvme(b"").hex() == "0000000000000000"


@pytest.mark.parametrize(
    ("poly", "width", "whole"),
    [(crc.CRC32C_POLY, 32, crc.crc32c), (crc.CRC64NVME_POLY, 64, crc.crc64nvme)],
    ids=["crc32c", "crc64nvme"],
)
def test_fed_in_pieces_of_any_size_it_equals_the_whole(
    poly: int, width: int, whole: Callable[[bytes], bytes]
) -> None:
    data = os.urandom(10_007)
    for step in (1, 3, 8, 13, 4096):
        running = crc.Crc(poly, width)
        for start in range(0, len(data), step):
            running.update(data[start : start + step])
        assert running.digest() == whole(data)
