"""The CLI's one exception, and the one place other layers' errors become it.

A user error is printed as one clear line with exit status 2. Every command runs inside
`LambicGroup.invoke`, which turns the roots of the other layers' errors (the project,
runtime, deploy and services layers, and the project skeletons: `user_errors`, which
`lambic local`'s serving process reports the same way without click) into a
`CLIError`, so no command catches them itself.
"""

from __future__ import annotations

from typing import Any

import click

from lambic.cli.user_errors import EXIT_STATUS, error_line, user_errors


class CLIError(click.ClickException):
    """A problem the user can fix; the message says what happened and what to do."""

    exit_code = EXIT_STATUS

    def show(self, file: object = None) -> None:
        click.echo(error_line(self.format_message()), err=True)


class LambicGroup(click.Group):
    """The `lambic` group: a user error from any layer ends the command as a `CLIError`."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if isinstance(exc, user_errors()):
                raise CLIError(str(exc)) from exc
            raise
