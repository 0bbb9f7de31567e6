from __future__ import annotations

from click.testing import CliRunner

from lambic.cli import main


def test_state_and_in_memory_together_is_one_clear_error() -> None:
    result = CliRunner().invoke(main, ["services", "--in-memory", "--state", "somewhere"])
    assert result.exit_code == 2
    assert "either --state DIR or --in-memory" in result.output


def test_require_auth_needs_key_and_secret() -> None:
    result = CliRunner().invoke(main, ["services", "--in-memory", "--require-auth", "justakey"])
    assert result.exit_code == 2
    assert "ACCESS_KEY:SECRET_KEY" in result.output


def test_help_names_the_default_state_directory() -> None:
    result = CliRunner().invoke(main, ["services", "--help"])
    assert result.exit_code == 0
    assert ".lambic/state/<stage>/" in result.output
