"""The confirmation `lambic delete --include-data` asks before deleting data."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from lambic.cli.delete import ask_on_terminal
from lambic.deploy.errors import DeleteRefusedError

HELD = ["table trainstatus (about 1 item)", "bucket trainstatus-site (3 objects)"]


def test_terminal_prompt_lists_each_resource_with_its_data_and_takes_yes() -> None:
    with CliRunner().isolation(input="y\n") as streams:
        assert ask_on_terminal(True)(HELD) is True
    shown = streams[0].getvalue().decode()
    assert (
        "Delete these and all their data?\n"
        "  table trainstatus (about 1 item)\n"
        "  bucket trainstatus-site (3 objects)\n"
    ) in shown


@pytest.mark.parametrize("answer", ["n\n", "\n"])
def test_terminal_prompt_defaults_to_no(answer: str) -> None:
    with CliRunner().isolation(input=answer):
        assert ask_on_terminal(True)(HELD) is False


def test_without_a_terminal_it_refuses_and_says_to_pass_yes() -> None:
    with pytest.raises(DeleteRefusedError, match=r"no terminal to confirm on; pass --yes"):
        ask_on_terminal(False)(HELD)
