"""`InvocationResult`: what one invocation produced, as the Invoke API reports it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["InvocationResult"]

_FAILED = frozenset({"error", "timeout", "oom", "crash"})
_STATUS_CODES = {"accepted": 202, "dry_run": 204, "throttled": 429}


@dataclass(slots=True)
class InvocationResult:
    """What an invocation produced, with the figures of its REPORT line.

    Treat it as read-only. (Not `frozen=True`: a frozen dataclass's __init__ costs
    a few microseconds more, once per request at gateway rates.)

    >>> InvocationResult("throttled", b"{}", "TooManyRequestsException", "id").status_code
    429
    """

    status: str
    payload: bytes
    error_type: str | None
    request_id: str
    duration_ms: float = 0.0
    billed_ms: int = 0
    init_ms: float | None = None  # cold starts only
    max_memory_mb: int = 0
    memory_size_mb: int = 0
    cold_start: bool = False
    function_name: str = ""  # the deployed name, e.g. "myapp-dev"

    @property
    def function_error(self) -> str | None:
        """Lambda's X-Amz-Function-Error header value: "Unhandled" on any function error."""
        return "Unhandled" if self.status in _FAILED else None

    @property
    def status_code(self) -> int:
        """The Invoke API's HTTP status for this result."""
        return _STATUS_CODES.get(self.status, 200)
