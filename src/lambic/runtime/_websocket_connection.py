"""One WebSocket connection of the local WebSocket API, once its handshake is done.

`WebSocketConnection` is what API Gateway tracks per connection id: its `$default`
invocations (one per message, concurrently), the management API's post and delete,
the close handshake and `$disconnect`. `FrameProtocol` is its socket after the 101
(`HttpConnection.upgrade` hands it over): frames in (`_websocket_frames`), frames out,
and API Gateway's idle (10 minutes) and lifetime (2 hours) timers.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import time
from typing import TYPE_CHECKING, Any, cast

import orjson

from lambic.app.websockets import DEFAULT_ROUTE, DISCONNECT_ROUTE, create_websocket_event
from lambic.runtime import _websocket_handshake as _handshake
from lambic.runtime._websocket_frames import (
    CLOSE_GOING_AWAY,
    CLOSE_INVALID_DATA,
    CLOSE_NO_STATUS,
    CLOSE_NORMAL,
    CLOSE_TOO_BIG,
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    FrameParser,
    ProtocolError,
    close_payload,
    encode_frame,
    parse_close,
)
from lambic.runtime.gateway import _request_ids

if TYPE_CHECKING:
    from lambic.runtime.websocket_server import WebSocketServer

__all__ = ["FrameProtocol", "WebSocketConnection", "new_id"]


def new_id() -> str:
    # API Gateway's ids look like "R1kmxc2VNjMCFIA=": base64 of 11 bytes.
    return base64.b64encode(secrets.token_bytes(11)).decode("ascii")


class WebSocketConnection:
    """One open WebSocket connection (registered once $connect allowed it)."""

    def __init__(
        self,
        server: WebSocketServer,
        protocol: FrameProtocol,
        connection_id: str,
        source_ip: str,
        user_agent: str | None,
        headers: list[tuple[str, str]],
    ) -> None:
        self.server = server
        self.protocol = protocol
        self.connection_id = connection_id
        self.source_ip = source_ip
        self.user_agent = user_agent
        self.headers = headers
        self.connected_at = time.time()
        self.last_active_at = self.connected_at
        self.closed = False
        #: Set once $connect allowed it: from then on it is billed by the minute.
        self.opened_at: float | None = None
        self._message: list[bytes] = []
        self._message_op = OP_TEXT
        self._message_size = 0

    def event(self, route_key: str, **extra: Any) -> dict[str, Any]:
        request_id, extended, _ = _request_ids()
        now_ms = int(time.time() * 1000)
        return create_websocket_event(
            route_key,
            connection_id=self.connection_id,
            connected_at_ms=int(self.connected_at * 1000),
            domain_name=self.server.domain_name,
            stage=self.server.api.stage,
            api_id=self.server.api.api_id,
            request_id=request_id,
            extended_request_id=extended,
            now_ms=now_ms,
            source_ip=self.source_ip,
            user_agent=self.user_agent,
            **extra,
        )

    # -- management API (LiveConnection) -------------------------------------------

    def post(self, data: bytes) -> None:
        """PostToConnection: text when the data is UTF-8, else binary; 32 KB frames."""
        try:
            data.decode("utf-8")
            opcode = OP_TEXT
        except UnicodeDecodeError:
            opcode = OP_BINARY
        if self.server.usage is not None:
            self.server.usage.message(len(data))
        step = self.server.limits.max_frame
        if len(data) <= step:
            self.protocol.write(encode_frame(opcode, data))
            return
        chunks = [data[i : i + step] for i in range(0, len(data), step)]
        frames = [
            encode_frame(opcode if i == 0 else OP_CONTINUATION, c, fin=i == len(chunks) - 1)
            for i, c in enumerate(chunks)
        ]
        self.protocol.write(b"".join(frames))

    def delete(self) -> None:
        self.close(CLOSE_NORMAL, "")

    # -- lifecycle -------------------------------------------------------------------

    def close(self, code: int, reason: str) -> None:
        """Close (once): send our close frame, forget the id, run $disconnect."""
        if self.closed:
            return
        self.closed = True
        self.server.connections.pop(self.connection_id, None)
        self._metered_close()
        self.protocol.send_close(code, "" if code == CLOSE_NO_STATUS else reason)
        self.server.spawn(self._disconnected(code, reason))

    def lost(self) -> None:
        """The TCP connection ended without a close handshake."""
        if self.closed:
            return
        self.closed = True
        self.server.connections.pop(self.connection_id, None)
        self._metered_close()
        self.server.spawn(self._disconnected(1006, ""))

    def _metered_close(self) -> None:
        if self.opened_at is not None and self.server.usage is not None:
            self.server.usage.connection_closed(time.monotonic() - self.opened_at)

    async def _disconnected(self, status: int, reason: str) -> None:
        # API Gateway runs $disconnect on a best-effort basis, after the close.
        event = self.event(
            DISCONNECT_ROUTE,
            headers=_handshake.disconnect_headers(self.headers, self.source_ip),
            disconnect_status=status,
            disconnect_reason=reason,
        )
        await self.server.invoke(DISCONNECT_ROUTE, event)

    def frame(self, opcode: int, fin: bool, payload: bytes) -> None:
        if opcode == OP_PING:
            self.protocol.write(encode_frame(OP_PONG, payload))
            return
        if opcode == OP_PONG:
            return
        if opcode == OP_CLOSE:
            try:
                code, reason = parse_close(payload)
            except ProtocolError as exc:
                self.close(exc.code, str(exc))
                return
            if code == CLOSE_NO_STATUS:
                reason = "Client-side close frame status not set"  # API Gateway's words
            # Echo the code (RFC 6455 5.5.1); $disconnect sees the client's.
            self.close(code, reason)
            return
        # Only messages count as activity: API Gateway's idle timeout is not reset by
        # control frames (clients keep a connection alive with a heartbeat message).
        self.last_active_at = time.time()
        if opcode == OP_CONTINUATION:
            if not self._message:
                self.close(1002, "Unexpected continuation frame")
                return
        elif self._message:
            self.close(1002, "Expected a continuation frame")
            return
        else:
            self._message_op = opcode
            self._message_size = 0
        self._message_size += len(payload)
        if self._message_size > self.server.limits.max_message:
            self.close(CLOSE_TOO_BIG, "Message too big")
            return
        self._message.append(payload)
        if not fin:
            return
        data = b"".join(self._message) if len(self._message) > 1 else self._message[0]
        self._message = []
        self._message_received(self._message_op, data)

    def _message_received(self, opcode: int, data: bytes) -> None:
        if self.server.usage is not None:
            self.server.usage.message(len(data))
        if opcode == OP_TEXT:
            try:
                body = data.decode("utf-8")
            except UnicodeDecodeError:
                self.close(CLOSE_INVALID_DATA, "Invalid UTF-8")
                return
            is_base64 = False
        else:
            body = base64.b64encode(data).decode("ascii")
            is_base64 = True
        self.server.spawn(self._route_message(body, is_base64))

    async def _route_message(self, body: str, is_base64: bool) -> None:
        event = self.event(DEFAULT_ROUTE, body=body, is_base64=is_base64, message_id=new_id())
        request_id = event["requestContext"]["requestId"]
        status, _ = await self.server.invoke(DEFAULT_ROUTE, event)
        if status == "ok" or self.closed:
            return
        message = "Forbidden" if status == "missing" else "Internal server error"
        error = {"message": message, "connectionId": self.connection_id, "requestId": request_id}
        self.protocol.write(encode_frame(OP_TEXT, orjson.dumps(error)))


class FrameProtocol(asyncio.Protocol):
    """An upgraded connection's socket: WebSocket frames both ways, idle and 2 h timers."""

    def __init__(self, server: WebSocketServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.frames = FrameParser(server.limits.max_frame)
        self.connection: WebSocketConnection | None = None
        self._close_sent = False
        self._idle: asyncio.TimerHandle | None = None
        self._lifetime: asyncio.TimerHandle | None = None

    # -- asyncio.Protocol ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses but behave as one.
        self.transport = cast(asyncio.Transport, transport)
        loop = asyncio.get_running_loop()
        limits = self.server.limits
        self._idle = loop.call_later(limits.idle_timeout, self._check_idle)
        self._lifetime = loop.call_later(limits.max_duration, self._expire)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        for timer in (self._idle, self._lifetime):
            if timer is not None:
                timer.cancel()
        if self.connection is not None:
            self.connection.lost()

    def data_received(self, data: bytes) -> None:
        connection = self.connection
        if connection is None or connection.closed:
            return  # after a close, nothing more is read (the socket is closing)
        try:
            for frame in self.frames.feed(data):
                connection.frame(frame.opcode, frame.fin, frame.payload)
                if connection.closed:
                    return
        except ProtocolError as exc:
            connection.close(exc.code, str(exc) if exc.code != CLOSE_TOO_BIG else "Message too big")

    # -- writing ---------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def send_close(self, code: int, reason: str) -> None:
        if self._close_sent:
            return
        self._close_sent = True
        self.write(encode_frame(OP_CLOSE, close_payload(code, reason)))
        transport = self.transport
        if transport is not None:
            # The client answers our close and closes; don't wait on one that won't.
            asyncio.get_running_loop().call_later(2.0, transport.close)

    # -- timers ----------------------------------------------------------------------

    def _check_idle(self) -> None:
        connection = self.connection
        if connection is None or connection.closed:
            return
        idle_for = time.time() - connection.last_active_at
        limit = self.server.limits.idle_timeout
        if idle_for >= limit:
            connection.close(CLOSE_GOING_AWAY, "Going away")
            return
        self._idle = asyncio.get_running_loop().call_later(limit - idle_for, self._check_idle)

    def _expire(self) -> None:
        if self.connection is not None:
            self.connection.close(CLOSE_GOING_AWAY, "Going away")
