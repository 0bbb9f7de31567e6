"""The zygote's freeze after each preload step (`_zygote_process._freeze`): what was
freed in malloc's heap goes back to the kernel, so it is not part of the image every
forked environment shares."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lambic.runtime import _zygote_process

pytestmark = pytest.mark.skipif(
    _zygote_process._malloc_trim is None, reason="needs glibc's malloc_trim"
)


# Run in a fresh interpreter: in a test process the heap's holes are soon reused by
# whatever else runs there (a full unit run returned 7.7 of the 19 MB freed), and its
# malloc settings are the scenario's own.
_SCENARIO = """
import sys
from pathlib import Path
from lambic.runtime import _zygote_process

def rss_anon_kb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1])

# free() alone gives heap memory back only from its top, past a threshold, and where
# that is depends on what the interpreter's start left: set the thresholds so free()
# returns nothing and 64 KB blocks always come from the heap (glibc's mallopt:
# M_TRIM_THRESHOLD -1, M_MMAP_THRESHOLD -3). What comes back is then _freeze's doing.
import ctypes
libc = ctypes.CDLL(None)
libc.mallopt(-1, 1 << 30)
libc.mallopt(-3, 1 << 20)
large, kept = [], []
for _ in range(300):
    large.append(bytearray(b"x" * 65536))
    kept.append(bytearray(b"y" * 1024))
del large
before = rss_anon_kb()
_zygote_process._freeze()
print(before - rss_anon_kb(), len(kept))
"""


def test_freeze_gives_freed_heap_pages_back() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _SCENARIO], capture_output=True, text=True, timeout=60, check=True
    )
    given_back_kb, kept = (int(v) for v in result.stdout.split())
    assert given_back_kb > 12 * 1024, given_back_kb  # of the ~19 MB freed
    assert kept == 300
