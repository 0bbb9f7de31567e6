"""The CLI's one exception: a user error printed as one clear line, exit status 2."""

from __future__ import annotations

import click


class CLIError(click.ClickException):
    """A problem the user can fix; the message says what happened and what to do."""

    exit_code = 2

    def show(self, file: object = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)
