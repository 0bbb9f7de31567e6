"""Who may use the console: only this machine's browser, only from the console's page."""

from __future__ import annotations

import pytest

from lambic.console.guard import refusal

HOST = "127.0.0.1:4566"


@pytest.mark.parametrize("host", [HOST, "localhost:4566", "[::1]:4566", "127.0.0.1"])
def test_reads_from_a_loopback_host_are_allowed(host: str) -> None:
    assert refusal("GET", host, "127.0.0.1", None, None) is None


@pytest.mark.parametrize("host", ["evil.example", "evil.example:4566", "127.0.0.1.nip.io:4566"])
def test_a_rebound_host_name_is_refused(host: str) -> None:
    why = refusal("GET", host, "127.0.0.1", None, None)
    assert why is not None and "not this machine" in why


def test_a_client_off_this_machine_is_refused() -> None:
    why = refusal("GET", HOST, "192.168.1.20", None, None)
    assert why is not None and "loopback" in why


def test_a_change_needs_the_console_header() -> None:
    assert refusal("POST", HOST, "127.0.0.1", None, None) is not None
    assert refusal("DELETE", HOST, "127.0.0.1", None, "0") is not None
    assert refusal("POST", HOST, "127.0.0.1", None, "1") is None


def test_a_change_from_another_origin_is_refused_even_with_the_header() -> None:
    why = refusal("POST", HOST, "127.0.0.1", "http://evil.example", "1")
    assert why is not None and "Origin" in why
    assert refusal("POST", HOST, "127.0.0.1", "http://localhost:4566", "1") is not None
    assert refusal("POST", HOST, "127.0.0.1", f"http://{HOST}", "1") is None
