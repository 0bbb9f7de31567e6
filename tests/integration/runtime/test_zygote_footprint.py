"""What the zygote's helper processes hold: the namespace factory is forked from a bare
interpreter, before the zygote imports boto3, so it (and every builder it forks) does
not keep its own copy of the zygote's image (`_isolation.start_factory`)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from lambic.runtime import _isolation
from lambic.runtime.zygote import DEFAULT_PRELOAD, Zygote
from tests._support.processes import children

pytestmark = pytest.mark.skipif(
    not (_isolation.enabled() and _isolation.facilities().namespaces),
    reason="needs unprivileged user namespaces",
)


def rss_anon_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1])
    raise AssertionError(f"no RssAnon for {pid}")


def test_the_namespace_factory_does_not_hold_the_zygotes_boto3() -> None:
    async def measure() -> tuple[int, int]:
        zygote = Zygote(preload=DEFAULT_PRELOAD)
        try:
            await zygote.wait_ready()  # boto3 imported by now
            user_ns = os.readlink(f"/proc/{zygote.pid}/ns/user")
            # The factory is the zygote's child in a user namespace of its own.
            factories = [
                pid
                for pid in children(zygote.pid)
                if os.readlink(f"/proc/{pid}/ns/user") != user_ns
            ]
            assert len(factories) == 1, factories
            return rss_anon_kb(zygote.pid), rss_anon_kb(factories[0])
        finally:
            await zygote.aclose()

    zygote_kb, factory_kb = asyncio.run(measure())
    # Measured: zygote ~24 MB once boto3 is imported (more as clients are built), the
    # factory ~6.5 MB (~22 MB when it was forked after the preload).
    assert factory_kb * 2 < zygote_kb, (factory_kb, zygote_kb)
