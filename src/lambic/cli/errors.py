"""The CLI's one exception, and the one place other layers' errors become it.

A user error is printed as one clear line with exit status 2. Every command runs inside
`LambicGroup.invoke`, which turns the roots of the other layers' errors (the project,
runtime, deploy and services layers, and the project skeletons) into a `CLIError`, so
no command catches them itself.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

#: Errors whose message is meant for the user: printed as one line, never a traceback.
#: Named, not imported: `lambic.deploy` imports boto3, and `lambic services` or `lambic
#: local` must not pay for that at start. An error of a layer that was never imported
#: cannot have been raised, so only the imported roots are checked (`user_errors`).
USER_ERRORS: tuple[tuple[str, str], ...] = (
    ("lambic._sockets", "PortInUseError"),
    ("lambic.project.errors", "ProjectError"),
    ("lambic.runtime.errors", "LambicRuntimeError"),
    ("lambic.deploy.errors", "DeployError"),
    ("lambic.services.base", "ServiceError"),
    ("lambic.templates.skeleton", "SkeletonError"),
)


def user_errors() -> tuple[type[BaseException], ...]:
    """The roots of `USER_ERRORS` whose modules are imported (the others were not raised)."""
    found: list[type[BaseException]] = []
    for module, name in USER_ERRORS:
        if module in sys.modules:
            root = getattr(importlib.import_module(module), name)
            if isinstance(root, type) and issubclass(root, BaseException):
                found.append(root)
    return tuple(found)


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
        except Exception as exc:
            if isinstance(exc, user_errors()):
                raise CLIError(str(exc)) from exc
            raise
