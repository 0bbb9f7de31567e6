"""The DynamoDB service object the edge calls: operations table + engine + store."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from lambic.project.sqlite import Durability, open_database
from lambic.services._metering import Meter
from lambic.services.base import ServiceRequest, ServiceResponse
from lambic.services.dynamodb import _metadata, _tags, reads
from lambic.services.dynamodb._metering import metered_operations, stored_bytes
from lambic.services.dynamodb.engine import DynamoDBEngine
from lambic.services.dynamodb.protocol import Operation, RequestOperation, dispatch
from lambic.services.dynamodb.store import DynamoDBStore
from lambic.services.dynamodb.ttl import TtlSweeper

if TYPE_CHECKING:
    from lambic.services.dynamodb.batches import TransactionRunner
    from lambic.services.dynamodb.partiql import PartiQL


class DynamoDBService:
    """DynamoDB (and DynamoDB Streams) behind the edge port.

    Example::

        service = create_service(None)          # in memory
        edge = EdgeServer({"dynamodb": service}).start()
        boto3.client("dynamodb", endpoint_url=edge.url, ...).list_tables()
    """

    name = "dynamodb"

    def __init__(
        self,
        engine: DynamoDBEngine,
        *,
        ttl_sweep_seconds: float | None = 5.0,
        meter: Meter | None = None,
    ) -> None:
        self.engine = engine
        self._sweeper = TtlSweeper(engine, ttl_sweep_seconds).start() if ttl_sweep_seconds else None
        runners: list[TransactionRunner] = []
        built: list[PartiQL] = []

        def transactions() -> TransactionRunner:
            # Imported by the first batch or transaction call, as PartiQL's parser is
            # below: many apps make none, and each module left out is memory every idle
            # `lambic local` would hold.
            if not runners:
                from lambic.services.dynamodb.batches import TransactionRunner

                runners.append(TransactionRunner(engine))
            return runners[0]

        def partiql() -> PartiQL:
            # Imported on the first PartiQL call: few apps make one, and its parser's
            # code (~0.2 MB) would otherwise sit in every idle `lambic local`.
            if not built:
                from lambic.services.dynamodb.partiql import PartiQL

                built.append(PartiQL(engine, transactions()))
            return built[0]

        def batch_get_item(request: dict[str, Any]) -> dict[str, Any]:
            from lambic.services.dynamodb.batches import batch_get_item

            return batch_get_item(engine, request)

        def batch_write_item(request: dict[str, Any]) -> dict[str, Any]:
            from lambic.services.dynamodb.batches import batch_write_item

            return batch_write_item(engine, request)

        def bind(function: Any) -> Operation:
            return lambda request: function(engine, request)

        self._operations: dict[tuple[str, str], Operation] = {
            ("dynamodb", "CreateTable"): engine.create_table,
            ("dynamodb", "DescribeTable"): engine.describe_table,
            ("dynamodb", "ListTables"): engine.list_tables,
            ("dynamodb", "UpdateTable"): engine.update_table,
            ("dynamodb", "DeleteTable"): engine.delete_table,
            ("dynamodb", "PutItem"): engine.put_item,
            ("dynamodb", "GetItem"): engine.get_item,
            ("dynamodb", "UpdateItem"): engine.update_item,
            ("dynamodb", "DeleteItem"): engine.delete_item,
            ("dynamodb", "Query"): bind(reads.query),
            ("dynamodb", "Scan"): bind(reads.scan),
            ("dynamodb", "BatchGetItem"): batch_get_item,
            ("dynamodb", "BatchWriteItem"): batch_write_item,
            ("dynamodb", "TransactWriteItems"): lambda r: transactions().transact_write_items(r),
            ("dynamodb", "TransactGetItems"): lambda r: transactions().transact_get_items(r),
            ("dynamodb", "ExecuteStatement"): lambda r: partiql().execute_statement(r),
            ("dynamodb", "BatchExecuteStatement"): lambda r: partiql().batch_execute_statement(r),
            ("dynamodb", "ExecuteTransaction"): lambda r: partiql().execute_transaction(r),
            ("dynamodb", "UpdateTimeToLive"): bind(_metadata.update_time_to_live),
            ("dynamodb", "DescribeTimeToLive"): bind(_metadata.describe_time_to_live),
            ("dynamodb", "TagResource"): bind(_tags.tag_resource),
            ("dynamodb", "UntagResource"): bind(_tags.untag_resource),
            ("dynamodb", "ListTagsOfResource"): bind(_tags.list_tags_of_resource),
            ("dynamodb", "DescribeContinuousBackups"): bind(_metadata.describe_continuous_backups),
            ("dynamodb", "DescribeLimits"): bind(_metadata.describe_limits),
            ("streams", "ListStreams"): engine.streams.list_streams,
            ("streams", "DescribeStream"): engine.streams.describe_stream,
            ("streams", "GetShardIterator"): engine.streams.get_shard_iterator,
            ("streams", "GetRecords"): engine.streams.get_records,
        }
        if meter is not None:
            self._operations = metered_operations(self._operations, meter)
        self._request_operations: dict[tuple[str, str], RequestOperation] = {
            ("dynamodb", "DescribeEndpoints"): _metadata.describe_endpoints,
        }

    async def handle(self, request: ServiceRequest) -> ServiceResponse:
        # Operations are short SQLite calls; running them inline keeps latency low.
        return dispatch(request, self._operations, self._request_operations)

    def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.stop()
        with self.engine.lock:
            self.engine.store.close()


def create_service(
    state_dir: Path | None,
    *,
    durability: Durability = "normal",
    ttl_sweep_seconds: float | None = 5.0,
    meter: Meter | None = None,
    **_options: Any,
) -> DynamoDBService:
    """DynamoDB persisted in `<state_dir>/dynamodb.sqlite3`, or in memory when None.

    Expired TTL items are deleted every `ttl_sweep_seconds` (None: never). With a
    `meter`, request units and stored bytes are metered.
    """
    path = None if state_dir is None else Path(state_dir) / "dynamodb.sqlite3"
    store = DynamoDBStore(open_database(path, durability=durability))
    service = DynamoDBService(
        DynamoDBEngine(store), ttl_sweep_seconds=ttl_sweep_seconds, meter=meter
    )
    if meter is not None and path is not None:
        meter.sample(lambda: stored_bytes(path))
    return service
