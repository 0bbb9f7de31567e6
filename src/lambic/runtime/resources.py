"""Declared resources: the tables and buckets an app says it uses, created locally.

`.lambic/config.json` may declare, at the top level or per stage (a stage's list
replaces the top-level one):

    "resources": {
      "dynamodb_tables": [ {CreateTable parameters: TableName, KeySchema, ...} ],
      "s3_buckets": [ {"Bucket": "name", "Website": {"IndexDocument": "index.html"}} ]
    }

Each table entry is exactly a `CreateTable` request, so the same document creates
the local table and (through the deployer) the `AWS::DynamoDB::Table`. `lambic local`
creates what is missing when it starts and leaves existing ones alone, so data
survives restarts and nobody runs a setup step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lambic.runtime.errors import ConfigError


@dataclass(frozen=True)
class DeclaredResources:
    tables: tuple[Mapping[str, Any], ...] = ()
    buckets: tuple[Mapping[str, Any], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.tables or self.buckets)


def declared_resources(raw_config: Mapping[str, Any], stage: str) -> DeclaredResources:
    """Read and check `resources` for `stage`; a `ConfigError` names the bad key."""
    stage_cfg = (raw_config.get("stages") or {}).get(stage) or {}
    if "resources" in stage_cfg:
        section, where = stage_cfg["resources"], f"stages.{stage}.resources"
    else:
        section, where = raw_config.get("resources") or {}, "resources"
    if not isinstance(section, Mapping):
        raise ConfigError(f"{where} must be an object with dynamodb_tables and s3_buckets lists")
    unknown = sorted(set(section) - {"dynamodb_tables", "s3_buckets"})
    if unknown:
        raise ConfigError(
            f"{where}.{unknown[0]} is not a resource kind; use dynamodb_tables or s3_buckets"
        )
    tables = _entries(section, "dynamodb_tables", where, "TableName")
    for index, table in enumerate(tables):
        for key in ("KeySchema", "AttributeDefinitions"):
            if not isinstance(table.get(key), list) or not table[key]:
                raise ConfigError(
                    f"{where}.dynamodb_tables[{index}].{key} must be a non-empty list, as in "
                    "a CreateTable request"
                )
    buckets = _entries(section, "s3_buckets", where, "Bucket")
    return DeclaredResources(tuple(tables), tuple(buckets))


def _entries(
    section: Mapping[str, Any], kind: str, where: str, name_key: str
) -> list[Mapping[str, Any]]:
    entries = section.get(kind) or []
    if not isinstance(entries, list):
        raise ConfigError(f"{where}.{kind} must be a list")
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where}.{kind}[{index}] must be an object")
        name = entry.get(name_key)
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{where}.{kind}[{index}].{name_key} must be a non-empty string")
    return list(entries)


def create_declared(resources: DeclaredResources, client: Any) -> list[str]:
    """Create missing tables and buckets through boto3-shaped clients; names created.

    `client(service)` returns a client for "dynamodb" or "s3". Existing resources are
    left as they are (their data is the point of persisting state).
    """
    created: list[str] = []
    if resources.tables:
        dynamodb = client("dynamodb")
        existing = set(dynamodb.list_tables().get("TableNames", []))
        for table in resources.tables:
            if table["TableName"] not in existing:
                dynamodb.create_table(**table)
                created.append(f"table {table['TableName']}")
    if resources.buckets:
        s3 = client("s3")
        existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        for bucket in resources.buckets:
            if bucket["Bucket"] not in existing:
                s3.create_bucket(Bucket=bucket["Bucket"])
                created.append(f"bucket {bucket['Bucket']}")
    return created
