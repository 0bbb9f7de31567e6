"""Which errors are the user's to fix, and how the command line reports one: a single
line on stderr (`Error: ...`), exit status 2, never a traceback.

Standard library only: `lambic local`'s serving process reports them without click
(`local_serve`), and `errors.CLIError` prints the same line through click.
"""

from __future__ import annotations

import importlib
import sys

__all__ = ["EXIT_STATUS", "USER_ERRORS", "error_line", "user_errors"]

#: The exit status of a command ended by a user error (click's usage errors use it too).
EXIT_STATUS = 2

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


def error_line(message: str) -> str:
    """The line a user error is reported as (without its newline)."""
    return f"Error: {message}"
