"""Declared resources: the tables and buckets an app says it uses, read and checked.

`.lambic/config.json` may declare, at the top level or per stage (a stage's list
replaces the top-level one):

    "resources": {
      "dynamodb_tables": [ {CreateTable parameters: TableName, KeySchema, ...} ],
      "s3_buckets": [ {"Bucket": "name", "Website": {"IndexDocument": "index.html"}} ]
    }

Each table entry is exactly a `CreateTable` request, so the same document creates
the local table (`lambic local`) and the `AWS::DynamoDB::Table` (`lambic deploy`).
This module only reads and checks them; each side creates them its own way.

    >>> parse_resources({"s3_buckets": [{"Bucket": "site"}]}).bucket_names()
    ['site']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lambic.project.errors import ConfigError

__all__ = ["RESOURCE_KINDS", "DeclaredResources", "parse_resources"]

#: The kinds `resources` may hold, each a list of AWS create requests.
RESOURCE_KINDS = ("dynamodb_tables", "s3_buckets")


@dataclass(frozen=True)
class DeclaredResources:
    """Checked `resources` entries, as written (each an AWS create request)."""

    tables: tuple[Mapping[str, Any], ...] = ()
    buckets: tuple[Mapping[str, Any], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.tables or self.buckets)

    def bucket_names(self) -> list[str]:
        return [str(bucket["Bucket"]) for bucket in self.buckets]

    @staticmethod
    def index_document(bucket: Mapping[str, Any]) -> str | None:
        """A bucket entry's website index document, in either of S3's spellings."""
        website = bucket.get("Website") or {}
        index = website.get("IndexDocument") if isinstance(website, Mapping) else None
        if isinstance(index, Mapping):  # the S3 API's own spelling: {"Suffix": "index.html"}
            index = index.get("Suffix")
        return str(index) if index else None


def parse_resources(section: object, where: str = "resources") -> DeclaredResources:
    """Check one `resources` object; a `ConfigError` names the bad key by its JSON path."""
    if not isinstance(section, Mapping):
        raise ConfigError(f"{where} must be an object with dynamodb_tables and s3_buckets lists")
    unknown = sorted(set(section) - set(RESOURCE_KINDS))
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
