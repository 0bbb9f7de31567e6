"""Local SNS: topics, subscriptions, filter policies and fan-out, kept in SQLite.

Data flow: edge → `SnsService.handle` → `protocol.parse_form` → `operations` →
`SnsEngine` → subscribers (the SQS engine in process, lambda listeners, loopback
HTTP endpoints) and `SnsStore` (SQLite); answers go back out as XML.
"""

from __future__ import annotations

from pathlib import Path

from lambic.project.account import LOCAL_REGION
from lambic.project.sqlite import Durability, open_database
from lambic.services._metering import Meter
from lambic.services.sns.engine import PENDING, LambdaListener, SnsEngine
from lambic.services.sns.errors import SnsError
from lambic.services.sns.filters import matches_attributes, matches_body, parse_filter_policy
from lambic.services.sns.model import (
    LambdaDelivery,
    MessageAttribute,
    Notification,
    Subscription,
    Topic,
)
from lambic.services.sns.service import SnsService
from lambic.services.sns.store import SnsStore
from lambic.services.sqs import SqsEngine, SqsService


def create_service(
    state_dir: Path | None,
    *,
    sqs: SqsService | SqsEngine | None = None,
    region: str = LOCAL_REGION,
    durability: Durability = "normal",
    meter: Meter | None = None,
) -> SnsService:
    """SNS kept in `<state_dir>/sns.sqlite3` (in memory when None), delivering to `sqs`;
    publishes and deliveries are metered into `meter` when given."""
    path = None if state_dir is None else state_dir / "sns.sqlite3"
    store = SnsStore(open_database(path, durability=durability))
    sqs_engine = sqs.engine if isinstance(sqs, SqsService) else sqs
    return SnsService(SnsEngine(store, sqs=sqs_engine, region=region), meter=meter)


__all__ = [
    "PENDING",
    "LambdaDelivery",
    "LambdaListener",
    "MessageAttribute",
    "Notification",
    "SnsEngine",
    "SnsError",
    "SnsService",
    "SnsStore",
    "Subscription",
    "Topic",
    "create_service",
    "matches_attributes",
    "matches_body",
    "parse_filter_policy",
]
