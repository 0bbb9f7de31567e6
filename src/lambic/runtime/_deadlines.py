"""The gateway's integration timeout: one timer for every request in flight.

API Gateway answers 504 after 29 s whatever the function is doing. Arming a
`call_later` per request (a timer handle in the loop's heap, then its cancellation)
was a visible share of a warm request's cost. All requests share one timeout, so
their deadlines arrive in the order the requests did: a FIFO with lazy removal,
checked by a single timer armed for the oldest unfinished request, does the same
work in O(1) per request.

    deadlines = Deadlines(loop, 29.0, on_expiry)
    ticket = deadlines.add(context)   # context goes to on_expiry(context) if it expires
    ...; ticket.context = None        # answered in time (the context is released now)

Finished tickets leave the queue when they reach its head (on the next `add` or
check), so a long request at the head holds back only small slot objects.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any

__all__ = ["Deadlines", "Ticket"]


class Ticket:
    """One request's deadline; set `context` to None when it was answered in time."""

    __slots__ = ("context", "deadline")

    def __init__(self, deadline: float, context: Any) -> None:
        self.deadline = deadline
        self.context = context


class Deadlines:
    """Deadlines `timeout` seconds after `add()`, expired through one loop timer."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        timeout: float,
        on_expiry: Callable[[Any], None],
    ) -> None:
        self.loop = loop
        self.timeout = timeout
        self._on_expiry = on_expiry
        self._queue: deque[Ticket] = deque()
        self._timer: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        """Requests still waiting (not answered, not expired)."""
        return sum(1 for ticket in self._queue if ticket.context is not None)

    def add(self, context: Any) -> Ticket:
        queue = self._queue
        while queue and queue[0].context is None:
            queue.popleft()
        ticket = Ticket(self.loop.time() + self.timeout, context)
        queue.append(ticket)
        if self._timer is None:
            self._timer = self.loop.call_at(ticket.deadline, self._expire)
        return ticket

    def _expire(self) -> None:
        self._timer = None
        queue = self._queue
        now = self.loop.time()
        while queue:
            ticket = queue[0]
            context = ticket.context
            if context is None:
                queue.popleft()
            elif ticket.deadline <= now:
                queue.popleft()
                ticket.context = None
                self._on_expiry(context)
            else:
                self._timer = self.loop.call_at(ticket.deadline, self._expire)
                return

    def close(self) -> None:
        """Forget every deadline (the server is stopping)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._queue.clear()
