"""Local SQS: standard and FIFO queues over the JSON and query protocols, kept in SQLite.

Data flow: edge → `SqsService.handle` → `protocol.parse_request` → `operations` →
`SqsEngine` (semantics) → `SqsStore` (SQLite) and back out through `protocol`.
Other parts of Lambic use `SqsEngine` directly, in process.
"""

from __future__ import annotations

from pathlib import Path

from lambic.project.account import LOCAL_REGION
from lambic.project.sqlite import Durability, open_database
from lambic.services._metering import Meter
from lambic.services.sqs.engine import QueueListener, SqsEngine
from lambic.services.sqs.errors import SqsError
from lambic.services.sqs.model import AttributeValue, Queue, ReceivedMessage, SendResult
from lambic.services.sqs.service import SqsService
from lambic.services.sqs.store import SqsStore


def create_service(
    state_dir: Path | None,
    *,
    region: str = LOCAL_REGION,
    durability: Durability = "normal",
    meter: Meter | None = None,
) -> SqsService:
    """SQS kept in `<state_dir>/sqs.sqlite3`, or in memory when `state_dir` is None;
    requests are metered into `meter` when given."""
    path = None if state_dir is None else state_dir / "sqs.sqlite3"
    store = SqsStore(open_database(path, durability=durability))
    return SqsService(SqsEngine(store, region=region), meter=meter)


__all__ = [
    "AttributeValue",
    "Queue",
    "QueueListener",
    "ReceivedMessage",
    "SendResult",
    "SqsEngine",
    "SqsError",
    "SqsService",
    "SqsStore",
    "create_service",
]
