"""Limits and read timeouts at Lambic's two HTTP edges: the gateway and the services' edge.

Both servers (`runtime/_http_server.py` for the gateway, `services/_http.py` for the
services' edge) take their numbers and their bookkeeping from here, so the day they
share one HTTP/1.1 core the policy moves with it unchanged. Each server draws the
refusal in its caller's protocol (API Gateway's JSON, each AWS service's own shape);
this module only says *when* to refuse.

What a connection is held to, in the order a request meets it:

1. at most `max_connections_per_client` open connections per client address; one more
   is closed at once, before anything is read (`ClientConnections`);
2. the request line and headers must arrive within `header_timeout` seconds of their
   first byte, and a connection with nothing in flight is closed after
   `keep_alive_timeout` idle seconds; a slow-loris client trickling one header byte at
   a time is dropped at the header deadline, whatever it sends (`ReadTimer`);
3. the head must stay within `max_head_bytes` and `max_header_count` (`HeadMeter`);
4. a declared Content-Length over the protocol's body limit is refused at the headers,
   before any body byte is read (each server knows its protocol's limit);
5. a body that stops arriving for `body_idle_timeout` seconds closes the connection,
   so a body shorter than its Content-Length is not held forever (`ReadTimer`).

Request documents are parsed with a bounded nesting depth (`loads_json`, `parse_xml`),
so a body nested 100,000 deep is the service's own 400, never a `RecursionError`.

    >>> meter = HeadMeter(SERVICES_LIMITS)
    >>> meter.reset(0)
    >>> meter.add(b"host", b"localhost")
    True
    >>> meter.add(b"x-big", b"x" * 9000)
    False
"""

from __future__ import annotations

import asyncio
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BODY",
    "BODY_IDLE_TIMEOUT_S",
    "BUSY",
    "GATEWAY_LIMITS",
    "GATEWAY_MAX_BODY_BYTES",
    "HEAD",
    "HEADER_READ_TIMEOUT_S",
    "IDLE",
    "KEEP_ALIVE_TIMEOUT_S",
    "LAMBDA_SYNC_PAYLOAD_BYTES",
    "LINGER_BYTES",
    "LINGER_S",
    "MAX_JSON_DEPTH",
    "MAX_XML_DEPTH",
    "S3_MAX_UPLOAD_BYTES",
    "SERVICES_LIMITS",
    "SERVICES_MAX_BODY_BYTES",
    "SPOOL_THRESHOLD_BYTES",
    "ClientConnections",
    "EdgeLimits",
    "HeadMeter",
    "NestingTooDeepError",
    "ReadTimer",
    "close_lingering",
    "loads_json",
    "parse_xml",
]

# -- AWS's documented numbers ----------------------------------------------------------

#: API Gateway quotas (REST APIs): "Total combined size of request line and header
#: values: 10240 bytes"; the request line counts too.
GATEWAY_MAX_HEAD_BYTES = 10_240
#: API Gateway quotas: "Payload size: 10 MB" for REST and HTTP APIs.
GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024
#: Lambda quotas: 6 MB invocation payload (request and response) for synchronous
#: invocations; Lambda's own error message names 6291456 bytes.
LAMBDA_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024
#: S3 (Amazon S3 User Guide, "Working with object metadata"): "The PUT request header
#: is limited to 8 KB in size"; S3 answers a larger head 400 RequestHeaderSectionTooLarge.
#: The services' edge holds every AWS call to it: no other service we serve documents a
#: larger head, and an SDK's SigV4 headers (session token included) take about 2 KB.
SERVICES_MAX_HEAD_BYTES = 8 * 1024
#: S3: a single PUT (PutObject, UploadPart, a POST form upload) is at most 5 GB
#: (5 GiB: S3's EntityTooLarge answer names MaxSizeAllowed 5368709120).
S3_MAX_UPLOAD_BYTES = 5 * 1024 * 1024 * 1024
#: Every other service's request is a JSON or query document; the largest any of them
#: documents is DynamoDB's 16 MB (BatchWriteItem), so past that the edge answers
#: AWS's common 413 RequestEntityTooLargeException without reading the body.
SERVICES_MAX_BODY_BYTES = 16 * 1024 * 1024

# -- header count, timeouts and connections (AWS documents none of these) ---------------

#: AWS names no header count; with the head size capped a count cap mostly stops a
#: flood of tiny headers. 100 is Apache httpd's LimitRequestFields default, far above
#: the dozen an SDK or a browser sends.
MAX_HEADER_COUNT = 100
#: Time for a whole request head from its first byte: what a slow-loris client gets.
HEADER_READ_TIMEOUT_S = 10.0
#: Silence allowed in the middle of a body. S3 answers 400 RequestTimeout ("Your socket
#: connection to the server was not read from or written to within the timeout
#: period") after about 20 s without data; we mirror the number.
BODY_IDLE_TIMEOUT_S = 20.0
#: Idle keep-alive connections close after this (the gateway's long-standing default).
KEEP_ALIVE_TIMEOUT_S = 60.0
#: Open connections per client address. Everything local is 127.0.0.1, so this bounds a
#: runaway or hostile client without starving boto3's pools (10 per client by default).
MAX_CONNECTIONS_PER_CLIENT = 256
#: Bodies declared larger than this are spooled to a file instead of memory (S3 uploads).
SPOOL_THRESHOLD_BYTES = 1024 * 1024
#: Deepest JSON document accepted. Python's parser recurses per level; past this depth
#: (well inside the interpreter's recursion limit) the document is refused as malformed.
MAX_JSON_DEPTH = 512
#: Deepest XML document accepted: S3's request documents nest five levels at most.
MAX_XML_DEPTH = 64


#: After refusing a request whose body is still coming, the server reads and drops
#: up to this much for up to `LINGER_S` seconds before closing, so the client (still
#: sending) reads the answer instead of a connection reset (a "lingering close").
LINGER_BYTES = 64 * 1024 * 1024
LINGER_S = 2.0


def close_lingering(transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
    """Half-close after an early answer and close for good after `LINGER_S`; the
    protocol drops what still arrives (up to `LINGER_BYTES`)."""
    if transport.is_closing():
        return
    if transport.can_write_eof():
        transport.write_eof()
    transport.resume_reading()
    loop.call_later(LINGER_S, transport.close)


@dataclass(frozen=True)
class EdgeLimits:
    """The per-connection policy one server applies (the numbers above, injectable)."""

    max_head_bytes: int
    max_header_count: int = MAX_HEADER_COUNT
    header_timeout: float = HEADER_READ_TIMEOUT_S
    body_idle_timeout: float = BODY_IDLE_TIMEOUT_S
    keep_alive_timeout: float = KEEP_ALIVE_TIMEOUT_S
    max_connections_per_client: int = MAX_CONNECTIONS_PER_CLIENT
    # Whether the request line counts toward `max_head_bytes` (API Gateway's does).
    count_request_line: bool = False


GATEWAY_LIMITS = EdgeLimits(GATEWAY_MAX_HEAD_BYTES, count_request_line=True)
SERVICES_LIMITS = EdgeLimits(SERVICES_MAX_HEAD_BYTES)


class HeadMeter:
    """Counts a request head as httptools reports it: names, values, header lines."""

    __slots__ = ("_count", "_limits", "_size")

    def __init__(self, limits: EdgeLimits) -> None:
        self._limits = limits
        self._size = 0
        self._count = 0

    def reset(self, url_bytes: int) -> None:
        self._size = url_bytes if self._limits.count_request_line else 0
        self._count = 0

    def add_url(self, url_bytes: int) -> bool:
        if self._limits.count_request_line:
            self._size += url_bytes
        return self._size <= self._limits.max_head_bytes

    def add(self, name: bytes, value: bytes) -> bool:
        """Account for one header; False once the head is over a limit."""
        self._size += len(name) + len(value)
        self._count += 1
        limits = self._limits
        return self._size <= limits.max_head_bytes and self._count <= limits.max_header_count

    def raw_over(self, unparsed_head_bytes: int) -> bool:
        """True when an unfinished head's raw bytes are already past any head it could
        become (one endless header line never reaches `add`): twice the size limit
        plus room for each header's separators."""
        limits = self._limits
        return unparsed_head_bytes > 2 * limits.max_head_bytes + 4 * limits.max_header_count


class ClientConnections:
    """Open connections per client address, bounded."""

    __slots__ = ("_counts", "_limit")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._counts: dict[str, int] = {}

    def admit(self, client: str) -> bool:
        """Count a new connection from `client`; False (and not counted) past the limit."""
        count = self._counts.get(client, 0)
        if count >= self._limit:
            return False
        self._counts[client] = count + 1
        return True

    def release(self, client: str) -> None:
        count = self._counts.get(client, 0) - 1
        if count > 0:
            self._counts[client] = count
        else:
            self._counts.pop(client, None)


# Where a connection's read is: what the timer holds it to.
IDLE, HEAD, BODY, BUSY = 0, 1, 2, 3


class ReadTimer:
    """One timer per connection (not per request) enforcing the read timeouts.

    The protocol sets `phase` (IDLE, HEAD, BODY, BUSY) and stamps `last_active` (the
    loop's clock) as bytes arrive; `head_started` when a head begins. The timer wakes at
    the earliest moment the current phase could expire and calls `on_expired(phase)`:
    IDLE after `keep_alive_timeout` without bytes, HEAD `header_timeout` after the head
    began (trickling bytes does not extend it), BODY after `body_idle_timeout` without
    bytes. BUSY (a request being answered) never expires here: the handler has its own
    deadlines.
    """

    __slots__ = (
        "_handle",
        "_limits",
        "_loop",
        "_on_expired",
        "head_started",
        "last_active",
        "phase",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        limits: EdgeLimits,
        on_expired: Callable[[int], None],
    ) -> None:
        self._loop = loop
        self._limits = limits
        self._on_expired = on_expired
        self.phase = IDLE
        self.last_active = loop.time()
        self.head_started = self.last_active
        self._handle: asyncio.TimerHandle | None = loop.call_later(
            min(limits.keep_alive_timeout, limits.header_timeout), self._check
        )

    def now(self) -> float:
        return self._loop.time()

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _deadline(self) -> float | None:
        phase, limits = self.phase, self._limits
        if phase == HEAD:
            return self.head_started + limits.header_timeout
        if phase == BODY:
            return self.last_active + limits.body_idle_timeout
        if phase == IDLE:
            return self.last_active + limits.keep_alive_timeout
        return None

    def _check(self) -> None:
        self._handle = None
        now = self._loop.time()
        deadline = self._deadline()
        if deadline is not None and now >= deadline:
            self._on_expired(self.phase)
            return
        limits = self._limits
        delay = (
            deadline - now
            if deadline is not None
            else min(limits.header_timeout, limits.body_idle_timeout)
        )
        # A phase change since the timer was armed is picked up at this wake-up: the
        # shortest timeout bounds how late that can be.
        delay = min(delay, limits.header_timeout, limits.body_idle_timeout)
        self._handle = self._loop.call_later(max(delay, 0.01), self._check)


# -- bounded documents -------------------------------------------------------------------


class NestingTooDeepError(ValueError):
    """A request document nests deeper than the edge accepts (a malformed document)."""


def loads_json(data: str | bytes | bytearray) -> Any:
    """`json.loads`, refusing documents nested deeper than `MAX_JSON_DEPTH`.

    The refusal is a `ValueError`, so a service's existing "not valid JSON" answer
    (SerializationException and the like) covers it. A document shorter than the
    depth limit cannot exceed it, so small requests (nearly all) pay nothing extra.
    """
    if len(data) > MAX_JSON_DEPTH and _json_depth_over(data):
        raise NestingTooDeepError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(data)
    except RecursionError as exc:  # unreachable past the scan; kept as a last guard
        raise NestingTooDeepError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from exc


def _json_depth_over(data: str | bytes | bytearray) -> bool:
    text = data if isinstance(data, str) else bytes(data).decode("utf-8", "replace")
    # The cheap bound first: too few brackets in all cannot nest too deep.
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return False
    depth = 0
    # Only brackets outside strings count: strings are cut out, then brackets walked.
    for bracket in _BRACKETS.findall(_STRINGS.sub("", text)):
        if bracket in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        else:
            depth -= 1
    return False


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


class _DepthLimitedBuilder(ET.TreeBuilder):
    def __init__(self) -> None:
        super().__init__()
        self._depth = 0

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        self._depth += 1
        if self._depth > MAX_XML_DEPTH:
            raise NestingTooDeepError(f"XML nested deeper than {MAX_XML_DEPTH} levels")
        return super().start(tag, attrs)

    def end(self, tag: str) -> ET.Element:
        self._depth -= 1
        return super().end(tag)


def parse_xml(data: bytes | str) -> ET.Element:
    """`ET.fromstring` with a bounded depth; raises `ET.ParseError` for any malformed
    document, a too-deep one included, so callers keep their MalformedXML answer."""
    parser = ET.XMLParser(target=_DepthLimitedBuilder())
    try:
        parser.feed(data)
        return parser.close()
    except NestingTooDeepError as exc:
        raise ET.ParseError(str(exc)) from exc
