"""Table definitions: validating CreateTable/UpdateTable input and describing tables.

A `TableDefinition` is what DynamoDB knows about a table apart from its items: key
schema, attribute types of key attributes, secondary indexes, billing, stream. It is
stored as JSON (`to_json`/`from_json`) and rendered as AWS's TableDescription.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from lambic.project.account import LOCAL_ACCOUNT_ID, LOCAL_REGION
from lambic.services.dynamodb.errors import SerializationError, ValidationError

_TABLE_NAME = re.compile(r"[a-zA-Z0-9_.-]+")
_KEY_TYPES = frozenset({"S", "N", "B"})
# DynamoDB's multi-attribute GSI keys: up to 4 HASH and 4 RANGE attributes.
_MAX_KEY_ATTRIBUTES = 4
_MAX_INDEX_KEYS = 2 * _MAX_KEY_ATTRIBUTES
_MAX_KEY_NAME_BYTES = 255
_STREAM_VIEW_TYPES = frozenset({"KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"})


@dataclass
class IndexDefinition:
    """A GSI or LSI: its key attributes and which attributes it projects.

    A GSI's partition and sort keys may each be up to four attributes (DynamoDB's
    multi-attribute keys); an LSI, like a table, has one of each.
    """

    name: str
    kind: str  # "GSI" | "LSI"
    hash_keys: list[str]
    range_keys: list[str]
    projection: dict[str, Any]
    throughput: dict[str, int] | None = None

    @property
    def multi_attribute(self) -> bool:
        return len(self.hash_keys) > 1 or len(self.range_keys) > 1

    def key_attributes(self) -> list[str]:
        # A fresh list: callers may extend it.
        return [*self.hash_keys, *self.range_keys]

    def key_schema(self) -> list[dict[str, str]]:
        return [{"AttributeName": n, "KeyType": "HASH"} for n in self.hash_keys] + [
            {"AttributeName": n, "KeyType": "RANGE"} for n in self.range_keys
        ]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IndexDefinition:
        if "hash_key" in data:  # stored before multi-attribute keys
            data = dict(data)
            data["hash_keys"] = [data.pop("hash_key")]
            range_key = data.pop("range_key")
            data["range_keys"] = [range_key] if range_key else []
        return cls(**data)


@dataclass
class TableDefinition:
    name: str
    hash_key: str
    range_key: str | None
    attribute_types: dict[str, str]
    billing_mode: str
    throughput: dict[str, int]
    created: float
    table_id: str
    indexes: dict[str, IndexDefinition] = field(default_factory=dict)
    stream_view_type: str | None = None
    stream_label: str | None = None
    deletion_protection: bool = False
    ttl_attribute: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return f"arn:aws:dynamodb:{LOCAL_REGION}:{LOCAL_ACCOUNT_ID}:table/{self.name}"

    @property
    def stream_arn(self) -> str | None:
        if self.stream_label is None:
            return None
        return f"{self.arn}/stream/{self.stream_label}"

    def key_names(self) -> list[str]:
        # A fresh list: callers may extend it.
        return [self.hash_key, self.range_key] if self.range_key else [self.hash_key]

    def key_schema(self) -> list[dict[str, str]]:
        schema = [{"AttributeName": self.hash_key, "KeyType": "HASH"}]
        if self.range_key:
            schema.append({"AttributeName": self.range_key, "KeyType": "RANGE"})
        return schema

    def enable_stream(self, view_type: str) -> None:
        self.stream_view_type = view_type
        # AWS labels a stream with its creation time to the millisecond.
        now = time.time()
        self.stream_label = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + (
            f".{int(now * 1000) % 1000:03d}"
        )

    def describe(self, status: str, item_count: int, size_bytes: int) -> dict[str, Any]:
        description: dict[str, Any] = {
            "AttributeDefinitions": [
                {"AttributeName": n, "AttributeType": t} for n, t in self.attribute_types.items()
            ],
            "TableName": self.name,
            "KeySchema": self.key_schema(),
            "TableStatus": status,
            "CreationDateTime": self.created,
            "ProvisionedThroughput": {
                "NumberOfDecreasesToday": 0,
                "ReadCapacityUnits": self.throughput.get("ReadCapacityUnits", 0),
                "WriteCapacityUnits": self.throughput.get("WriteCapacityUnits", 0),
            },
            "TableSizeBytes": size_bytes,
            "ItemCount": item_count,
            "TableArn": self.arn,
            "TableId": self.table_id,
            "DeletionProtectionEnabled": self.deletion_protection,
        }
        if self.billing_mode == "PAY_PER_REQUEST":
            description["BillingModeSummary"] = {
                "BillingMode": "PAY_PER_REQUEST",
                "LastUpdateToPayPerRequestDateTime": self.created,
            }
        gsis, lsis = [], []
        for index in self.indexes.values():
            entry: dict[str, Any] = {
                "IndexName": index.name,
                "KeySchema": index.key_schema(),
                "Projection": index.projection,
                "IndexSizeBytes": 0,
                "ItemCount": 0,
                "IndexArn": f"{self.arn}/index/{index.name}",
            }
            if index.kind == "GSI":
                entry["IndexStatus"] = status if status != "ACTIVE" else "ACTIVE"
                entry["ProvisionedThroughput"] = {
                    "NumberOfDecreasesToday": 0,
                    "ReadCapacityUnits": (index.throughput or {}).get("ReadCapacityUnits", 0),
                    "WriteCapacityUnits": (index.throughput or {}).get("WriteCapacityUnits", 0),
                }
                gsis.append(entry)
            else:
                lsis.append(entry)
        if gsis:
            description["GlobalSecondaryIndexes"] = gsis
        if lsis:
            description["LocalSecondaryIndexes"] = lsis
        if self.stream_view_type is not None:
            description["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": self.stream_view_type,
            }
        if self.stream_label is not None:
            description["LatestStreamLabel"] = self.stream_label
            description["LatestStreamArn"] = self.stream_arn
        return description

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "hash_key": self.hash_key,
            "range_key": self.range_key,
            "attribute_types": self.attribute_types,
            "billing_mode": self.billing_mode,
            "throughput": self.throughput,
            "created": self.created,
            "table_id": self.table_id,
            "indexes": [vars(index) for index in self.indexes.values()],
            "stream_view_type": self.stream_view_type,
            "stream_label": self.stream_label,
            "deletion_protection": self.deletion_protection,
            "ttl_attribute": self.ttl_attribute,
            "tags": self.tags,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TableDefinition:
        indexes = {i["name"]: IndexDefinition.from_json(i) for i in data.pop("indexes")}
        return cls(indexes=indexes, **data)


# ---- validation of CreateTable / UpdateTable input ----------------------------------


def validate_table_name(name: object, member: str = "tableName") -> str:
    if not isinstance(name, str):
        raise ValidationError(
            f"1 validation error detected: Value null at '{member}' failed to satisfy "
            "constraint: Member must not be null"
        )
    if member == "tableName" and name.startswith("arn:") and ":table/" in name:
        # AWS accepts a table ARN wherever a TableName goes.
        name = name.split(":table/", 1)[1]
    if len(name) < 3 or len(name) > 255:
        bound = "greater than or equal to 3" if len(name) < 3 else "less than or equal to 255"
        raise ValidationError(
            f"1 validation error detected: Value '{name}' at '{member}' failed to satisfy "
            f"constraint: Member must have length {bound}"
        )
    if not _TABLE_NAME.fullmatch(name):
        raise ValidationError(
            f"1 validation error detected: Value '{name}' at '{member}' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )
    return name


def _key_schema(schema: object, where: str) -> tuple[str, str | None]:
    if not isinstance(schema, list) or not schema:
        raise ValidationError(
            f"1 validation error detected: Value null at '{where}' failed to satisfy "
            "constraint: Member must not be null"
        )
    if len(schema) > 2:
        raise ValidationError(
            f"1 validation error detected: Value '{schema}' at '{where}' failed to satisfy "
            "constraint: Member must have length less than or equal to 2"
        )
    types = [element.get("KeyType") for element in schema]
    names = [element.get("AttributeName") for element in schema]
    if types[0] != "HASH":
        raise ValidationError(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"
        )
    if len(schema) == 2 and types[1] != "RANGE":
        raise ValidationError(
            "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"
        )
    if len(schema) == 2 and names[0] == names[1]:
        raise ValidationError(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name"
        )
    return str(names[0]), (str(names[1]) if len(schema) == 2 else None)


def _projection(projection: object) -> dict[str, Any]:
    if not isinstance(projection, dict) or "ProjectionType" not in projection:
        raise ValidationError(
            "One or more parameter values were invalid: Unknown ProjectionType: null"
        )
    kind = projection["ProjectionType"]
    if kind not in ("ALL", "KEYS_ONLY", "INCLUDE"):
        raise ValidationError(
            f"One or more parameter values were invalid: Unknown ProjectionType: {kind}"
        )
    if kind == "INCLUDE" and not projection.get("NonKeyAttributes"):
        raise ValidationError(
            "One or more parameter values were invalid: ProjectionType is INCLUDE, but "
            "NonKeyAttributes is not specified"
        )
    names = projection.get("NonKeyAttributes") or []
    if not all(isinstance(name, str) for name in names):
        # AWS's deserializer refuses a non-string here before any validation.
        raise SerializationError("NUMBER_VALUE cannot be converted to String")
    if len(set(names)) != len(names):
        duplicates = sorted({n for n in names if names.count(n) > 1})
        raise ValidationError(
            "One or more parameter values were invalid: Duplicate attribute names in "
            f"NonKeyAttributes: [{', '.join(duplicates)}]"
        )
    if kind != "INCLUDE" and projection.get("NonKeyAttributes"):
        raise ValidationError(
            "One or more parameter values were invalid: ProjectionType is "
            f"{kind}, but NonKeyAttributes is specified"
        )
    return {
        "ProjectionType": kind,
        **({"NonKeyAttributes": list(projection["NonKeyAttributes"])} if kind == "INCLUDE" else {}),
    }


def _throughput(request: dict[str, Any], billing: str, what: str) -> dict[str, int]:
    given = request.get("ProvisionedThroughput")
    if billing == "PAY_PER_REQUEST":
        if given:
            raise ValidationError(
                "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
                "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"
            )
        return {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
    if not given:
        raise ValidationError(f"One or more parameter values were invalid: {what}")
    return {
        "ReadCapacityUnits": int(given.get("ReadCapacityUnits", 0)),
        "WriteCapacityUnits": int(given.get("WriteCapacityUnits", 0)),
    }


def parse_attribute_definitions(definitions: object) -> dict[str, str]:
    if not isinstance(definitions, list):
        raise ValidationError(
            "1 validation error detected: Value null at 'attributeDefinitions' failed to "
            "satisfy constraint: Member must not be null"
        )
    types: dict[str, str] = {}
    for definition in definitions:
        name, kind = definition.get("AttributeName"), definition.get("AttributeType")
        if kind not in _KEY_TYPES:
            raise ValidationError(
                f"1 validation error detected: Value '{kind}' at "
                "'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: "
                "Member must satisfy enum value set: [B, N, S]"
            )
        if name in types:
            raise ValidationError(
                "One or more parameter values were invalid: Duplicate AttributeName in "
                f"AttributeDefinitions: {name}"
            )
        types[str(name)] = kind
    return types


def _gsi_key_schema(schema: object) -> tuple[list[str], list[str]]:
    """A GSI's HASH and RANGE attribute names: up to four of each, all HASH first."""
    if not isinstance(schema, list) or not schema:
        raise ValidationError(
            "1 validation error detected: Value null at 'keySchema' failed to satisfy "
            "constraint: Member must not be null"
        )
    if len(schema) <= 2 and all(e.get("KeyType") != "HASH" for e in schema[1:]):
        # The classic shape (one HASH, optional RANGE) keeps the classic messages.
        hash_key, range_key = _key_schema(schema, "keySchema")
        return [hash_key], [range_key] if range_key else []
    if len(schema) > _MAX_INDEX_KEYS:
        raise ValidationError(
            f"1 validation error detected: Value '{schema}' at 'keySchema' failed to satisfy "
            f"constraint: Member must have length less than or equal to {_MAX_INDEX_KEYS}"
        )
    types = [element.get("KeyType") for element in schema]
    names = [str(element.get("AttributeName")) for element in schema]
    if types[0] != "HASH":
        raise ValidationError(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"
        )
    for kind in types:
        if kind not in ("HASH", "RANGE"):
            raise ValidationError(
                f"1 validation error detected: Value '{kind}' at 'keySchema.member.keyType' "
                "failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]"
            )
    hashes = types.count("HASH")
    if types[:hashes] != ["HASH"] * hashes:
        raise ValidationError(
            "Invalid KeySchema: All HASH KeySchemaElements must precede all RANGE KeySchemaElements"
        )
    for kind, count in (("HASH", hashes), ("RANGE", len(types) - hashes)):
        if count > _MAX_KEY_ATTRIBUTES:
            raise ValidationError(
                f"Invalid KeySchema: A KeySchema may contain at most {_MAX_KEY_ATTRIBUTES} "
                f"{kind} KeySchemaElements; found {count}"
            )
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValidationError(
                f"Invalid KeySchema: Two KeySchemaElements have the same name: {name}"
            )
        seen.add(name)
    return names[:hashes], names[hashes:]


def parse_index(raw: dict[str, Any], kind: str, billing: str) -> IndexDefinition:
    name = validate_table_name(raw.get("IndexName"), "indexName")
    if kind == "GSI":
        hash_keys, range_keys = _gsi_key_schema(raw.get("KeySchema"))
    else:
        hash_key, range_key = _key_schema(raw.get("KeySchema"), "keySchema")
        hash_keys, range_keys = [hash_key], [range_key] if range_key else []
    throughput = None
    if kind == "GSI":
        throughput = _throughput(
            raw,
            billing,
            f"ProvisionedThroughput is not specified for index: {name}",
        )
    return IndexDefinition(
        name, kind, hash_keys, range_keys, _projection(raw.get("Projection")), throughput
    )


def parse_stream_specification(spec: object) -> str | None:
    if not isinstance(spec, dict) or not spec.get("StreamEnabled"):
        return None
    view_type = spec.get("StreamViewType")
    if view_type not in _STREAM_VIEW_TYPES:
        raise ValidationError(
            "One or more parameter values were invalid: StreamViewType is required when "
            "StreamEnabled is true"
            if view_type is None
            else f"1 validation error detected: Value '{view_type}' at "
            "'streamSpecification.streamViewType' failed to satisfy constraint: Member must "
            "satisfy enum value set: [NEW_AND_OLD_IMAGES, NEW_IMAGE, OLD_IMAGE, KEYS_ONLY]"
        )
    return str(view_type)


def check_name_lengths(request: dict[str, Any]) -> None:
    """Key and projected attribute names are at most 255 bytes (botocore's bounds).

    AWS checks these before anything else and reports every one, as its request
    validator does ("N validation errors detected: ...").
    """
    errors: list[str] = []

    def too_long(name: object) -> bool:
        return isinstance(name, str) and len(name.encode()) > _MAX_KEY_NAME_BYTES

    def key_schema(schema: object, where: str) -> None:
        for position, element in enumerate(schema if isinstance(schema, list) else [], 1):
            name = element.get("AttributeName") if isinstance(element, dict) else None
            if too_long(name):
                errors.append(
                    f"Value '{name}' at '{where}.{position}.member.attributeName' failed to "
                    "satisfy constraint: Member must have length less than or equal to 255"
                )

    def index(raw: object, where: str) -> None:
        if not isinstance(raw, dict):
            return
        key_schema(raw.get("KeySchema"), f"{where}.keySchema")
        projection = raw.get("Projection")
        names = projection.get("NonKeyAttributes") if isinstance(projection, dict) else None
        if isinstance(names, list) and any(too_long(n) for n in names):
            errors.append(
                f"Value '{names}' at '{where}.projection.nonKeyAttributes' failed to satisfy "
                "constraint: Member must satisfy constraint: [Member must have length less "
                "than or equal to 255, Member must have length greater than or equal to 1]"
            )

    key_schema(request.get("KeySchema"), "keySchema")
    definitions = request.get("AttributeDefinitions")
    for position, element in enumerate(definitions if isinstance(definitions, list) else [], 1):
        name = element.get("AttributeName") if isinstance(element, dict) else None
        if too_long(name):
            errors.append(
                f"Value '{name}' at 'attributeDefinitions.{position}.member.attributeName' "
                "failed to satisfy constraint: Member must have length less than or equal to 255"
            )
    for key, member in (
        ("GlobalSecondaryIndexes", "globalSecondaryIndexes"),
        ("LocalSecondaryIndexes", "localSecondaryIndexes"),
    ):
        for position, raw in enumerate(request.get(key) or [], 1):
            index(raw, f"{member}.{position}.member")
    for position, update in enumerate(request.get("GlobalSecondaryIndexUpdates") or [], 1):
        if isinstance(update, dict):
            index(update.get("Create"), f"globalSecondaryIndexUpdates.{position}.member.create")
    if errors:
        count = "1 validation error" if len(errors) == 1 else f"{len(errors)} validation errors"
        raise ValidationError(f"{count} detected: " + "; ".join(errors))


def parse_create_table(request: dict[str, Any]) -> TableDefinition:
    """A validated definition from CreateTable input, or AWS's ValidationException."""
    check_name_lengths(request)
    name = validate_table_name(request.get("TableName"))
    types = parse_attribute_definitions(request.get("AttributeDefinitions"))
    hash_key, range_key = _key_schema(request.get("KeySchema"), "keySchema")
    billing = request.get("BillingMode", "PROVISIONED")
    if billing not in ("PROVISIONED", "PAY_PER_REQUEST"):
        raise ValidationError(
            f"1 validation error detected: Value '{billing}' at 'billingMode' failed to satisfy "
            "constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"
        )
    throughput = _throughput(
        request,
        billing,
        "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode "
        "is PROVISIONED",
    )
    table = TableDefinition(
        name=name,
        hash_key=hash_key,
        range_key=range_key,
        attribute_types=types,
        billing_mode=billing,
        throughput=throughput,
        created=round(time.time(), 3),
        table_id=str(uuid.uuid4()),
        deletion_protection=bool(request.get("DeletionProtectionEnabled", False)),
    )
    for raw in request.get("LocalSecondaryIndexes") or []:
        index = parse_index(raw, "LSI", billing)
        if not index.range_keys:
            raise ValidationError(
                "One or more parameter values were invalid: Index KeySchema does not have a "
                f"range key for index: {index.name}"
            )
        if index.hash_keys != [hash_key] or range_key is None:
            raise ValidationError(
                "One or more parameter values were invalid: Table KeySchema does not have a "
                "range key, which is required when specifying a LocalSecondaryIndex"
                if range_key is None
                else "One or more parameter values were invalid: Index KeySchema does not have "
                "the same leading hash key as table KeySchema for index: " + index.name
            )
        _add_index(table, index)
    for raw in request.get("GlobalSecondaryIndexes") or []:
        _add_index(table, parse_index(raw, "GSI", billing))
    check_attribute_definitions(table)
    view_type = parse_stream_specification(request.get("StreamSpecification"))
    if view_type is not None:
        table.enable_stream(view_type)
    return table


def _add_index(table: TableDefinition, index: IndexDefinition) -> None:
    if index.name in table.indexes:
        raise ValidationError(
            f"One or more parameter values were invalid: Duplicate index name: {index.name}"
        )
    table.indexes[index.name] = index


def check_attribute_definitions(table: TableDefinition) -> None:
    """Every key attribute must be defined, and nothing else (AWS's rule)."""
    used = set(table.key_names())
    for index in table.indexes.values():
        used.update(index.key_attributes())
    defined = set(table.attribute_types)
    missing = sorted(used - defined)
    if missing:
        raise ValidationError(
            "One or more parameter values were invalid: Some index key attributes are not "
            f"defined in AttributeDefinitions. Keys: [{', '.join(missing)}], "
            f"AttributeDefinitions: [{', '.join(sorted(defined))}]"
        )
    if defined - used:
        raise ValidationError(
            "One or more parameter values were invalid: Number of attributes in KeySchema does "
            "not exactly match number of attributes defined in AttributeDefinitions"
        )
