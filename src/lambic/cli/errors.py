"""The CLI's one exception, and the one place other layers' errors become it.

A user error is printed as one clear line with exit status 2. Every command runs inside
`LambicGroup.invoke`, which turns the roots of the other layers' errors (the project,
runtime, deploy and services layers, and the project skeletons) into a `CLIError`, so
no command catches them itself.
"""

from __future__ import annotations

from typing import Any

import click

from lambic._sockets import PortInUseError
from lambic.deploy.errors import DeployError
from lambic.project.errors import ProjectError
from lambic.runtime.errors import LambicRuntimeError
from lambic.services.base import ServiceError
from lambic.templates import SkeletonError

#: Errors whose message is meant for the user: printed as one line, never a traceback.
USER_ERRORS: tuple[type[Exception], ...] = (
    PortInUseError,
    ProjectError,
    LambicRuntimeError,
    DeployError,
    ServiceError,
    SkeletonError,
)


class CLIError(click.ClickException):
    """A problem the user can fix; the message says what happened and what to do."""

    exit_code = 2

    def show(self, file: object = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


class LambicGroup(click.Group):
    """The `lambic` group: a user error from any layer ends the command as a `CLIError`."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except USER_ERRORS as exc:
            raise CLIError(str(exc)) from exc
