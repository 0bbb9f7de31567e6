"""DynamoDB semantics, independent of the wire: tables, item writes and reads.

Data flow for a write: validate the request (keys, types, expressions, sizes) → read
the current item → check the condition → compute the new item → in one SQLite
transaction write the item, its secondary-index entries and (if the table has a
stream) its stream record → commit → tell listeners about the new stream records.
Query/Scan live in `reads.py`, batches and transactions in `batches.py`.

The engine is called on the edge's event loop and by in-process event sources; an
`RLock` serialises it so a read-check-write is atomic across threads.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from lambic.services.dynamodb import _requests, index_updates
from lambic.services.dynamodb._keys import (
    check_keys_not_updated,
    index_key,
    item_key,
    key_of,
    request_key,
)
from lambic.services.dynamodb._table_limits import check_table_request
from lambic.services.dynamodb._tags import check_count as check_tag_count
from lambic.services.dynamodb._tags import parse_tags
from lambic.services.dynamodb.capacity import Capacity, capacity_mode, read_units, write_units
from lambic.services.dynamodb.errors import (
    ConditionalCheckFailedError,
    ResourceInUseError,
    ValidationError,
    resource_not_found,
    table_not_found,
)
from lambic.services.dynamodb.expressions import (
    apply_update,
    evaluate,
    legacy,
    parse_condition,
    parse_update,
    project,
)
from lambic.services.dynamodb.expressions.ast import Condition, Path
from lambic.services.dynamodb.store import DynamoDBStore
from lambic.services.dynamodb.streams import StreamsApi, build_record, with_sequence
from lambic.services.dynamodb.tables import (
    TableDefinition,
    check_attribute_definitions,
    check_name_lengths,
    parse_attribute_definitions,
    parse_create_table,
    parse_stream_specification,
    validate_table_name,
)
from lambic.services.dynamodb.types import Item, check_item_size, item_size, validate_item

logger = logging.getLogger(__name__)

StreamListener = Callable[[dict[str, Any]], None]
_NOT_IN_DELETE = (
    "CreationDateTime",
    "KeySchema",
    "AttributeDefinitions",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
)


@dataclass
class TableState:
    tid: int
    definition: TableDefinition
    # ItemCount / TableSizeBytes, counted once on the first DescribeTable and then kept
    # exact on every write (a COUNT over a million rows would stall the edge each time).
    item_count: int | None = None
    size_bytes: int | None = None
    index_counts: dict[str, int] | None = None


@dataclass
class Write:
    """One item change ready to commit: `new` None means delete."""

    state: TableState
    hk: bytes
    rk: bytes
    keys: Item
    old: Item | None
    new: Item | None
    size: int | None = None  # of `new`, when the caller already measured it
    by_ttl: bool = False  # a Time to Live deletion (its stream record names the service)


class DynamoDBEngine:
    """Tables and items over a `DynamoDBStore`; `add_listener` for stream records."""

    def __init__(self, store: DynamoDBStore) -> None:
        self.store = store
        self.lock = threading.RLock()
        self.streams = StreamsApi(store, self.lock)
        self._tables = {t.name: TableState(tid, t) for tid, t in store.load_tables()}
        self._listeners: list[StreamListener] = []
        self._pending: list[dict[str, Any]] = []

    # ---- listeners --------------------------------------------------------------------

    def add_listener(self, callback: StreamListener) -> None:
        """Call `callback(record)` after commit for every stream record of every table.

        The record is the Streams API shape plus `eventSourceARN` (the stream ARN), as a
        Lambda event source mapping delivers it. Only tables with a stream produce records.
        """
        self._listeners.append(callback)

    def remove_listener(self, callback: StreamListener) -> None:
        self._listeners.remove(callback)

    def _notify(self) -> None:
        pending, self._pending = self._pending, []
        for record in pending:
            for listener in list(self._listeners):
                try:
                    listener(record)
                except Exception:  # a consumer's bug must not fail the acknowledged write
                    logger.exception("DynamoDB stream listener failed")

    # ---- table lookup -----------------------------------------------------------------

    def table(self, name: str) -> TableState:
        """The table an item operation names; AWS's plain ResourceNotFoundException if none."""
        state = self._tables.get(name)
        if state is None:
            raise resource_not_found()
        return state

    def tables(self) -> list[TableState]:
        return list(self._tables.values())

    def find_table(self, name: str) -> TableState | None:
        return self._tables.get(name)

    def described_table(self, request: dict[str, Any]) -> TableState:
        """The table a table-level operation names; AWS's "Table: X not found" if none."""
        name = validate_table_name(request.get("TableName"))
        state = self._tables.get(name)
        if state is None:
            raise table_not_found(name)
        return state

    def _describe(self, state: TableState, status: str = "ACTIVE") -> dict[str, Any]:
        if state.item_count is None or state.size_bytes is None:
            state.item_count, state.size_bytes = self.store.table_stats(state.tid)
        description = state.definition.describe(status, state.item_count, state.size_bytes)
        if state.index_counts is None:
            state.index_counts = {
                name: self.store.index_stats(state.tid, name) for name in state.definition.indexes
            }
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            for entry in description.get(key, []):
                entry["ItemCount"] = state.index_counts.get(entry["IndexName"], 0)
        return description

    # ---- table operations -------------------------------------------------------------

    def create_table(self, request: dict[str, Any]) -> dict[str, Any]:
        check_table_request(request)
        table = parse_create_table(request)
        if request.get("Tags") is not None:
            table.tags = parse_tags(request["Tags"])
            check_tag_count(table.tags)
        with self.lock:
            if table.name in self._tables:
                raise ResourceInUseError(f"Table already exists: {table.name}")
            with self.store.transaction():
                tid = self.store.insert_table(table)
                self._register_stream(table)
            state = TableState(tid, table)
            self._tables[table.name] = state
            # AWS answers CREATING and flips to ACTIVE; locally creation is instant.
            return {"TableDescription": self._describe(state)}

    def _register_stream(self, table: TableDefinition) -> None:
        if table.stream_arn is None or table.stream_view_type is None:
            return
        self.store.insert_stream(
            table.stream_arn,
            table.name,
            table.stream_label or "",
            table.stream_view_type,
            json.dumps(table.key_schema()),
            table.created,
        )

    def describe_table(self, request: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            return {"Table": self._describe(self.described_table(request))}

    def list_tables(self, request: dict[str, Any]) -> dict[str, Any]:
        limit = _requests.list_limit(request, "less than or equal to 100")
        start = request.get("ExclusiveStartTableName")
        with self.lock:
            names = sorted(n for n in self._tables if start is None or n > start)
        result: dict[str, Any] = {"TableNames": names[:limit]}
        if len(names) > limit:
            result["LastEvaluatedTableName"] = names[limit - 1]
        return result

    def delete_table(self, request: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            state = self.described_table(request)
            table = state.definition
            if table.deletion_protection:
                raise ValidationError(
                    "Resource cannot be deleted as it is currently protected against deletion. "
                    "Disable deletion protection first."
                )
            description = self._describe(state, "DELETING")
            # DynamoDB's DeleteTable answer leaves out the schema and creation time.
            for field in _NOT_IN_DELETE:
                description.pop(field, None)
            with self.store.transaction():
                self.store.delete_table(state.tid, table.name)
                if table.stream_arn is not None:
                    self.store.disable_stream(table.stream_arn)
            del self._tables[table.name]
            return {"TableDescription": description}

    def update_table(self, request: dict[str, Any]) -> dict[str, Any]:
        check_table_request(request)
        # Every name over its length at once, as AWS lists them ("2 validation errors");
        # CreateTable's are checked by `parse_create_table`.
        check_name_lengths(request)
        with self.lock:
            state = self.described_table(request)
            table = TableDefinition.from_json(json.loads(json.dumps(state.definition.to_json())))
            if "AttributeDefinitions" in request:
                given = parse_attribute_definitions(request["AttributeDefinitions"])
                index_updates.check_redefinitions(table, given)
                table.attribute_types.update(given)
            if "BillingMode" in request:
                table.billing_mode = request["BillingMode"]
                if table.billing_mode == "PAY_PER_REQUEST":
                    table.throughput = {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
            if "ProvisionedThroughput" in request:
                if table.billing_mode == "PAY_PER_REQUEST":
                    raise ValidationError(
                        "One or more parameter values were invalid: Neither ReadCapacityUnits "
                        "nor WriteCapacityUnits can be specified when BillingMode is "
                        "PAY_PER_REQUEST"
                    )
                table.throughput = dict(request["ProvisionedThroughput"])
            if "DeletionProtectionEnabled" in request:
                table.deletion_protection = bool(request["DeletionProtectionEnabled"])
            created, dropped = index_updates.apply(table, request)
            self._attribute_definitions_after_update(table)
            stream_change = self._stream_update(table, request)
            with self.store.transaction():
                if stream_change == "disable" and state.definition.stream_arn:
                    self.store.disable_stream(state.definition.stream_arn)
                if stream_change == "enable":
                    self._register_stream(table)
                for name in dropped:
                    self.store.drop_index(state.tid, name)
                for name in created:
                    self._backfill(state.tid, table, name)
                self.store.save_table(table)
            state.definition = table
            state.index_counts = None
            return {"TableDescription": self._describe(state)}

    def _attribute_definitions_after_update(self, table: TableDefinition) -> None:
        # Definitions no index uses any more are dropped, as AWS does after an index delete.
        used = set(table.key_names())
        for index in table.indexes.values():
            used.update(index.key_attributes())
        table.attribute_types = {n: t for n, t in table.attribute_types.items() if n in used}
        check_attribute_definitions(table)

    def _stream_update(self, table: TableDefinition, request: dict[str, Any]) -> str | None:
        spec = request.get("StreamSpecification")
        if spec is None:
            return None
        view_type = parse_stream_specification(spec)
        if view_type is None:
            if table.stream_view_type is None:
                raise ValidationError(f"Table has no stream to disable: TableName: {table.name}")
            table.stream_view_type = None
            return "disable"
        if table.stream_view_type is not None:
            raise ValidationError(f"Table already has an enabled stream: TableName: {table.name}")
        table.enable_stream(view_type)
        return "enable"

    def _backfill(self, tid: int, table: TableDefinition, name: str) -> None:
        index = table.indexes[name]
        for hk, rk, doc in list(self.store.iter_table(tid)):
            item = orjson.loads(doc)
            try:
                key = index_key(table, index, item)
            except ValidationError:
                continue  # AWS reports such items as index violations; they stay unindexed
            if key is not None:
                self.store.put_index_entry(tid, name, key[0], key[1], hk, rk)

    # ---- the write primitive ----------------------------------------------------------

    def check_indexes(self, table: TableDefinition, item: Item) -> None:
        for index in table.indexes.values():
            index_key(table, index, item)

    def commit(self, writes: list[Write], capacity: dict[str, Capacity] | None = None) -> None:
        """Apply item changes atomically, then notify stream listeners."""
        with self.lock:
            try:
                if len(writes) == 1 and _single_statement(writes[0]):
                    # One INSERT/DELETE in autocommit mode is its own atomic transaction.
                    self._apply(writes[0], capacity)
                else:
                    with self.store.transaction():
                        for write in writes:
                            self._apply(write, capacity)
            except BaseException:
                for write in writes:  # counters may include rolled-back writes: recount
                    write.state.item_count = write.state.size_bytes = None
                    write.state.index_counts = None
                self._pending.clear()
                raise
            self._notify()

    def _apply(self, write: Write, capacity: dict[str, Capacity] | None) -> None:
        state, table = write.state, write.state.definition
        tid, hk, rk = state.tid, write.hk, write.rk
        size = 0
        if write.new is None:
            self.store.delete_item(tid, hk, rk)
        else:
            size = write.size if write.size is not None else item_size(write.new)
            self.store.put_item(tid, hk, rk, size, orjson.dumps(write.new).decode())
        if state.item_count is not None and state.size_bytes is not None:
            state.item_count += (write.new is not None) - (write.old is not None)
            state.size_bytes += size - (item_size(write.old) if write.old else 0)
        for index in table.indexes.values():
            old_key = index_key(table, index, write.old) if write.old else None
            new_key = index_key(table, index, write.new) if write.new else None
            if old_key != new_key:
                if old_key is not None:
                    self.store.delete_index_entry(tid, index.name, *old_key, hk, rk)
                if new_key is not None:
                    self.store.put_index_entry(tid, index.name, *new_key, hk, rk)
                if state.index_counts is not None:
                    change = (new_key is not None) - (old_key is not None)
                    state.index_counts[index.name] = state.index_counts.get(index.name, 0) + change
            if capacity is not None and (old_key or new_key):
                size = max(item_size(write.old or {}), item_size(write.new or {}))
                capacity[table.name].add_index(index.name, index.kind, write_units(size))
        if table.stream_arn is not None and table.stream_view_type is not None:
            if write.old is not None and write.new is not None and write.old == write.new:
                return  # AWS writes no stream record for a write that changed nothing
            event = "INSERT" if write.old is None else "REMOVE" if write.new is None else "MODIFY"
            record = build_record(
                table, event, write.keys, write.old, write.new, by_ttl=write.by_ttl
            )
            seq = self.store.append_record(table.stream_arn, orjson.dumps(record).decode())
            record = with_sequence(record, seq)
            record["eventSourceARN"] = table.stream_arn
            self._pending.append(record)

    def load(self, state: TableState, hk: bytes, rk: bytes) -> Item | None:
        doc = self.store.get_item(state.tid, hk, rk)
        return None if doc is None else dict(orjson.loads(doc))

    def load_sized(self, state: TableState, hk: bytes, rk: bytes) -> tuple[Item | None, int]:
        """The item and its size as stored (0 when missing): capacity units need the
        size, and measuring the item again costs more than reading it (metering)."""
        row = self.store.get_item_sized(state.tid, hk, rk)
        return (None, 0) if row is None else (dict(orjson.loads(row[0])), row[1])

    # ---- item operations --------------------------------------------------------------

    def put_item(self, request: dict[str, Any]) -> dict[str, Any]:
        name, condition, wanted, on_failure, mode = _put_or_delete_options(request)
        with self.lock:
            state = self.table(name)
            item = validate_item(request.get("Item"))
            hk, rk = item_key(state.definition, item)
            self.check_indexes(state.definition, item)
            size = check_item_size(item)
            old, old_size = self.load_sized(state, hk, rk)
            _check(condition, old, on_failure)
            capacity = _write_capacity(name, mode, size, old_size)
            keys = key_of(state.definition, item)
            self.commit([Write(state, hk, rk, keys, old, item, size)], capacity)
        return _put_or_delete_result(wanted, old, capacity, name, mode)

    def get_item(self, request: dict[str, Any]) -> dict[str, Any]:
        name = _requests.table_name(request)
        subs = _requests.substitutions(request, "ProjectionExpression")
        paths = _requests.projection(request, subs)
        subs.check_all_used()
        mode = capacity_mode(request)
        with self.lock:
            state = self.table(name)
            _, hk, rk = request_key(state.definition, request.get("Key"))
            item, size = self.load_sized(state, hk, rk)
        result: dict[str, Any] = {}
        if item is not None:
            result["Item"] = project(item, paths) if paths is not None else item
        if mode == "TOTAL":
            # What Capacity.render gives for one table read, built directly: the meter
            # asks every GetItem for TOTAL.
            consistent = bool(request.get("ConsistentRead"))
            result["ConsumedCapacity"] = {
                "TableName": name,
                "CapacityUnits": read_units(size, consistent),
            }
        elif mode != "NONE":
            capacity = Capacity(name)
            capacity.table = read_units(size, bool(request.get("ConsistentRead")))
            _add_capacity(result, {name: capacity}, name, mode)
        return result

    def delete_item(self, request: dict[str, Any]) -> dict[str, Any]:
        name, condition, wanted, on_failure, mode = _put_or_delete_options(request)
        with self.lock:
            state = self.table(name)
            keys, hk, rk = request_key(state.definition, request.get("Key"))
            old, old_size = self.load_sized(state, hk, rk)
            _check(condition, old, on_failure)
            capacity = _write_capacity(name, mode, 0, old_size)
            if old is not None:
                self.commit([Write(state, hk, rk, keys, old, None)], capacity)
        return _put_or_delete_result(wanted, old, capacity, name, mode)

    def update_item(self, request: dict[str, Any]) -> dict[str, Any]:
        name = _requests.table_name(request)
        legacy.check_parameter_mix(
            request, ("UpdateExpression", "ConditionExpression"), ("AttributeUpdates", "Expected")
        )
        subs = _requests.substitutions(request, "ConditionExpression", "UpdateExpression")
        condition = _condition(request, subs)
        update = (
            parse_update(request["UpdateExpression"], subs)
            if request.get("UpdateExpression") is not None
            else legacy.attribute_updates(request.get("AttributeUpdates"))
        )
        subs.check_all_used()
        wanted = _requests.return_values(
            request, ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")
        )
        on_failure = _requests.return_on_failure(request)
        mode = capacity_mode(request)
        with self.lock:
            state = self.table(name)
            table = state.definition
            keys, hk, rk = request_key(table, request.get("Key"))
            check_keys_not_updated(update, keys)
            old, old_size = self.load_sized(state, hk, rk)
            _check(condition, old, on_failure)
            base = old if old is not None else dict(keys)
            # Removing from a missing item is a no-op, whatever the paths.
            written = old is not None or not _only_removes(update)
            apply = (
                apply_update
                if request.get("UpdateExpression") is not None
                else legacy.apply_attribute_updates
            )
            new = apply(update, base) if update is not None and written else base
            validate_item(new)
            self.check_indexes(table, new)
            size = check_item_size(new)
            capacity = _write_capacity(name, mode, size, old_size)
            if written:
                self.commit([Write(state, hk, rk, keys, old, new, size)], capacity)
        result: dict[str, Any] = {}
        paths = [a.path for a in update.actions] if update is not None else []
        attributes = _updated_attributes(wanted, old, new, paths) if written else None
        if attributes:
            result["Attributes"] = attributes
        _add_capacity(result, capacity, name, mode)
        return result


def _only_removes(update: Any) -> bool:
    """Whether an update only takes attributes away: on a missing item DynamoDB then
    creates nothing (any other update, even an empty one, creates the item)."""
    return (
        update is not None
        and bool(update.actions)
        and all(action.kind in ("REMOVE", "DELETE") for action in update.actions)
    )


def _single_statement(write: Write) -> bool:
    """Whether a write touches only the items table (no index entries, no stream record)."""
    table = write.state.definition
    return not table.indexes and table.stream_arn is None


def _condition(request: dict[str, Any], subs: Any) -> Condition | None:
    legacy.reject_mixing(request, "Expected", "ConditionExpression")
    text = request.get("ConditionExpression")
    if text is None:
        return legacy.expected_condition(
            request.get("Expected"), request.get("ConditionalOperator")
        )
    return parse_condition(text, "ConditionExpression", subs)


def _put_or_delete_options(
    request: dict[str, Any],
) -> tuple[str, Condition | None, str, bool, str]:
    """The fields PutItem and DeleteItem read alike, checked in AWS's order.

    Returns (table name, condition, ReturnValues, whether a failed condition returns
    the old item, ReturnConsumedCapacity mode).
    """
    name = _requests.table_name(request)
    subs = _requests.substitutions(request, "ConditionExpression")
    condition = _condition(request, subs)
    subs.check_all_used()
    wanted = _requests.return_values(request, ("NONE", "ALL_OLD"))
    on_failure = _requests.return_on_failure(request)
    return name, condition, wanted, on_failure, capacity_mode(request)


def _put_or_delete_result(
    wanted: str, old: Item | None, capacity: dict[str, Capacity] | None, name: str, mode: str
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if wanted == "ALL_OLD" and old:
        result["Attributes"] = old
    _add_capacity(result, capacity, name, mode)
    return result


def _check(condition: Condition | None, old: Item | None, return_item: bool) -> None:
    if condition is not None and not evaluate(condition, old or {}):
        raise ConditionalCheckFailedError(
            old if return_item and old else None, units=write_units(item_size(old or {}))
        )


def _updated_attributes(wanted: str, old: Item | None, new: Item, paths: list[Path]) -> Item | None:
    if wanted == "ALL_OLD":
        return old
    if wanted == "ALL_NEW":
        return new
    if wanted == "UPDATED_OLD":
        return project(old, paths) if old else None
    if wanted == "UPDATED_NEW":
        return project(new, paths)
    return None


def _write_capacity(name: str, mode: str, size: int, old_size: int) -> dict[str, Capacity] | None:
    """Units for a single-item write; None (nothing measured) when the caller did not ask."""
    if mode == "NONE":
        return None
    capacity = Capacity(name)
    capacity.table = write_units(max(size, old_size))
    return {name: capacity}


def _add_capacity(
    result: dict[str, Any], capacity: dict[str, Capacity] | None, name: str, mode: str
) -> None:
    rendered = capacity[name].render(mode) if capacity is not None else None
    if rendered is not None:
        result["ConsumedCapacity"] = rendered
