"""Declared resources (`resources` in `.lambic/config.json`): tables and buckets the app owns.

docs/internals.md §4: each `dynamodb_tables` entry is exactly a DynamoDB `CreateTable`
request; each `s3_buckets` entry is `{"Bucket": name, "Website": {"IndexDocument": ...}}`.
They become `TableResource` / `BucketResource` in the graph; SAM maps them onto
`AWS::DynamoDB::Table` / `AWS::S3::Bucket`, Terraform onto `aws_dynamodb_table` /
`aws_s3_bucket`, and `lambic deploy` creates them before the functions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lambic.project.resources import DeclaredResources


@dataclass(frozen=True)
class TableResource:
    name: str
    definition: str  # canonical JSON of the CreateTable request


@dataclass(frozen=True)
class BucketResource:
    name: str
    index_document: str | None


def declared_tables(declared: DeclaredResources) -> tuple[TableResource, ...]:
    """The declared tables (already checked by `lambic.project.resources`)."""
    return tuple(
        TableResource(
            str(entry["TableName"]), json.dumps(entry, sort_keys=True, separators=(",", ":"))
        )
        for entry in declared.tables
    )


def declared_buckets(declared: DeclaredResources) -> tuple[BucketResource, ...]:
    """The declared buckets with their website index document, if any."""
    return tuple(
        BucketResource(str(entry["Bucket"]), DeclaredResources.index_document(entry))
        for entry in declared.buckets
    )


def cfn_table_properties(definition: dict[str, Any]) -> dict[str, Any]:
    """CreateTable request → `AWS::DynamoDB::Table` properties (the same names, mostly)."""
    same = (
        "TableName",
        "KeySchema",
        "AttributeDefinitions",
        "BillingMode",
        "ProvisionedThroughput",
        "GlobalSecondaryIndexes",
        "LocalSecondaryIndexes",
        "Tags",
        "TableClass",
        "DeletionProtectionEnabled",
    )
    properties = {key: definition[key] for key in same if key in definition}
    stream = definition.get("StreamSpecification")
    if stream and stream.get("StreamEnabled", True) and stream.get("StreamViewType"):
        # CloudFormation has no StreamEnabled: a view type enables the stream.
        properties["StreamSpecification"] = {"StreamViewType": stream["StreamViewType"]}
    sse = definition.get("SSESpecification")
    if sse:
        properties["SSESpecification"] = {
            "SSEEnabled": bool(sse.get("Enabled", False)),
            **{k: sse[k] for k in ("SSEType", "KMSMasterKeyId") if k in sse},
        }
    return properties


def terraform_table(definition: dict[str, Any]) -> dict[str, Any]:
    """CreateTable request → `aws_dynamodb_table` arguments."""
    keys = {k["KeyType"]: k["AttributeName"] for k in definition["KeySchema"]}
    body: dict[str, Any] = {
        "name": definition["TableName"],
        "billing_mode": definition.get("BillingMode", "PROVISIONED"),
        "hash_key": keys["HASH"],
        "attribute": [
            {"name": a["AttributeName"], "type": a["AttributeType"]}
            for a in definition["AttributeDefinitions"]
        ],
    }
    if "RANGE" in keys:
        body["range_key"] = keys["RANGE"]
    throughput = definition.get("ProvisionedThroughput")
    if throughput:
        body["read_capacity"] = throughput["ReadCapacityUnits"]
        body["write_capacity"] = throughput["WriteCapacityUnits"]
    stream = definition.get("StreamSpecification")
    if stream and stream.get("StreamEnabled", True) and stream.get("StreamViewType"):
        body["stream_enabled"] = True
        body["stream_view_type"] = stream["StreamViewType"]
    indexes = []
    for index in definition.get("GlobalSecondaryIndexes", []):
        index_keys = {k["KeyType"]: k["AttributeName"] for k in index["KeySchema"]}
        spec: dict[str, Any] = {
            "name": index["IndexName"],
            "hash_key": index_keys["HASH"],
            "projection_type": index.get("Projection", {}).get("ProjectionType", "ALL"),
        }
        if "RANGE" in index_keys:
            spec["range_key"] = index_keys["RANGE"]
        if index.get("Projection", {}).get("NonKeyAttributes"):
            spec["non_key_attributes"] = index["Projection"]["NonKeyAttributes"]
        indexes.append(spec)
    if indexes:
        body["global_secondary_index"] = indexes
    return body
