from __future__ import annotations

import gc
import os
from pathlib import Path

from click.testing import CliRunner

from lambic.cli.main import main
from lambic.runtime.endpoint_file import ServicesLock


def test_state_and_in_memory_together_is_one_clear_error() -> None:
    result = CliRunner().invoke(main, ["services", "--in-memory", "--state", "somewhere"])
    assert result.exit_code == 2
    assert "either --state DIR or --in-memory" in result.output


def test_require_auth_needs_key_and_secret() -> None:
    result = CliRunner().invoke(main, ["services", "--in-memory", "--require-auth", "justakey"])
    assert result.exit_code == 2
    assert "ACCESS_KEY:SECRET_KEY" in result.output


def test_require_auth_alone_needs_identities_to_know_whom_to_accept() -> None:
    result = CliRunner().invoke(main, ["services", "--in-memory", "--require-auth"], env={})
    assert result.exit_code == 2
    assert "--identities FILE" in result.output


def test_an_invalid_identities_file_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "ids.json"
    bad.write_text('{"accounts": [{"account_id": "42"}]}')
    result = CliRunner().invoke(main, ["services", "--in-memory", "--identities", str(bad)])
    assert result.exit_code == 2
    assert "accounts[0].account_id must be 12 digits" in result.output
    env_result = CliRunner().invoke(
        main, ["services", "--in-memory"], env={"LAMBIC_IDENTITIES": str(bad)}
    )
    assert env_result.exit_code == 2
    assert "must be 12 digits" in env_result.output


def test_help_names_the_default_state_directory() -> None:
    result = CliRunner().invoke(main, ["services", "--help"])
    assert result.exit_code == 0
    assert ".lambic/state/<stage>/" in result.output


def test_a_state_another_process_holds_is_refused_with_its_pid(tmp_path: Path) -> None:
    holder = ServicesLock(tmp_path / "services.lock")
    assert holder.try_acquire()
    try:
        result = CliRunner().invoke(main, ["services", "--state", str(tmp_path), "--port", "0"])
    finally:
        holder.release()
    assert result.exit_code == 2
    assert f"in use by another Lambic process (pid {os.getpid()})" in result.output
    assert "--in-memory or --state DIR" in result.output


def test_collection_is_back_on_when_the_command_returns(tmp_path: Path) -> None:
    # The command pauses garbage collection while it starts; a refused start (here:
    # the state is held) must not leave the calling process without it.
    holder = ServicesLock(tmp_path / "services.lock")
    assert holder.try_acquire()
    try:
        result = CliRunner().invoke(main, ["services", "--state", str(tmp_path), "--port", "0"])
    finally:
        holder.release()
    assert result.exit_code == 2
    assert gc.isenabled()
