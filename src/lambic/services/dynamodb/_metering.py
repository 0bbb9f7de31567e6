"""DynamoDB's on-demand request units, metered from the ConsumedCapacity we compute.

`capacity.py` already computes what a request consumes exactly as AWS does (reads per
4 KB, halved when eventually consistent, doubled in transactions; writes per 1 KB of
the larger of the old and new item, doubled in transactions; index writes; Query and
Scan by the total size read, not per item; batches per item). AWS bills on-demand
tables those same units. So a metered operation asks for at least TOTAL (the units
of the table and its indexes together), counts them, and answers with the
ConsumedCapacity the client did ask for (none, TOTAL or INDEXES).

A failed conditional write still costs write units (the existing item's size, at
least one); a DeleteItem of a missing item costs one. DynamoDB Streams bill each
GetRecords call on the wire as one streams read request (Lambda's own stream polling
is free, and the local stream poller reads in process, so it is not counted).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from lambic.services._metering import Meter
from lambic.services.dynamodb.errors import ConditionalCheckFailedError
from lambic.services.dynamodb.protocol import Operation
from lambic.services.dynamodb.streams import _decode_iterator

__all__ = ["metered_operations", "stored_bytes"]

_READS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})
_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
_PARTIQL = frozenset({"ExecuteStatement", "ExecuteTransaction"})
_MODES = ("NONE", "TOTAL", "INDEXES")
# Operations whose result object may be kept and answered again (a transaction's, for
# idempotent retries): the units are removed from a copy, not from it.
_KEPT_RESULTS = frozenset({"TransactWriteItems", "TransactGetItems"})


def metered_operations(
    operations: dict[tuple[str, str], Operation], meter: Meter
) -> dict[tuple[str, str], Operation]:
    """`operations` with the billable ones counting into `meter`."""
    wrapped = dict(operations)
    for key, operation in operations.items():
        target, name = key
        if name in _READS:
            wrapped[key] = _units(operation, meter, "read_units", name in _KEPT_RESULTS)
        elif name in _WRITES:
            wrapped[key] = _units(operation, meter, "write_units", name in _KEPT_RESULTS)
        elif name in _PARTIQL:
            wrapped[key] = _partiql_units(operation, meter)
        elif target == "streams" and name == "GetRecords":
            wrapped[key] = _stream_reads(operation, meter)
    return wrapped


def _units(operation: Operation, meter: Meter, metric: str, kept: bool) -> Operation:
    def run(request: dict[str, Any]) -> dict[str, Any]:
        asked = request.get("ReturnConsumedCapacity", "NONE")
        if asked not in _MODES:
            return operation(request)  # the operation answers AWS's validation error
        if asked == "NONE":
            request["ReturnConsumedCapacity"] = "TOTAL"  # the cheapest shape with the units
        try:
            result = operation(request)
        except ConditionalCheckFailedError as error:
            table = request.get("TableName")
            if isinstance(table, str):
                meter.add("dynamodb", table, metric, error.consumed_units)
            raise
        consumed = result.get("ConsumedCapacity")
        if consumed is None:
            return result
        if isinstance(consumed, list):
            for entry in consumed:
                meter.add("dynamodb", entry["TableName"], metric, entry["CapacityUnits"])
        else:
            meter.add("dynamodb", consumed["TableName"], metric, consumed["CapacityUnits"])
        if asked != "NONE":
            return result
        if kept:
            result = dict(result)
        del result["ConsumedCapacity"]
        return result

    return run


def _partiql_units(operation: Operation, meter: Meter) -> Operation:
    """PartiQL reads (SELECT) bill read units, its writes write units."""
    # A transaction's result may be kept for idempotent retries: the units come off a copy.
    reads = _units(operation, meter, "read_units", True)
    writes = _units(operation, meter, "write_units", True)

    def run(request: dict[str, Any]) -> dict[str, Any]:
        statement = request.get("Statement")
        if statement is None:
            entries = request.get("TransactStatements")
            first = entries[0] if isinstance(entries, list) and entries else None
            statement = first.get("Statement") if isinstance(first, dict) else None
        is_read = str(statement).lstrip()[:6].upper() == "SELECT"
        return (reads if is_read else writes)(request)

    return run


def _stream_reads(operation: Operation, meter: Meter) -> Operation:
    def run(request: dict[str, Any]) -> dict[str, Any]:
        result = operation(request)
        iterator = request.get("ShardIterator")
        meter.add("dynamodb", _stream_table(iterator), "stream_reads")
        return result

    return run


def _stream_table(iterator: object) -> str:
    """The table a shard iterator reads from (its stream ARN names it)."""
    arn, _ = _decode_iterator(iterator)  # valid: GetRecords has just accepted it
    return arn.split(":table/", 1)[-1].split("/", 1)[0]


# DynamoDB bills table storage as the raw size of the items plus 100 bytes of
# overhead per item (per item in each secondary index too).
_ITEM_OVERHEAD = 100


def stored_bytes(path: Path) -> dict[tuple[str, str], int]:
    """Billable bytes each table stores now: `{("dynamodb", table): bytes}`."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        names = dict(conn.execute("SELECT tid, name FROM tables").fetchall())
        items = conn.execute("SELECT tid, SUM(size), COUNT(*) FROM items GROUP BY tid").fetchall()
        indexed = conn.execute("SELECT tid, COUNT(*) FROM index_entries GROUP BY tid").fetchall()
    finally:
        conn.close()
    totals: dict[tuple[str, str], int] = {}
    for tid, size, count in items:
        if tid in names:
            totals[("dynamodb", names[tid])] = int(size or 0) + _ITEM_OVERHEAD * count
    for tid, count in indexed:
        if tid in names:
            key = ("dynamodb", names[tid])
            totals[key] = totals.get(key, 0) + _ITEM_OVERHEAD * count
    return totals
