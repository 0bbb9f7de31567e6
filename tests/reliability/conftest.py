"""Fixtures for the reliability suite: the two HTTP edges on real sockets.

Each test reproduces one finding of issue 18 against a real server: the services'
edge (`EdgeServer` over real SQLite state) or the gateway (`LocalCloud` with a small
app and real execution environments). Raw sockets (`reliability_wire`) let a test send
what no SDK would: a lying Content-Length, a slow-loris head, a 1 MB header.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The suite's helper module sits next to this file (as tests/examples does).
sys.path.insert(0, str(Path(__file__).parent))

from reliability_wire import make_edge

from lambic.services.server import EdgeServer


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[EdgeServer]:
    """The services' edge with state on disk and the shipped limits."""
    server = make_edge(tmp_path / "state")
    yield server
    server.stop()
