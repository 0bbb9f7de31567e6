"""The deploy layer's exceptions.

    DeployError                  root: anything the deploy layer reports to the user
    ├── AppLoadError             app.py cannot be imported or defines no app
    ├── PackagingError           a requirement has no Lambda wheel nor a pure-Python build
    ├── PolicyError              an IAM policy file is missing or not JSON
    ├── RecordError              `.lambic/deployed/<stage>.json` is unreadable
    ├── AWSError                 an AWS call failed; the message says what to do
    └── DeleteRefusedError       `lambic delete` stopped before removing anything: a
                                 check failed or the data loss was not confirmed

A malformed or inconsistent `.lambic/config.json` is the project layer's `ConfigError`
(`lambic.project.errors`, re-exported here): the runtime reads the same file through
the same code and refuses it with the same message.

Every message says what happened and what to do; the CLI prints it as one line.
"""

from __future__ import annotations

from lambic.project.errors import ConfigError

__all__ = [
    "AWSError",
    "AppLoadError",
    "ConfigError",
    "DeleteRefusedError",
    "DeployError",
    "PackagingError",
    "PolicyError",
    "RecordError",
]


class DeployError(Exception):
    """Root of the deploy layer's errors; the message is meant for the user."""


class AppLoadError(DeployError):
    """The user's app.py could not be imported or has no app object."""


class PackagingError(DeployError):
    """The deployment package could not be built."""


class PolicyError(DeployError):
    """An IAM policy could not be produced or read."""


class RecordError(DeployError):
    """A deployed-state record could not be read."""


class AWSError(DeployError):
    """An AWS API call failed in a way the user has to act on."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class DeleteRefusedError(DeployError):
    """`lambic delete` refused before its first AWS change; nothing was removed."""
