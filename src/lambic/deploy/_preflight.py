"""The checks `lambic delete` runs before its first change (docs/internals.md §5).

A delete that fails midway leaves a half-removed stage; it used to stop at a bucket
holding objects after the table was already gone. So each step whose failure AWS lets
us predict is checked first, with read-only calls, and one failed check refuses the
whole delete (`DeleteRefusedError`) before anything is removed:

    role    policies or instance profiles Lambic did not add: DeleteRole would fail
    table   deletion protection on: DeleteTable would fail
    bucket  Object Lock on: locked object versions cannot be deleted
    queue   nothing refuses a DeleteQueue; measured for the prompt only
    stream  nothing refuses a DeleteStream (consumers go with it); described for the
            prompt only (Kinesis counts no records: its retention says what is lost)

A resource that is already gone passes (its step ignores it too). The same calls
measure what each stateful resource to be deleted holds, for the confirmation prompt.
Functions, APIs and event wiring have nothing to check: their deletes only fail on
permissions, which a read-only call cannot predict.
"""

from __future__ import annotations

from typing import Any

from lambic.deploy._websocket import websocket_policy_name
from lambic.deploy.aws import AWSSession, error_code, translate_error
from lambic.deploy.errors import DeleteRefusedError
from lambic.deploy.planner import Plan
from lambic.deploy.records import DeployedRecord, DeployedResource

# Answers meaning "no such resource": already deleted, which is fine.
_GONE = {"NoSuchEntity", "ResourceNotFoundException", "NoSuchBucket", "404", "NotFound"}
_GONE |= {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}
# A listing stops here: the prompt says "1000+", and the executor pages through all.
_LIST_LIMIT = 1000


def check_delete(aws: AWSSession, record: DeployedRecord, plan: Plan) -> dict[str, str]:
    """Refuse the plan if a delete step would fail; the data each stateful step removes.

    Returns `{record key: "about 3 items"}` for the tables and buckets the plan deletes
    (an empty string for one already gone).
    """
    data: dict[str, str] = {}
    for step in plan.steps:
        resource = record.resources.get(step.key)
        check = _CHECKS.get(step.kind)
        if step.action != "delete" or resource is None or check is None:
            continue
        try:
            found = check(aws, resource)
        except DeleteRefusedError:
            raise
        except Exception as exc:
            if error_code(exc) in _GONE:
                found = ""
            else:
                raise translate_error(exc, aws.region, f"checking {resource.label()}") from exc
        if "data" in step.changed:
            data[step.key] = found
    return data


def _check_role(aws: AWSSession, role: DeployedResource) -> str:
    iam = aws.client("iam")
    name = role.attrs["role_name"]
    attached = [p["PolicyName"] for p in _all(iam, "list_attached_role_policies", name)]
    # Lambic's own inline policies: the role's, and the WebSocket API's (removed with
    # the API, which is deleted before the role).
    ours = {name, websocket_policy_name(name)}
    inline = [p for p in _all(iam, "list_role_policies", name) if p not in ours]
    profiles = _all(iam, "list_instance_profiles_for_role", name)
    others = attached + inline + [f"instance profile {p['InstanceProfileName']}" for p in profiles]
    if others:
        raise DeleteRefusedError(
            f"role {name!r} also has {', '.join(others)}, which Lambic did not add, so IAM "
            "would refuse to delete it; detach them and run `lambic delete` again "
            "(nothing was deleted)"
        )
    return ""


def _all(iam: Any, operation: str, role_name: str) -> list[Any]:
    key = {
        "list_attached_role_policies": "AttachedPolicies",
        "list_role_policies": "PolicyNames",
        "list_instance_profiles_for_role": "InstanceProfiles",
    }[operation]
    items: list[Any] = []
    for page in iam.get_paginator(operation).paginate(RoleName=role_name):
        items.extend(page[key])
    return items


def _check_table(aws: AWSSession, table: DeployedResource) -> str:
    name = table.attrs["table_name"]
    described = aws.client("dynamodb").describe_table(TableName=name)["Table"]
    if described.get("DeletionProtectionEnabled"):
        raise DeleteRefusedError(
            f"table {name!r} has deletion protection on; turn it off (aws dynamodb "
            f"update-table --table-name {name} --no-deletion-protection-enabled) or run "
            "`lambic delete` without --include-data to keep it (nothing was deleted)"
        )
    # DynamoDB refreshes ItemCount about every six hours, hence "about".
    count = int(described.get("ItemCount", 0))
    return f"about {count} item{'s' if count != 1 else ''}"


def _check_bucket(aws: AWSSession, bucket: DeployedResource) -> str:
    s3 = aws.client("s3")
    name = bucket.attrs["bucket"]
    s3.head_bucket(Bucket=name)
    try:
        lock = s3.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"]
    except Exception as exc:
        if error_code(exc) != "ObjectLockConfigurationNotFoundError":
            raise
        lock = {}
    if lock.get("ObjectLockEnabled") == "Enabled":
        raise DeleteRefusedError(
            f"bucket {name!r} has S3 Object Lock on, so its locked objects cannot be deleted; "
            "run `lambic delete` without --include-data to keep it (nothing was deleted)"
        )
    if s3.get_bucket_versioning(Bucket=name).get("Status") in ("Enabled", "Suspended"):
        page = s3.list_object_versions(Bucket=name, MaxKeys=_LIST_LIMIT)
        count = len(page.get("Versions", [])) + len(page.get("DeleteMarkers", []))
        noun = "object version"
    else:
        page = s3.list_objects_v2(Bucket=name, MaxKeys=_LIST_LIMIT)
        count = int(page.get("KeyCount", 0))
        noun = "object"
    more = "+" if page.get("IsTruncated") else ""
    return f"{count}{more} {noun}{'s' if count != 1 or more else ''}"


def _check_queue(aws: AWSSession, queue: DeployedResource) -> str:
    attributes = aws.client("sqs").get_queue_attributes(
        QueueUrl=queue.attrs["url"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    # SQS's counts are approximate, hence "about".
    count = sum(int(value) for value in attributes.values())
    return f"about {count} message{'s' if count != 1 else ''}"


def _check_stream(aws: AWSSession, stream: DeployedResource) -> str:
    summary = aws.client("kinesis").describe_stream_summary(StreamName=stream.attrs["stream"])[
        "StreamDescriptionSummary"
    ]
    hours = int(summary["RetentionPeriodHours"])
    return f"the records of the last {hours} hours"


_CHECKS = {
    "role": _check_role,
    "table": _check_table,
    "bucket": _check_bucket,
    "queue": _check_queue,
    "stream": _check_stream,
}
