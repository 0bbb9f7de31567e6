"""Declared resources, created locally: `lambic local` makes what the config declares.

The declarations are read and checked by `lambic.project.resources` (the deployer
reads the same ones). `lambic local` creates what is missing when it starts and leaves
existing ones alone, so data survives restarts and nobody runs a setup step.
"""

from __future__ import annotations

from typing import Any

from lambic.project.resources import DeclaredResources


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
