"""The runtime layer's exceptions: one root, a few branches a caller can act on.

```
LambicRuntimeError                  root: anything the local cloud cannot do for you
├── FunctionNotFoundError           invoke() named a function the app does not define
│                                   (Lambda's ResourceNotFoundException)
├── InvalidRequestContentError      the payload is not JSON (Lambda's
│                                   InvalidRequestContentException)
├── RequestTooLargeError            the payload is over Lambda's limit (6 MB sync,
│                                   1 MB Event: RequestEntityTooLargeException)
├── InvokerClosedError              invoke() after aclose() began
├── ServicesInUseError              another process has the stage's service engines
│                                   open (`endpoint_file`); reach them over HTTP
└── zygote.ZygoteError              internal: the zygote died or could not fork (an
                                    invocation reports it as a crash, never raises it)
```

Reading a project (no app.py, an import error, a bad `.lambic/config.json`) fails with
the project layer's `ProjectError` / `ConfigError` (`lambic.project.errors`),
re-exported here; they are not `LambicRuntimeError`s because the deployer and the
test client read projects through the same code.

Errors raised *by the user's function* are not exceptions here: they come back as an
`InvocationResult` with a status and Lambda's error payload, as Lambda's Invoke API
returns them with `X-Amz-Function-Error`.
"""

from __future__ import annotations

from lambic.project.errors import ConfigError, ProjectError

__all__ = [
    "ConfigError",
    "FunctionNotFoundError",
    "InvalidRequestContentError",
    "InvokerClosedError",
    "LambicRuntimeError",
    "ProjectError",
    "RequestTooLargeError",
    "ServicesInUseError",
]


class LambicRuntimeError(Exception):
    """Root of every error the runtime layer raises."""


class FunctionNotFoundError(LambicRuntimeError):
    """No function of that name; Lambda answers ResourceNotFoundException (404)."""

    error_code = "ResourceNotFoundException"
    status_code = 404


class InvalidRequestContentError(LambicRuntimeError):
    """The payload is not valid JSON; Lambda answers InvalidRequestContentException (400)."""

    error_code = "InvalidRequestContentException"
    status_code = 400


class RequestTooLargeError(LambicRuntimeError):
    """The payload is over Lambda's limit; Lambda answers RequestEntityTooLargeException (413)."""

    error_code = "RequestEntityTooLargeException"
    status_code = 413


class InvokerClosedError(LambicRuntimeError):
    """The invoker is shutting down and accepts no new invocations."""


class ServicesInUseError(LambicRuntimeError):
    """Another process holds the stage's local services (`endpoint_file.ServicesLock`).

    `pid` is the holder's, when it could be read.
    """

    def __init__(self, message: str, pid: int | None = None) -> None:
        super().__init__(message)
        self.pid = pid
