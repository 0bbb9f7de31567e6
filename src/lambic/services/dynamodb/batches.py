"""BatchGetItem, BatchWriteItem, TransactWriteItems and TransactGetItems.

Every request is validated completely before anything is written, so bad input
changes no data. Locally a batch write never has unprocessed items (there is no
throttling to cause them), and is committed in one SQLite transaction; a transaction
checks every condition first and is all-or-nothing, answering
TransactionCanceledException with one CancellationReason per action, in order.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from lambic.services.dynamodb import _requests
from lambic.services.dynamodb._keys import check_keys_not_updated, item_key, key_of, request_key
from lambic.services.dynamodb.capacity import Capacity, capacity_mode, read_units, write_units
from lambic.services.dynamodb.engine import DynamoDBEngine, TableState, Write
from lambic.services.dynamodb.errors import (
    DynamoDBError,
    IdempotentParameterMismatchError,
    TransactionCanceledError,
    ValidationError,
)
from lambic.services.dynamodb.expressions import (
    apply_update,
    evaluate,
    parse_condition,
    parse_update,
    project,
)
from lambic.services.dynamodb.expressions.ast import Condition
from lambic.services.dynamodb.types import check_item_size, item_size, validate_item

_MAX_BATCH_WRITE = 25
_MAX_BATCH_GET = 100
_MAX_TRANSACT = 100
_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
_TOKEN_LIFETIME_SECONDS = 600
# "The aggregate size of the items in the transaction cannot exceed 4 MB."
_MAX_TRANSACTION_BYTES = 4 * 1024 * 1024


def _capacity_list(capacities: dict[str, Capacity], mode: str) -> list[dict[str, Any]]:
    return [c for c in (cap.render(mode) for cap in capacities.values()) if c is not None]


def _request_items(request: dict[str, Any]) -> dict[str, Any]:
    requests = request.get("RequestItems")
    if not isinstance(requests, dict) or not requests:
        raise ValidationError(
            "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1"
        )
    return requests


def batch_write_item(engine: DynamoDBEngine, request: dict[str, Any]) -> dict[str, Any]:
    requests = _request_items(request)
    total = sum(len(v) if isinstance(v, list) else 0 for v in requests.values())
    if total > _MAX_BATCH_WRITE:
        raise ValidationError(
            "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: "
            "Map value must satisfy constraint: [Member must have length less than or equal to "
            "25, Member must have length greater than or equal to 1]"
        )
    mode = capacity_mode(request)
    with engine.lock:
        writes: list[Write] = []
        capacities: dict[str, Capacity] = {}
        for name, entries in requests.items():
            state = engine.table(name)
            table = state.definition
            if not isinstance(entries, list) or not entries:
                raise ValidationError(
                    "1 validation error detected: Value at 'requestItems' failed to satisfy "
                    "constraint: Map value must satisfy constraint: [Member must have length "
                    "less than or equal to 25, Member must have length greater than or equal "
                    "to 1]"
                )
            seen: set[tuple[bytes, bytes]] = set()
            capacity = capacities.setdefault(name, Capacity(name))
            for entry in entries:
                if not isinstance(entry, dict) or len(entry) != 1:
                    raise ValidationError(
                        "Supplied AttributeValue has more than one datatypes set, must contain "
                        "exactly one of the supported datatypes"
                    )
                if "PutRequest" in entry:
                    item = validate_item(entry["PutRequest"].get("Item"))
                    hk, rk = item_key(table, item)
                    engine.check_indexes(table, item)
                    size = check_item_size(item)
                    keys = key_of(table, item)
                    new: dict[str, Any] | None = item
                elif "DeleteRequest" in entry:
                    keys, hk, rk = request_key(table, entry["DeleteRequest"].get("Key"))
                    new, size = None, 0
                else:
                    raise ValidationError(
                        "1 validation error detected: Value null at 'requestItems' failed to "
                        "satisfy constraint: Member must not be null"
                    )
                if (hk, rk) in seen:
                    raise ValidationError("Provided list of item keys contains duplicates")
                seen.add((hk, rk))
                old = engine.load(state, hk, rk)
                capacity.table += write_units(max(size, item_size(old or {})))
                if new is not None or old is not None:
                    writes.append(Write(state, hk, rk, keys, old, new))
        engine.commit(writes, capacities)
    result: dict[str, Any] = {"UnprocessedItems": {}}
    if mode != "NONE":
        result["ConsumedCapacity"] = _capacity_list(capacities, mode)
    return result


def batch_get_item(engine: DynamoDBEngine, request: dict[str, Any]) -> dict[str, Any]:
    requests = _request_items(request)
    total = sum(len(v.get("Keys") or []) for v in requests.values() if isinstance(v, dict))
    if total > _MAX_BATCH_GET:
        raise ValidationError("Too many items requested for the BatchGetItem call")
    mode = capacity_mode(request)
    responses: dict[str, list[dict[str, Any]]] = {}
    unprocessed: dict[str, Any] = {}
    capacities: dict[str, Capacity] = {}
    returned = 0
    with engine.lock:
        plans = []
        for name, spec in requests.items():
            state = engine.table(name)
            subs = _requests.substitutions(spec, "ProjectionExpression")
            paths = _requests.projection(spec, subs)
            subs.check_all_used()
            keys = spec.get("Keys") or []
            resolved = [request_key(state.definition, key) for key in keys]
            if len({(hk, rk) for _, hk, rk in resolved}) != len(resolved):
                raise ValidationError("Provided list of item keys contains duplicates")
            plans.append((name, spec, state, paths, resolved))
        for name, spec, state, paths, resolved in plans:
            found = responses.setdefault(name, [])
            capacity = capacities.setdefault(name, Capacity(name))
            consistent = bool(spec.get("ConsistentRead"))
            for position, (_key, hk, rk) in enumerate(resolved):
                if returned > _MAX_RESPONSE_BYTES:
                    # AWS caps a response at 16 MB and hands back the rest to retry.
                    rest = {k: v for k, v in spec.items() if k != "Keys"}
                    rest["Keys"] = [key for key, _, _ in resolved[position:]]
                    unprocessed[name] = rest
                    break
                item = engine.load(state, hk, rk)
                capacity.table += read_units(item_size(item or {}), consistent)
                if item is not None:
                    returned += item_size(item)
                    found.append(project(item, paths) if paths is not None else item)
    result: dict[str, Any] = {"Responses": responses, "UnprocessedKeys": unprocessed}
    if mode != "NONE":
        result["ConsumedCapacity"] = _capacity_list(capacities, mode)
    return result


class TransactionRunner:
    """TransactWriteItems / TransactGetItems, with ClientRequestToken idempotency."""

    def __init__(self, engine: DynamoDBEngine) -> None:
        self._engine = engine
        self._tokens: dict[str, tuple[float, str, dict[str, Any]]] = {}

    def transact_write_items(self, request: dict[str, Any]) -> dict[str, Any]:
        items = request.get("TransactItems")
        _check_count(items, "transactItems")
        assert isinstance(items, list)
        mode = capacity_mode(request)
        token = request.get("ClientRequestToken")
        if isinstance(token, str) and not 1 <= len(token) <= 36:
            bound = "less than or equal to 36" if token else "greater than or equal to 1"
            raise ValidationError(
                f"1 validation error detected: Value '{token}' at 'clientRequestToken' failed to "
                f"satisfy constraint: Member must have length {bound}"
            )
        fingerprint = hashlib.sha256(json.dumps(items, sort_keys=True).encode()).hexdigest()
        engine = self._engine
        with engine.lock:
            now = time.monotonic()
            self._tokens = {
                k: v for k, v in self._tokens.items() if now - v[0] < _TOKEN_LIFETIME_SECONDS
            }
            if isinstance(token, str) and token in self._tokens:
                _, previous, response = self._tokens[token]
                if previous != fingerprint:
                    raise IdempotentParameterMismatchError(
                        "The request uses the same client token as a previous, but "
                        "non-identical request."
                    )
                return response
            plans = []
            for position, entry in enumerate(items):
                try:
                    plans.append(self._plan(entry))
                except _KeyRejected as exc:
                    # A key that does not fit its table cancels the transaction; DynamoDB
                    # names that item's reason and tries none of the others.
                    reasons: list[dict[str, Any]] = [{"Code": "None"} for _ in items]
                    reasons[position] = {"Code": "ValidationError", "Message": exc.message}
                    raise _canceled(reasons) from exc
            written = sum(item_size(p[5][1]) for p in plans if p[4] == "Put")
            if written > _MAX_TRANSACTION_BYTES:
                raise ValidationError(
                    f"Transaction request size cannot exceed 4 MB; aggregate item size: {written}"
                )
            keys = [(p[0].tid, p[1], p[2]) for p in plans]
            if len(set(keys)) != len(keys):
                raise ValidationError(
                    "Transaction request cannot include multiple operations on one item"
                )
            reasons, writes, capacities = self._evaluate(plans)
            if any(r["Code"] != "None" for r in reasons):
                raise _canceled(reasons)
            engine.commit(writes)
            result: dict[str, Any] = {}
            if mode != "NONE":
                result["ConsumedCapacity"] = _capacity_list(capacities, mode)
            if isinstance(token, str):
                self._tokens[token] = (now, fingerprint, result)
            return result

    def _plan(self, entry: object) -> tuple[TableState, bytes, bytes, dict[str, Any], str, Any]:
        """Validate one action fully (no reads yet): state, key, keys item, kind, parsed."""
        if not isinstance(entry, dict) or len(entry) != 1:
            raise ValidationError(
                "TransactItems can only contain one of Check, Put, Update or Delete"
            )
        kind, spec = next(iter(entry.items()))
        if kind not in ("ConditionCheck", "Put", "Delete", "Update"):
            raise ValidationError(
                "TransactItems can only contain one of Check, Put, Update or Delete"
            )
        state = self._engine.table(_requests.table_name(spec))
        table = state.definition
        fields = ["ConditionExpression"] + (["UpdateExpression"] if kind == "Update" else [])
        subs = _requests.substitutions(spec, *fields)
        condition = (
            parse_condition(spec["ConditionExpression"], "ConditionExpression", subs)
            if spec.get("ConditionExpression") is not None
            else None
        )
        if kind == "ConditionCheck" and condition is None:
            raise ValidationError(
                "The ConditionExpression must be specified for ConditionCheck operations"
            )
        update = None
        if kind == "Update":
            if spec.get("UpdateExpression") is None:
                raise ValidationError("UpdateExpression must be specified for Update operations")
            update = parse_update(spec["UpdateExpression"], subs)
        subs.check_all_used()
        on_failure = _requests.return_on_failure(spec)
        if kind == "Put":
            item = validate_item(spec.get("Item"))
            try:
                hk, rk = item_key(table, item)
            except ValidationError as exc:
                raise _KeyRejected(exc.message) from exc
            self._engine.check_indexes(table, item)
            check_item_size(item)
            keys = key_of(table, item)
            payload: Any = item
        else:
            try:
                keys, hk, rk = request_key(table, spec.get("Key"))
            except ValidationError as exc:
                raise _KeyRejected(exc.message) from exc
            payload = update
            check_keys_not_updated(update, keys)
        return state, hk, rk, keys, kind, (condition, payload, on_failure)

    def _evaluate(
        self, plans: list[tuple[TableState, bytes, bytes, dict[str, Any], str, Any]]
    ) -> tuple[list[dict[str, Any]], list[Write], dict[str, Capacity]]:
        reasons: list[dict[str, Any]] = []
        writes: list[Write] = []
        capacities: dict[str, Capacity] = {}
        for state, hk, rk, keys, kind, (condition, payload, on_failure) in plans:
            old = self._engine.load(state, hk, rk)
            capacity = capacities.setdefault(state.definition.name, Capacity(state.definition.name))
            reason: dict[str, Any] = {"Code": "None"}
            if not _passes(condition, old):
                reason = {
                    "Code": "ConditionalCheckFailed",
                    "Message": "The conditional request failed",
                }
                if on_failure and old is not None:
                    reason["Item"] = old
                reasons.append(reason)
                continue
            try:
                new = self._new_item(state, kind, payload, keys, old)
            except DynamoDBError as exc:
                reasons.append({"Code": "ValidationError", "Message": exc.message})
                continue
            reasons.append(reason)
            size = max(item_size(old or {}), item_size(new or {}))
            capacity.table += 2 * (
                write_units(size) if kind != "ConditionCheck" else read_units(size, True)
            )
            if kind != "ConditionCheck" and (old is not None or new is not None):
                writes.append(Write(state, hk, rk, keys, old, new))
        return reasons, writes, capacities

    def _new_item(
        self, state: TableState, kind: str, payload: Any, keys: dict[str, Any], old: Any
    ) -> Any:
        if kind == "ConditionCheck":
            return old
        if kind == "Delete":
            return None
        if kind == "Put":
            return payload
        new = apply_update(payload, old if old is not None else dict(keys))
        validate_item(new)
        self._engine.check_indexes(state.definition, new)
        check_item_size(new)
        return new

    def transact_get_items(self, request: dict[str, Any]) -> dict[str, Any]:
        items = request.get("TransactItems")
        _check_count(items, "transactItems")
        assert isinstance(items, list)
        mode = capacity_mode(request)
        engine = self._engine
        responses: list[dict[str, Any]] = []
        capacities: dict[str, Capacity] = {}
        with engine.lock:
            plans = []
            for entry in items:
                if not isinstance(entry, dict) or "Get" not in entry:
                    raise ValidationError("TransactItems can only contain Get operations")
                spec = entry["Get"]
                state = engine.table(_requests.table_name(spec))
                subs = _requests.substitutions(spec, "ProjectionExpression")
                paths = _requests.projection(spec, subs)
                subs.check_all_used()
                _, hk, rk = request_key(state.definition, spec.get("Key"))
                plans.append((state, hk, rk, paths))
            for state, hk, rk, paths in plans:
                item = engine.load(state, hk, rk)
                name = state.definition.name
                capacity = capacities.setdefault(name, Capacity(name))
                capacity.table += 2 * read_units(item_size(item or {}), True)
                if item is None:
                    responses.append({})
                else:
                    responses.append({"Item": project(item, paths) if paths is not None else item})
        result: dict[str, Any] = {"Responses": responses}
        if mode != "NONE":
            result["ConsumedCapacity"] = _capacity_list(capacities, mode)
        return result


class _KeyRejected(ValidationError):
    """A transaction item whose key does not fit its table: reported per item."""


def _canceled(reasons: list[dict[str, Any]]) -> TransactionCanceledError:
    codes = ", ".join(r["Code"] for r in reasons)
    return TransactionCanceledError(
        f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
        CancellationReasons=reasons,
    )


def _passes(condition: Condition | None, old: Any) -> bool:
    return condition is None or evaluate(condition, old or {})


def _check_count(items: object, member: str) -> None:
    if not isinstance(items, list) or not items:
        raise ValidationError(
            f"1 validation error detected: Value null at '{member}' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1"
        )
    if len(items) > _MAX_TRANSACT:
        raise ValidationError(
            f"1 validation error detected: Value '[...]' at '{member}' failed to satisfy "
            "constraint: Member must have length less than or equal to 100"
        )
