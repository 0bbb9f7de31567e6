"""The scale benchmark runs end to end at a bounded size and prints its figures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench" / "dynamodb_scale.py"


@pytest.mark.slow
def test_scale_bench_loads_queries_and_reports_memory_at_a_bounded_size() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--items", "5000", "--partitions", "50", "--queries", "100"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    out = result.stdout
    assert "ItemCount reported: 5,000" in out
    server_side = re.search(r"server-side\s+median ([\d.]+) ms", out)
    rss = re.search(r"service peak RSS (\d+) MB", out)
    assert server_side is not None and rss is not None, out
    assert int(rss.group(1)) < 300
