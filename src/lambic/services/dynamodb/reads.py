"""Query and Scan: seeks and scans, pagination, filters, projections, capacity.

A Query's key condition becomes a seek (`key_conditions.seek`): the partition's encoded
hash key plus a range on the encoded sort key, so `Limit=1, ScanIndexForward=False`
reads one row. As in DynamoDB, `Limit` and the 1 MB page cap count items *read*;
FilterExpression is applied afterwards, so a page may hold fewer items than `Limit` and
still carry a LastEvaluatedKey.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from lambic.services.dynamodb import _requests, key_conditions
from lambic.services.dynamodb._keys import (
    index_key,
    index_key_names,
    index_projection,
    key_of,
    pick,
)
from lambic.services.dynamodb.capacity import Capacity, capacity_mode, read_units
from lambic.services.dynamodb.engine import DynamoDBEngine, TableState
from lambic.services.dynamodb.errors import ValidationError
from lambic.services.dynamodb.expressions import evaluate, legacy, parse_condition, project
from lambic.services.dynamodb.expressions.ast import (
    Condition,
    Path,
)
from lambic.services.dynamodb.store import partition_hash
from lambic.services.dynamodb.tables import IndexDefinition
from lambic.services.dynamodb.types import (
    Item,
    encode_key_value,
    validate_item,
    value_type,
)

PAGE_BYTES = 1024 * 1024
_BATCH = 1000
_SELECTS = frozenset({"ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT"})

Fetch = Callable[[Any, int], list[tuple[Any, int, str]]]


def query(engine: DynamoDBEngine, request: dict[str, Any]) -> dict[str, Any]:
    name = _requests.table_name(request)
    subs = _requests.substitutions(
        request, "KeyConditionExpression", "FilterExpression", "ProjectionExpression"
    )
    legacy.check_parameter_mix(
        request,
        ("ProjectionExpression", "FilterExpression", "KeyConditionExpression"),
        ("AttributesToGet", "QueryFilter", "ConditionalOperator", "KeyConditions"),
    )
    key_condition: Condition | None
    if request.get("KeyConditionExpression") is not None:
        key_condition = parse_condition(
            request["KeyConditionExpression"], "KeyConditionExpression", subs
        )
    else:
        key_condition = legacy.key_conditions(request.get("KeyConditions"))
    if key_condition is None:
        raise ValidationError(
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in "
            "the request."
        )
    key_condition = key_conditions.attribute_first(key_condition)
    filter_ = _filter(request, subs) or legacy.filter_condition(
        request.get("QueryFilter"), request.get("ConditionalOperator")
    )
    paths = _requests.projection(request, subs)
    subs.check_all_used()
    limit = _limit(request)
    forward = bool(request.get("ScanIndexForward", True))
    mode = capacity_mode(request)
    with engine.lock:
        state = engine.table(name)
        index = _index(state, request)
        select = _select(request, index, paths)
        _check_projected(state, index, paths)
        table = state.definition
        if filter_ is not None:
            key_conditions.check_filter(
                index.key_attributes() if index else table.key_names(),
                filter_,
                "Filter Expression"
                if request.get("FilterExpression") is not None
                else "QueryFilter",
            )
        hk, where, params = key_conditions.seek(key_condition, table, index)
        order = ">" if forward else "<"
        fetch: Fetch
        if index is None:

            def fetch(cursor: Any, count: int) -> list[tuple[Any, int, str]]:
                extra, extra_params = where, params
                if cursor is not None:
                    extra += f" AND rk {order} ?"
                    extra_params = (*params, cursor)
                rows = engine.store.query_partition(
                    state.tid, hk, extra, extra_params, forward, count
                )
                return [(rk, size, doc) for _, rk, size, doc in rows]

        else:
            iname = index.name

            def fetch(cursor: Any, count: int) -> list[tuple[Any, int, str]]:
                extra, extra_params = where, params
                if cursor is not None:
                    extra += f" AND (e.irk, e.hk, e.rk) {order} (?, ?, ?)"
                    extra_params = (*params, *cursor)
                rows = engine.store.query_index(
                    state.tid, iname, hk, extra, extra_params, forward, count
                )
                return [((irk, hk_, rk), size, doc) for irk, hk_, rk, size, doc in rows]

        start = _start_cursor(state, index, request.get("ExclusiveStartKey"), scan=False)
        if start is not None:
            _check_start_in_bounds(state, index, key_condition, request["ExclusiveStartKey"])
        items, scanned_bytes, more = _collect(fetch, start, limit)
    return _render(state, index, request, items, scanned_bytes, more, filter_, paths, select, mode)


def _check_start_in_bounds(
    state: TableState, index: IndexDefinition | None, condition: Condition, start: Item
) -> None:
    """A Query's ExclusiveStartKey must be a key the query itself could return."""
    if index is None and state.definition.range_key is None:
        # One partition of a table without a sort key is one item: nothing to resume.
        shown = ", ".join(
            f"{name}=AttributeValue: {key_conditions.render_value(v)}" for name, v in start.items()
        )
        raise ValidationError(
            "The provided exclusive start key is invalid: ExclusiveStartKey: {" + shown + "}"
        )
    if not evaluate(condition, validate_item(start)):
        raise ValidationError(
            "The provided starting key is outside query boundaries based on provided conditions"
        )


def scan(engine: DynamoDBEngine, request: dict[str, Any]) -> dict[str, Any]:
    name = _requests.table_name(request)
    subs = _requests.substitutions(request, "FilterExpression", "ProjectionExpression")
    legacy.check_parameter_mix(
        request,
        ("ProjectionExpression", "FilterExpression"),
        ("AttributesToGet", "ScanFilter", "ConditionalOperator"),
    )
    filter_ = _filter(request, subs) or legacy.filter_condition(
        request.get("ScanFilter"), request.get("ConditionalOperator")
    )
    paths = _requests.projection(request, subs)
    subs.check_all_used()
    limit = _limit(request)
    low, high = _segment(request)
    mode = capacity_mode(request)
    with engine.lock:
        state = engine.table(name)
        index = _index(state, request)
        select = _select(request, index, paths)
        _check_projected(state, index, paths)
        fetch: Fetch
        if index is None:

            def fetch(cursor: Any, count: int) -> list[tuple[Any, int, str]]:
                rows = engine.store.scan(state.tid, low, high, cursor, count)
                return [((hh, hk, rk), size, doc) for hh, hk, rk, size, doc in rows]

        else:
            iname = index.name

            def fetch(cursor: Any, count: int) -> list[tuple[Any, int, str]]:
                rows = engine.store.scan_index(state.tid, iname, low, high, cursor, count)
                return [(tuple(row[:5]), row[5], row[6]) for row in rows]

        start = _start_cursor(state, index, request.get("ExclusiveStartKey"), scan=True)
        if start is not None and not low <= start[0] < high:
            raise ValidationError(
                # DynamoDB's wording, as the Alternator maintainers quote it from AWS.
                "The provided starting key is invalid: Invalid ExclusiveStartKey. Please use "
                "ExclusiveStartKey with correct Segment. "
                f"TotalSegments: {request.get('TotalSegments')} Segment: {request.get('Segment')}"
            )
        items, scanned_bytes, more = _collect(fetch, start, limit)
    return _render(state, index, request, items, scanned_bytes, more, filter_, paths, select, mode)


# ---- request pieces -----------------------------------------------------------------


def _filter(request: dict[str, Any], subs: Any) -> Condition | None:
    text = request.get("FilterExpression")
    return None if text is None else parse_condition(text, "FilterExpression", subs)


def _limit(request: dict[str, Any]) -> int | None:
    limit = request.get("Limit")
    if limit is None:
        return None
    if not isinstance(limit, int) or limit < 1:
        raise ValidationError(
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
            "constraint: Member must have value greater than or equal to 1"
        )
    return limit


def _index(state: TableState, request: dict[str, Any]) -> IndexDefinition | None:
    name = request.get("IndexName")
    if name is None:
        return None
    index = state.definition.indexes.get(name)
    if index is None:
        raise ValidationError(f"The table does not have the specified index: {name}")
    if index.kind == "GSI" and request.get("ConsistentRead"):
        raise ValidationError("Consistent reads are not supported on global secondary indexes")
    return index


def _select(request: dict[str, Any], index: IndexDefinition | None, paths: Any) -> str:
    select = request.get("Select")
    if select is not None and select not in _SELECTS:
        raise ValidationError(
            f"1 validation error detected: Value '{select}' at 'select' failed to satisfy "
            "constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, "
            "ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]"
        )
    if select is None:
        if paths is not None:
            return "SPECIFIC_ATTRIBUTES"
        return "ALL_PROJECTED_ATTRIBUTES" if index else "ALL_ATTRIBUTES"
    if paths is not None and select != "SPECIFIC_ATTRIBUTES":
        given = (
            "AttributesToGet"
            if request.get("AttributesToGet") is not None
            else ("ProjectionExpression")
        )
        raise ValidationError(f"Cannot specify the {given} when choosing to get {select}")
    if select == "SPECIFIC_ATTRIBUTES" and paths is None:
        raise ValidationError(
            "SPECIFIC_ATTRIBUTES requires ProjectionExpression or AttributesToGet"
        )
    if select == "ALL_PROJECTED_ATTRIBUTES" and index is None:
        raise ValidationError(
            "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"
        )
    if (
        select == "ALL_ATTRIBUTES"
        and index is not None
        and index.kind == "GSI"
        and index.projection["ProjectionType"] != "ALL"
    ):
        raise ValidationError(
            "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not "
            f"supported for global secondary index {index.name} because its projection type "
            "is not ALL"
        )
    return str(select)


def _check_projected(state: TableState, index: IndexDefinition | None, paths: Any) -> None:
    """A GSI holds only its projection: asking it for another attribute is an error."""
    if index is None or index.kind != "GSI" or paths is None:
        return
    projected = index_projection(state.definition, index)
    if projected is None:
        return
    for path in paths:
        name = path.elements[0]
        if name not in projected:
            raise ValidationError(
                "One or more parameter values were invalid: Global secondary index "
                f"{index.name} does not project attribute {name}"
            )


def _segment(request: dict[str, Any]) -> tuple[int, int]:
    segment, total = request.get("Segment"), request.get("TotalSegments")
    if segment is None and total is None:
        return 0, 1 << 32
    if total is None:
        raise ValidationError(
            "The TotalSegments parameter is required but was not present in the request when "
            "Segment parameter is present"
        )
    if segment is None:
        raise ValidationError(
            "The Segment parameter is required but was not present in the request when "
            "parameter TotalSegments is present"
        )
    if not isinstance(total, int) or not 1 <= total <= 1_000_000:
        raise ValidationError(
            f"1 validation error detected: Value '{total}' at 'totalSegments' failed to satisfy "
            "constraint: Member must have value less than or equal to 1000000"
        )
    if not isinstance(segment, int) or not 0 <= segment < total:
        raise ValidationError(
            "The Segment parameter is zero-based and must be less than parameter "
            f"TotalSegments: Segment: {segment} is not less than TotalSegments: {total}"
        )
    return (segment << 32) // total, ((segment + 1) << 32) // total


def _start_cursor(
    state: TableState, index: IndexDefinition | None, start: object, *, scan: bool
) -> Any:
    if start is None:
        return None
    table = state.definition
    names = index_key_names(table, index) if index else table.key_names()
    if not isinstance(start, dict) or set(start) != set(names):
        raise ValidationError(
            "The provided starting key is invalid: The provided key element does not match the "
            "schema"
        )
    key = validate_item(start)
    for attribute in names:
        if value_type(key[attribute]) != table.attribute_types[attribute]:
            raise ValidationError(
                "The provided starting key is invalid: The provided key element does not match "
                "the schema"
            )
    hk = encode_key_value(key[table.hash_key])
    rk = encode_key_value(key[table.range_key]) if table.range_key else b""
    if index is None:
        return (partition_hash(hk), hk, rk) if scan else rk
    index_position = index_key(table, index, key)
    assert index_position is not None  # every index key attribute was checked present
    ihk, irk = index_position
    return (partition_hash(ihk), ihk, irk, hk, rk) if scan else (irk, hk, rk)


def _collect(fetch: Fetch, cursor: Any, limit: int | None) -> tuple[list[Item], int, bool]:
    """Read items in order until Limit, 1 MB or the end; `more` says a page was cut."""
    items: list[Item] = []
    total = 0
    while True:
        want = min(limit - len(items), _BATCH) if limit else _BATCH
        rows = fetch(cursor, want)
        for position, size, doc in rows:
            items.append(orjson.loads(doc))
            total += size
            cursor = position
            if (limit is not None and len(items) >= limit) or total >= PAGE_BYTES:
                return items, total, True
        if len(rows) < want:
            return items, total, False


def _render(
    state: TableState,
    index: IndexDefinition | None,
    request: dict[str, Any],
    items: list[Item],
    scanned_bytes: int,
    more: bool,
    filter_: Condition | None,
    paths: list[Path] | None,
    select: str,
    mode: str,
) -> dict[str, Any]:
    table = state.definition
    projected_names = index_projection(table, index) if index else None
    visible = items
    if index is not None and index.kind == "GSI" and projected_names is not None:
        # A GSI holds copies of the projected attributes only; filters and projections
        # see nothing else (an LSI fetches the rest from the table, at a cost).
        visible = [{k: v for k, v in item.items() if k in projected_names} for item in items]
    matched = [item for item in visible if evaluate(filter_, item)] if filter_ else visible
    result: dict[str, Any] = {}
    if select != "COUNT":
        rendered = []
        for item in matched:
            if paths is not None:
                item = project(item, paths)
            elif projected_names is not None and select == "ALL_PROJECTED_ATTRIBUTES":
                item = {k: v for k, v in item.items() if k in projected_names}
            rendered.append(item)
        result["Items"] = rendered
    result["Count"] = len(matched)
    result["ScannedCount"] = len(items)
    if more and items:
        last = items[-1]
        names = index_key_names(table, index) if index else table.key_names()
        result["LastEvaluatedKey"] = pick(last, names) if index else key_of(table, last)
    capacity = Capacity(table.name)
    units = read_units(scanned_bytes, bool(request.get("ConsistentRead")))
    if index is not None:
        capacity.add_index(index.name, index.kind, units)
    else:
        capacity.table = units
    rendered_capacity = capacity.render(mode)
    if rendered_capacity is not None:
        result["ConsumedCapacity"] = rendered_capacity
    return result
