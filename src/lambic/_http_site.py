"""What an HTTP site tells the server core (`lambic._http_core`), and what it gets back.

A site is one edge's protocol over the core: the gateway's (`runtime/_http_server.py`),
the services' (`services/_http.py`) and the WebSocket port's (`runtime/websocket_server.py`).
It implements `HttpSite`; each request it is handed becomes an `Exchange` it makes;
a planned body arrives in its `BodySink`; a refusal the core asks for names its reason
(`HEAD_TOO_LARGE`...). `REASONS` and `date_line` are what a site needs to draw a response.
"""

from __future__ import annotations

import email.utils
import time
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Protocol

from lambic._http_limits import EdgeLimits

if TYPE_CHECKING:
    from lambic._http_core import HttpConnection

__all__ = [
    "HEAD_TOO_LARGE",
    "MALFORMED",
    "REASONS",
    "TIMED_OUT_BODY",
    "TIMED_OUT_HEAD",
    "TIMED_OUT_IDLE",
    "UPGRADE",
    "BodySink",
    "Exchange",
    "HttpSite",
    "date_line",
]

#: Why the core asks its site for a refusal (`HttpSite.refusal`).
HEAD_TOO_LARGE, MALFORMED, UPGRADE, TIMED_OUT_HEAD, TIMED_OUT_BODY, TIMED_OUT_IDLE = range(6)

REASONS = {status.value: status.phrase.encode() for status in HTTPStatus}


class _Date:
    """The `date:` header line, formatted once per second (as AWS's front ends send it)."""

    __slots__ = ("line", "second")

    def __init__(self) -> None:
        self.second = -1
        self.line = b""

    def get(self) -> bytes:
        now = int(time.time())
        if now != self.second:
            self.line = b"date: %s\r\n" % email.utils.formatdate(now, usegmt=True).encode()
            self.second = now
        return self.line


date_line = _Date().get


class BodySink(Protocol):
    """Where a planned request body goes as it arrives (the edge's `BodySpool`)."""

    def write(self, data: bytes) -> None: ...

    def finish(self) -> Any:
        """The whole body is in: what the site's exchange takes instead of bytes."""
        ...

    def discard(self) -> None: ...


class Exchange:
    """One request on a connection, made by the site. `run` (the request's task)
    answers it and must call `connection.finish(exchange)` once the whole response has
    left, or after clearing `keep_alive` when it cannot be answered whole (whatever
    happens: until then the connection's next request waits)."""

    __slots__ = ("keep_alive",)

    def __init__(self, keep_alive: bool) -> None:
        self.keep_alive = keep_alive

    async def run(self) -> None:
        raise NotImplementedError

    def drop(self) -> None:
        """The connection went away before this request was answered."""


class HttpSite(Protocol):
    """What an edge tells the core: its limits and how its protocol answers."""

    #: Head size, header count, timeouts, connections per client.
    limits: EdgeLimits
    #: A request body's limit unless `plan_body` says otherwise.
    max_body_bytes: int
    #: Bodies declared larger than this, and chunked ones, are planned (`plan_body`).
    plan_above: int
    #: Whether a request still being answered is cancelled when its client goes away.
    cancel_on_disconnect: bool

    def plan_body(self, connection: HttpConnection) -> int:
        """The head is in (`connection.url`, `.headers`, `.declared`): return this
        request's body limit; set `connection.sink` to take the body as it arrives."""
        ...

    def exchange(self, connection: HttpConnection, keep_alive: bool) -> Exchange:
        """The request is in (or `connection.early`: refused at its head, answer that;
        or `connection.too_large`: answer 413 in the protocol);
        `connection.sink`, if set, holds its body and is the exchange's now."""
        ...

    def refusal(self, connection: HttpConnection, reason: int) -> bytes | None:
        """The whole answer to send before closing, or None to close without one (for
        `UPGRADE`: None serves the request as plain HTTP/1.1)."""
        ...

    def refuse_at_head(self, connection: HttpConnection) -> object | None:
        """The head asks `Expect: 100-continue`: None lets the body come (100 Continue
        is sent); anything else refuses the request unread, and is `connection.early`
        when `exchange` is asked for its answer (the connection then closes)."""
        ...
