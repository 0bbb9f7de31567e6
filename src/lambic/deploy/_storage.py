"""Executor handlers for declared tables and buckets (docs/internals.md §4).

Tables are created from their CreateTable request and waited on until ACTIVE. Later
changes are applied with UpdateTable where DynamoDB allows it in place (billing mode,
throughput, stream); a changed key schema or index set is refused with the way out,
since DynamoDB would need a new table. Buckets are created (recorded at once), then
given their website, CORS and `PublicRead` settings (`_set_public_read`); deleting
a bucket that still holds objects stops with instructions, as CloudFormation does,
and the record keeps it for the next attempt.
Only `lambic delete --include-data` empties a bucket first (`empty_bucket`): every
object version and delete marker, since S3 refuses to delete a versioned bucket that
still has old versions.
"""

from __future__ import annotations

import json
from typing import Any

from lambic.deploy._handlers import StepContext, ignore_missing
from lambic.deploy.aws import error_code
from lambic.deploy.declared import BucketResource, TableResource
from lambic.deploy.errors import AWSError
from lambic.project.resources import public_read_policy

_IN_PLACE = ("BillingMode", "ProvisionedThroughput", "StreamSpecification")


def create_table(ctx: StepContext, table: TableResource) -> dict[str, Any]:
    client = ctx.aws.client("dynamodb")
    client.create_table(**json.loads(table.definition))
    client.get_waiter("table_exists").wait(
        TableName=table.name, WaiterConfig={"Delay": 1, "MaxAttempts": 300}
    )
    return {"table_name": table.name, "definition": table.definition}


def update_table(ctx: StepContext, table: TableResource, attrs: dict[str, Any]) -> dict[str, Any]:
    old = json.loads(attrs["definition"])
    new = json.loads(table.definition)
    fixed = [k for k in set(old) | set(new) if k not in _IN_PLACE and old.get(k) != new.get(k)]
    if fixed:
        raise AWSError(
            f"table {table.name!r} changed {', '.join(sorted(fixed))}, which DynamoDB cannot "
            "change in place; declare a new table name (and migrate the data) instead"
        )
    changes = {k: new[k] for k in _IN_PLACE if k in new and old.get(k) != new.get(k)}
    if changes:
        ctx.aws.client("dynamodb").update_table(TableName=table.name, **changes)
    return {**attrs, "definition": table.definition}


def delete_table(ctx: StepContext, attrs: dict[str, Any]) -> None:
    client = ctx.aws.client("dynamodb")
    ignore_missing(lambda: client.delete_table(TableName=attrs["table_name"]))


def create_bucket(ctx: StepContext, bucket: BucketResource) -> dict[str, Any]:
    s3 = ctx.aws.client("s3")
    kwargs: dict[str, Any] = {"Bucket": bucket.name}
    if ctx.aws.region != "us-east-1":
        # us-east-1 is S3's default location and rejects an explicit constraint.
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": ctx.aws.region}
    s3.create_bucket(**kwargs)
    attrs = {"bucket": bucket.name, "index_document": None, "cors": None, "public_read": False}
    # Recorded as soon as it exists: a failure setting it up leaves it to the next run.
    ctx.checkpoint(attrs, {"website": "", "cors": "", "public": ""})
    return update_bucket(ctx, bucket, attrs)


def update_bucket(
    ctx: StepContext, bucket: BucketResource, attrs: dict[str, Any]
) -> dict[str, Any]:
    s3 = ctx.aws.client("s3")
    if bucket.index_document != attrs.get("index_document"):
        if bucket.index_document:
            s3.put_bucket_website(
                Bucket=bucket.name,
                WebsiteConfiguration={"IndexDocument": {"Suffix": bucket.index_document}},
            )
        else:
            s3.delete_bucket_website(Bucket=bucket.name)
    if bucket.cors != attrs.get("cors"):
        if bucket.cors:
            s3.put_bucket_cors(Bucket=bucket.name, CORSConfiguration=json.loads(bucket.cors))
        else:
            s3.delete_bucket_cors(Bucket=bucket.name)
    if bucket.public_read != bool(attrs.get("public_read")):
        _set_public_read(s3, bucket.name, bucket.public_read)
    return {
        **attrs,
        "index_document": bucket.index_document,
        "cors": bucket.cors,
        "public_read": bucket.public_read,
    }


def _set_public_read(s3: Any, name: str, public: bool) -> None:
    """`PublicRead`: Block Public Access off for this bucket only, and a policy granting
    everyone s3:GetObject on its objects (nothing else); undone in reverse order.

    New buckets block public policies (S3's default since April 2023), so the block
    must go before PutBucketPolicy would be accepted.
    """
    if public:
        s3.put_public_access_block(
            Bucket=name,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,  # ACLs stay blocked: the policy is the only grant
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": False,
                "RestrictPublicBuckets": False,
            },
        )
        try:
            s3.put_bucket_policy(Bucket=name, Policy=json.dumps(public_read_policy(name)))
        except Exception as exc:
            if error_code(exc) != "AccessDenied":
                raise
            # The account's own Block Public Access setting overrides the bucket's.
            raise AWSError(
                f"bucket {name!r} is PublicRead but AWS refused its public policy ({exc}); "
                "if the account blocks public policies (S3 > Block Public Access settings "
                "for this account), allow them there, or drop PublicRead",
                code="AccessDenied",
            ) from exc
        return
    ignore_missing(lambda: s3.delete_bucket_policy(Bucket=name))
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )


def delete_bucket(ctx: StepContext, attrs: dict[str, Any]) -> None:
    name = attrs["bucket"]
    try:
        ctx.aws.client("s3").delete_bucket(Bucket=name)
    except Exception as exc:
        code = error_code(exc)
        if code == "BucketNotEmpty":
            raise AWSError(
                f"bucket {name!r} still holds objects and is not deleted; empty it "
                f"(aws s3 rm s3://{name} --recursive) and run `lambic delete` again",
                code=code,
            ) from exc
        if code not in ("NoSuchBucket", "404"):
            raise


def empty_bucket(ctx: StepContext, attrs: dict[str, Any]) -> None:
    """Delete every object in the bucket, all versions and delete markers included."""
    s3 = ctx.aws.client("s3")
    name = attrs["bucket"]
    try:
        # Listing versions also lists an unversioned bucket's objects (version "null").
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
            doomed = [
                {"Key": item["Key"], "VersionId": item["VersionId"]}
                for item in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            # A page holds at most 1000 entries, DeleteObjects' limit per call.
            if doomed:
                answer = s3.delete_objects(Bucket=name, Delete={"Objects": doomed, "Quiet": True})
                if answer.get("Errors"):
                    failed = answer["Errors"][0]
                    raise AWSError(
                        f"cannot delete {failed['Key']!r} from bucket {name!r} "
                        f"({failed.get('Code')}: {failed.get('Message')}); fix its access and "
                        "run `lambic delete --include-data` again",
                        code=str(failed.get("Code", "")),
                    )
    except Exception as exc:
        if error_code(exc) not in ("NoSuchBucket", "404"):
            raise
