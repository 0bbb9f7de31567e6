"""`@app.on_kinesis_record` handlers: one Kinesis mapping per handler over local streams.

Data flow: on start, each handler's `KinesisStreamMapping` (`kinesis_poller`) resolves
the stream it names (creating a missing one, as the SQS adapter creates a queue) and
reads its shards from their checkpoints, kept in `<state>/stream_checkpoints.sqlite3`
beside the DynamoDB stream mappings' (one database, opened on start, closed on stop).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambic.runtime.event_sources.streams import ShardSources
from lambic.runtime.kinesis_poller import KinesisStreamMapping

if TYPE_CHECKING:
    from lambic.services.kinesis import KinesisEngine  # noqa: F401 (the base's quoted type)


class KinesisStreams(ShardSources["KinesisEngine"]):
    """Feeds each `@app.on_kinesis_record` handler its stream until `stop()`."""

    stream_setting = "stream"
    mapping = KinesisStreamMapping
