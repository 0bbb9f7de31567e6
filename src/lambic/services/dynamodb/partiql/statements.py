"""Running parsed PartiQL statements as the engine's own requests (see the package doc)."""

from __future__ import annotations

import base64
import json
from typing import Any

from lambic.services.dynamodb import reads
from lambic.services.dynamodb.batches import TransactionRunner
from lambic.services.dynamodb.engine import DynamoDBEngine
from lambic.services.dynamodb.errors import (
    ConditionalCheckFailedError,
    DuplicateItemError,
    DynamoDBError,
    TransactionCanceledError,
    ValidationError,
)
from lambic.services.dynamodb.partiql.parser import Statement, Term, parse

_MAX_BATCH = 25
_MAX_TRANSACTION = 100
# BatchExecuteStatement reports each statement's failure by these codes.
_BATCH_CODES = {
    "ConditionalCheckFailedException": "ConditionalCheckFailed",
    "DuplicateItemException": "DuplicateItem",
    "ValidationException": "ValidationError",
    "ResourceNotFoundException": "ResourceNotFound",
    "TransactionConflictException": "TransactionConflict",
}


class PartiQL:
    """The three PartiQL operations over an engine and its transaction runner."""

    def __init__(self, engine: DynamoDBEngine, transactions: TransactionRunner) -> None:
        self._engine = engine
        self._transactions = transactions

    def execute_statement(self, request: dict[str, Any]) -> dict[str, Any]:
        statement = parse(request.get("Statement"), request.get("Parameters"))
        if statement.kind == "SELECT":
            return self._select(statement, request)
        return self._write(statement, request)

    def batch_execute_statement(self, request: dict[str, Any]) -> dict[str, Any]:
        entries = request.get("Statements")
        if not isinstance(entries, list) or not 1 <= len(entries) <= _MAX_BATCH:
            raise ValidationError(
                "1 validation error detected: Value at 'statements' failed to satisfy "
                f"constraint: Member must have length between 1 and {_MAX_BATCH}"
            )
        responses: list[dict[str, Any]] = []
        for entry in entries:
            entry = entry if isinstance(entry, dict) else {}
            try:
                statement = parse(entry.get("Statement"), entry.get("Parameters"))
            except DynamoDBError as error:
                responses.append({"Error": _batch_error(error)})
                continue
            response: dict[str, Any] = {"TableName": statement.table}
            try:
                if statement.kind == "SELECT":
                    got = self._engine.get_item(_get_request(self._engine, statement, entry))
                    if "Item" in got:
                        response["Item"] = got["Item"]
                else:
                    self._write(statement, entry)
            except DynamoDBError as error:
                response["Error"] = _batch_error(error)
            responses.append(response)
        return {"Responses": responses}

    def execute_transaction(self, request: dict[str, Any]) -> dict[str, Any]:
        entries = request.get("TransactStatements")
        if not isinstance(entries, list) or not 1 <= len(entries) <= _MAX_TRANSACTION:
            raise ValidationError(
                "1 validation error detected: Value at 'transactStatements' failed to satisfy "
                f"constraint: Member must have length between 1 and {_MAX_TRANSACTION}"
            )
        statements = [
            parse(e.get("Statement"), e.get("Parameters")) if isinstance(e, dict) else None
            for e in entries
        ]
        if any(s is None for s in statements):
            raise ValidationError("TransactStatements must hold Statement objects")
        kinds = {s.kind == "SELECT" for s in statements if s is not None}
        if len(kinds) > 1:
            raise ValidationError(
                "Transaction must contain either all reads (SELECT) or all writes"
            )
        extra = {k: request[k] for k in ("ReturnConsumedCapacity",) if k in request}
        if kinds == {True}:
            gets = [{"Get": _get_request(self._engine, s, {})} for s in statements if s is not None]
            result = self._transactions.transact_get_items({"TransactItems": gets, **extra})
            return {"Responses": result["Responses"], **_capacity(result)}
        writes = [_transact_write(self._engine, s) for s in statements if s is not None]
        token = (
            {"ClientRequestToken": request["ClientRequestToken"]}
            if "ClientRequestToken" in request
            else {}
        )
        try:
            result = self._transactions.transact_write_items(
                {"TransactItems": writes, **token, **extra}
            )
        except TransactionCanceledError as error:
            # An INSERT's failed "no such item" condition is PartiQL's DuplicateItem.
            reasons = error.extra.get("CancellationReasons", [])
            for reason, statement in zip(reasons, statements, strict=False):
                if (
                    statement is not None
                    and statement.kind == "INSERT"
                    and reason.get("Code") == "ConditionalCheckFailed"
                ):
                    reason["Code"] = "DuplicateItem"
                    reason["Message"] = "Duplicate primary key exists in table"
            codes = ", ".join(str(r.get("Code")) for r in reasons)
            raise TransactionCanceledError(
                "Transaction cancelled, please refer cancellation reasons for specific "
                f"reasons [{codes}]",
                CancellationReasons=reasons,
            ) from error
        return _capacity(result)

    # ---- one statement ------------------------------------------------------------------

    def _select(self, statement: Statement, request: dict[str, Any]) -> dict[str, Any]:
        engine = self._engine
        table = engine.table(statement.table).definition
        hash_name, range_name = table.hash_key, table.range_key
        if statement.index is not None:
            index = table.indexes.get(statement.index)
            if index is None:
                raise ValidationError(
                    f"The table does not have the specified index: {statement.index}"
                )
            hash_name, range_name = index.hash_key, index.range_key
        out = statement.placeholders
        query: dict[str, Any] = {"TableName": statement.table}
        if statement.index is not None:
            query["IndexName"] = statement.index
        if statement.projection is not None:
            query["ProjectionExpression"] = ", ".join(out.path(p) for p in statement.projection)
        for field in ("ConsistentRead", "Limit", "ReturnConsumedCapacity"):
            if field in request:
                query[field] = request[field]
        if request.get("NextToken") is not None:
            query["ExclusiveStartKey"] = _decode_token(request["NextToken"])
        keys, rest = _key_terms(statement.where, hash_name, range_name, exact=False)
        use_query = hash_name in keys and not any(
            hash_name in t.heads or (range_name is not None and range_name in t.heads) for t in rest
        )
        if use_query:
            query["KeyConditionExpression"] = " AND ".join(t.text for t in keys.values())
            filters = rest
        else:
            filters = statement.where
        if filters:
            query["FilterExpression"] = " AND ".join(t.text for t in filters)
        _add_placeholders(query, statement)
        result = reads.query(engine, query) if use_query else reads.scan(engine, query)
        answer: dict[str, Any] = {"Items": result.get("Items", [])}
        if "LastEvaluatedKey" in result:
            answer["NextToken"] = _encode_token(result["LastEvaluatedKey"])
            answer["LastEvaluatedKey"] = result["LastEvaluatedKey"]
        return {**answer, **_capacity(result)}

    def _write(self, statement: Statement, request: dict[str, Any]) -> dict[str, Any]:
        engine = self._engine
        write = _write_request(engine, statement)
        for field in ("ReturnConsumedCapacity", "ReturnValuesOnConditionCheckFailure"):
            if field in request:
                write[field] = request[field]
        if statement.kind == "INSERT":
            try:
                result = engine.put_item(write)
            except ConditionalCheckFailedError as error:
                raise DuplicateItemError("Duplicate primary key exists in table") from error
        elif statement.kind == "UPDATE":
            result = engine.update_item(write)
        else:
            result = engine.delete_item(write)
        items = [result["Attributes"]] if statement.returning and "Attributes" in result else []
        return {"Items": items, **_capacity(result)}


# ---- translation ------------------------------------------------------------------------


def _key_terms(
    terms: list[Term], hash_name: str, range_name: str | None, *, exact: bool
) -> tuple[dict[str, Term], list[Term]]:
    """The terms that constrain the key (hash `=`, and one range comparison or, with
    `exact`, a range `=`) and the rest."""
    keys: dict[str, Term] = {}
    rest: list[Term] = []
    for term in terms:
        path = term.path
        name = str(path[0]) if path is not None and len(path) == 1 else None
        if name == hash_name and term.op == "=" and hash_name not in keys:
            keys[hash_name] = term
        elif (
            name is not None
            and name == range_name
            and range_name not in keys
            and term.op in (("=",) if exact else ("=", "<", "<=", ">", ">="))
        ):
            keys[range_name] = term
        else:
            rest.append(term)
    return keys, rest


def _full_key(engine: DynamoDBEngine, statement: Statement) -> tuple[dict[str, Any], list[Term]]:
    table = engine.table(statement.table).definition
    keys, rest = _key_terms(statement.where, table.hash_key, table.range_key, exact=True)
    if set(keys) != set(table.key_names()):
        raise ValidationError(
            "Where clause does not contain a mandatory equality on all key attributes"
        )
    return {name: term.value for name, term in keys.items()}, rest


def _write_request(engine: DynamoDBEngine, statement: Statement) -> dict[str, Any]:
    table = engine.table(statement.table).definition
    out = statement.placeholders
    write: dict[str, Any] = {"TableName": statement.table}
    if statement.kind == "INSERT":
        assert statement.item is not None
        write["Item"] = statement.item["M"]
        write["ConditionExpression"] = f"attribute_not_exists({out.name(table.hash_key)})"
        _add_placeholders(write, statement)
        return write
    key, rest = _full_key(engine, statement)
    write["Key"] = key
    conditions = [t.text for t in rest]
    if statement.kind == "UPDATE":
        conditions.insert(0, f"attribute_exists({out.name(table.hash_key)})")
        parts = []
        if statement.sets:
            parts.append("SET " + ", ".join(f"{out.path(p)} = {v}" for p, v in statement.sets))
        if statement.removes:
            parts.append("REMOVE " + ", ".join(out.path(p) for p in statement.removes))
        write["UpdateExpression"] = " ".join(parts)
    if conditions:
        write["ConditionExpression"] = " AND ".join(conditions)
    if statement.returning is not None:
        if statement.kind == "DELETE" and statement.returning != "ALL_OLD":
            raise ValidationError("DELETE can only return ALL OLD *")
        write["ReturnValues"] = statement.returning
    _add_placeholders(write, statement)
    return write


def _get_request(
    engine: DynamoDBEngine, statement: Statement, entry: dict[str, Any]
) -> dict[str, Any]:
    """A SELECT naming one item by its full key, as a GetItem request."""
    key, rest = _full_key(engine, statement)
    if rest or statement.index is not None:
        raise ValidationError("Only a SELECT with equality on all key attributes can be used here")
    get: dict[str, Any] = {"TableName": statement.table, "Key": key}
    if statement.projection is not None:
        out = statement.placeholders
        get["ProjectionExpression"] = ", ".join(out.path(p) for p in statement.projection)
    if entry.get("ConsistentRead") is not None:
        get["ConsistentRead"] = entry["ConsistentRead"]
    _add_placeholders(get, statement, projection_only=True)
    return get


def _transact_write(engine: DynamoDBEngine, statement: Statement) -> dict[str, Any]:
    write = _write_request(engine, statement)
    write.pop("ReturnValues", None)
    action = {"INSERT": "Put", "UPDATE": "Update", "DELETE": "Delete"}[statement.kind]
    return {action: write}


def _add_placeholders(
    request: dict[str, Any], statement: Statement, *, projection_only: bool = False
) -> None:
    """Only the names and values the request's expressions use (AWS refuses others)."""
    text = " ".join(
        str(request.get(f, ""))
        for f in (
            "KeyConditionExpression",
            "FilterExpression",
            "ProjectionExpression",
            "ConditionExpression",
            "UpdateExpression",
        )
    )
    out = statement.placeholders
    names = {k: v for k, v in out.names.items() if _mentions(text, k)}
    values = {k: v for k, v in out.values.items() if _mentions(text, k)}
    if names:
        request["ExpressionAttributeNames"] = names
    if values and not projection_only:
        request["ExpressionAttributeValues"] = values


def _mentions(text: str, placeholder: str) -> bool:
    """Whether `text` uses `placeholder` as a whole token (#n1 is not #n10)."""
    start = text.find(placeholder)
    while start != -1:
        end = start + len(placeholder)
        if end == len(text) or not (text[end].isalnum() or text[end] == "_"):
            return True
        start = text.find(placeholder, end)
    return False


def _capacity(result: dict[str, Any]) -> dict[str, Any]:
    return {"ConsumedCapacity": result["ConsumedCapacity"]} if "ConsumedCapacity" in result else {}


def _encode_token(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode()


def _decode_token(token: object) -> dict[str, Any]:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(str(token).encode()))
    except (ValueError, TypeError) as exc:
        raise ValidationError("Invalid NextToken") from exc
    if not isinstance(decoded, dict):
        raise ValidationError("Invalid NextToken")
    return decoded


def _batch_error(error: DynamoDBError) -> dict[str, Any]:
    return {"Code": _BATCH_CODES.get(error.code, error.code), "Message": error.message}
