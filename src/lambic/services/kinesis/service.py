"""The Kinesis service object the edge calls: operations table + engine + store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lambic.project.sqlite import Durability, open_database
from lambic.services._metering import Meter
from lambic.services.base import ServiceRequest, ServiceResponse
from lambic.services.kinesis import records, resharding, tags
from lambic.services.kinesis.engine import KinesisEngine
from lambic.services.kinesis.protocol import Operation, dispatch
from lambic.services.kinesis.store import KinesisStore

#: Kinesis operations (botocore's model) not served locally: AWS's NotImplemented (501),
#: listed in docs/internals.md. Anything else unknown is UnknownOperationException.
UNSERVED = frozenset(
    {
        "AcknowledgeDeadLetterQueueRecords",
        "AcknowledgeQueueRecords",
        "CreateChannel",
        "CreateQueue",
        "DeleteChannel",
        "DeleteQueue",
        "DeleteResourcePolicy",
        "DeregisterStreamConsumer",
        "DescribeAccountSettings",
        "DescribeChannel",
        "DescribeLimits",
        "DescribeQueue",
        "DescribeStreamConsumer",
        "DisableEnhancedMonitoring",
        "EnableEnhancedMonitoring",
        "GetResourcePolicy",
        "ListChannels",
        "ListQueues",
        "ListStreamConsumers",
        "PutResourcePolicy",
        "ReceiveDeadLetterQueueRecords",
        "ReceiveQueueRecords",
        "RegisterStreamConsumer",
        "RestoreDeadLetterQueueRecords",
        "StartStreamEncryption",
        "StopStreamEncryption",
        "SubscribeToShard",
        "UpdateAccountSettings",
        "UpdateChannel",
        "UpdateDeadLetterQueueRecordsVisibility",
        "UpdateMaxRecordSize",
        "UpdateQueue",
        "UpdateQueueRecordsVisibility",
        "UpdateStreamMode",
        "UpdateStreamRecordDistributionStrategy",
        "UpdateStreamWarmThroughput",
    }
)
#: One PUT payload unit: 25 KB of a record (AWS bills each started unit).
PAYLOAD_UNIT_BYTES = 25 * 1024


def payload_units(data: str) -> int:
    """PUT payload units of one record whose data is `data` (base64, as sent).

    >>> payload_units(""), payload_units("A" * 34132), payload_units("A" * 34136)
    (1, 1, 2)
    """
    size = len(data) * 3 // 4 - (len(data) - len(data.rstrip("=")))
    return max(1, -(-size // PAYLOAD_UNIT_BYTES))


class KinesisService:
    """Kinesis Data Streams behind the edge port.

    Example::

        service = create_service(None)          # in memory
        edge = EdgeServer({"kinesis": service}).start()
        boto3.client("kinesis", endpoint_url=edge.url, ...).list_streams()
    """

    name = "kinesis"

    def __init__(self, engine: KinesisEngine, *, meter: Meter | None = None) -> None:
        self.engine = engine
        self._meter = meter

        def bind(function: Any) -> Operation:
            return lambda request: function(engine, request)

        self._operations: dict[str, Operation] = {
            "CreateStream": engine.create_stream,
            "DeleteStream": engine.delete_stream,
            "DescribeStream": engine.describe_stream,
            "DescribeStreamSummary": engine.describe_stream_summary,
            "ListStreams": engine.list_streams,
            "ListShards": engine.list_shards,
            "PutRecord": self._metered_put(bind(records.put_record), single=True),
            "PutRecords": self._metered_put(bind(records.put_records), single=False),
            "GetShardIterator": bind(records.get_shard_iterator),
            "GetRecords": bind(records.get_records),
            "SplitShard": bind(resharding.split_shard),
            "MergeShards": bind(resharding.merge_shards),
            "UpdateShardCount": bind(resharding.update_shard_count),
            "AddTagsToStream": bind(tags.add_tags_to_stream),
            "RemoveTagsFromStream": bind(tags.remove_tags_from_stream),
            "ListTagsForStream": bind(tags.list_tags_for_stream),
            "TagResource": bind(tags.tag_resource),
            "UntagResource": bind(tags.untag_resource),
            "ListTagsForResource": bind(tags.list_tags_for_resource),
            "IncreaseStreamRetentionPeriod": bind(tags.increase_stream_retention_period),
            "DecreaseStreamRetentionPeriod": bind(tags.decrease_stream_retention_period),
        }

    def _metered_put(self, operation: Operation, *, single: bool) -> Operation:
        """Count PUT payload units (one per started 25 KB of each record) per stream."""
        meter = self._meter
        if meter is None:
            return operation

        def metered(request: dict[str, Any]) -> dict[str, Any]:
            result = operation(request)
            entries = [request] if single else list(request.get("Records") or [])
            units = sum(payload_units(str(e.get("Data") or "")) for e in entries)
            stream = str(request.get("StreamName") or request.get("StreamARN") or "")
            meter.add("kinesis", stream.rsplit("/", 1)[-1], "put_payload_units", units)
            return result

        return metered

    async def handle(self, request: ServiceRequest) -> ServiceResponse:
        # Operations are short SQLite calls; running them inline keeps latency low.
        return dispatch(request, self._operations, UNSERVED)

    def close(self) -> None:
        with self.engine.lock:
            self.engine.store.close()


def create_service(
    state_dir: Path | None,
    *,
    durability: Durability = "normal",
    meter: Meter | None = None,
    **_options: Any,
) -> KinesisService:
    """Kinesis persisted in `<state_dir>/kinesis.sqlite3`, or in memory when None. With
    a `meter`, PUT payload units are counted per stream."""
    path = None if state_dir is None else Path(state_dir) / "kinesis.sqlite3"
    store = KinesisStore(open_database(path, durability=durability))
    return KinesisService(KinesisEngine(store), meter=meter)
