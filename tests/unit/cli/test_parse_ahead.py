"""`lambic local`'s options are parsed by its click command in a fork: the process that
serves gets them back without ever importing click, and a command line that does not
parse ends as click ends it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lambic.cli.local_serve import LocalOptions
from lambic.cli.parse_ahead import local_options

# A fresh interpreter with one thread, as the console script is when it parses.
PARSE = textwrap.dedent(
    """
    import json, os, sys, threading
    from lambic.cli.parse_ahead import local_options

    if os.environ.get("WITH_THREAD"):
        threading.Thread(target=threading.Event().wait, daemon=True).start()

    sys.argv = ["/venv/bin/lambic", *sys.argv[1:]]
    try:
        options = local_options(sys.argv)
    except SystemExit as exit_:
        print("EXIT", exit_.code, flush=True)
        raise
    print("OPTIONS", options.to_json().decode() if options else None)
    print("CLICK", json.dumps(sorted(m for m in sys.modules if m.split(".")[0] == "click")))
    """
)


def parse(*argv: str, with_thread: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **({"WITH_THREAD": "1"} if with_thread else {})}
    return subprocess.run(
        [sys.executable, "-c", PARSE, *argv], capture_output=True, text=True, timeout=60, env=env
    )


def printed(result: subprocess.CompletedProcess[str], tag: str) -> str:
    return next(line for line in result.stdout.splitlines() if line.startswith(tag + " "))[
        len(tag) + 1 :
    ]


def test_the_serving_process_gets_the_options_without_importing_click() -> None:
    result = parse("local", "--port", "8123", "--stage", "prod", "--no-reload", "-v")

    assert result.returncode == 0, result.stderr
    assert json.loads(printed(result, "OPTIONS")) == {
        "project_dir": ".",
        "host": "127.0.0.1",
        "port": 8123,
        "stage": "prod",
        "no_reload": True,
        "services_port": 4566,
        "ws_port": None,
        "no_services": False,
        "verbose": True,
    }
    assert json.loads(printed(result, "CLICK")) == []


def test_a_usage_error_is_clicks_message_and_status() -> None:
    result = parse("local", "--port", "eighty")

    assert printed(result, "EXIT") == "2"
    assert "Invalid value for '--port': 'eighty' is not a valid integer." in result.stderr
    assert "Usage: lambic local [OPTIONS]" in result.stderr


def test_an_unknown_option_is_clicks_message_and_status() -> None:
    result = parse("local", "--bogus")

    assert printed(result, "EXIT") == "2"
    assert "No such option '--bogus'" in result.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["/venv/bin/lambic", "services"],
        ["/venv/bin/lambic", "local", "--help"],
        ["/venv/bin/pytest", "local"],
    ],
)
def test_other_command_lines_are_left_to_the_group(argv: list[str]) -> None:
    assert local_options(argv) is None


def test_a_process_with_threads_is_not_forked() -> None:
    # A fork copies only the forking thread: a lock another one held would stay held.
    result = parse("local", "--port", "8123", with_thread=True)

    assert printed(result, "OPTIONS") == "None"


def test_options_cross_the_pipe_unchanged() -> None:
    options = LocalOptions(
        project_dir=Path("/srv/app"),
        host="0.0.0.0",
        port=9000,
        stage="dev",
        no_reload=False,
        services_port=4567,
        ws_port=9002,
        no_services=True,
        verbose=False,
    )

    assert LocalOptions.from_json(options.to_json()) == options
