"""The zygote's freeze after each preload step (`_zygote_process._freeze`): what was
freed in malloc's heap goes back to the kernel, so it is not part of the image every
forked environment shares."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambic.runtime import _zygote_process

pytestmark = pytest.mark.skipif(
    _zygote_process._malloc_trim is None, reason="needs glibc's malloc_trim"
)


def rss_anon_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1])
    raise AssertionError("no RssAnon")


def test_freeze_gives_freed_heap_pages_back() -> None:
    # 64 KB blocks (malloc's heap, under its mmap threshold) each followed by a small
    # block that stays: freeing the large ones leaves holes in the middle of the heap,
    # which free() alone never returns.
    large, kept = [], []
    for _ in range(300):
        large.append(bytearray(b"x" * 65536))
        kept.append(bytearray(b"y" * 1024))
    del large
    before = rss_anon_kb()
    _zygote_process._freeze()
    after = rss_anon_kb()
    assert before - after > 8 * 1024, (before, after)
    assert len(kept) == 300
