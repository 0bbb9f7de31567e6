"""botocore and boto3 models as the authority for boto3 method → IAM action → resource ARN.

A client method is an operation (`put_item` → `PutItem`, found through botocore's
service model); the IAM action is `<signing name>:<operation>` except where IAM names
the permission differently (S3's `ListObjectsV2` needs `s3:ListBucket`, Lambda's
`Invoke` needs `lambda:InvokeFunction`). Resource objects (`Table`, `Bucket`, `Queue`)
and their actions come from boto3's resource models (`resources-1.json`).
"""

from __future__ import annotations

import functools
import os
from typing import Any

import boto3
import botocore.exceptions
import botocore.loaders
from botocore import xform_name

# Operations whose IAM permission has another name (IAM's service authorization
# reference), and boto3 conveniences that are not operations at all.
IAM_ALIASES: dict[tuple[str, str], tuple[str, ...]] = {
    ("s3", "ListObjects"): ("ListBucket",),
    ("s3", "ListObjectsV2"): ("ListBucket",),
    ("s3", "HeadBucket"): ("ListBucket",),
    ("s3", "ListObjectVersions"): ("ListBucketVersions",),
    ("s3", "HeadObject"): ("GetObject",),
    ("s3", "DeleteObjects"): ("DeleteObject",),
    ("s3", "CopyObject"): ("GetObject", "PutObject"),
    ("s3", "CreateMultipartUpload"): ("PutObject",),
    ("s3", "UploadPart"): ("PutObject",),
    ("s3", "CompleteMultipartUpload"): ("PutObject",),
    ("s3", "UploadFile"): ("PutObject",),
    ("s3", "UploadFileobj"): ("PutObject",),
    ("s3", "DownloadFile"): ("GetObject",),
    ("s3", "DownloadFileobj"): ("GetObject",),
    ("s3", "Copy"): ("GetObject", "PutObject"),
    ("lambda", "Invoke"): ("InvokeFunction",),
    ("lambda", "InvokeAsync"): ("InvokeFunction",),
    ("lambda", "InvokeWithResponseStream"): ("InvokeFunction",),
}
# boto3 methods that exist on clients/resources without being operations.
CONVENIENCE = {
    "upload_file": "UploadFile",
    "upload_fileobj": "UploadFileobj",
    "download_file": "DownloadFile",
    "download_fileobj": "DownloadFileobj",
    "copy": "Copy",
}
# IAM actions on S3 objects (ARN bucket/*) rather than on the bucket.
S3_OBJECT_ACTIONS = frozenset(
    {
        "GetObject",
        "PutObject",
        "DeleteObject",
        "GetObjectAcl",
        "PutObjectAcl",
        "GetObjectTagging",
        "PutObjectTagging",
        "DeleteObjectTagging",
        "GetObjectVersion",
        "DeleteObjectVersion",
        "AbortMultipartUpload",
        "ListMultipartUploadParts",
        "RestoreObject",
        "GetObjectAttributes",
    }
)


@functools.cache
def _loader() -> botocore.loaders.Loader:
    loader = botocore.loaders.create_loader()
    loader.search_paths.append(os.path.join(os.path.dirname(boto3.__file__), "data"))
    return loader


@functools.cache
def _service_model(service: str) -> dict[str, Any] | None:
    try:
        model: dict[str, Any] = _loader().load_service_model(service, "service-2")
    except botocore.exceptions.UnknownServiceError:
        return None
    return model


@functools.cache
def resource_model(service: str) -> dict[str, Any] | None:
    """boto3's resource model for `service`, or None when it has no resources."""
    try:
        model: dict[str, Any] = _loader().load_service_model(service, "resources-1")
    except (botocore.exceptions.UnknownServiceError, botocore.exceptions.DataNotFoundError):
        return None
    return model


@functools.cache
def operations(service: str) -> dict[str, str]:
    """snake_case client method → operation name, for `service`."""
    model = _service_model(service)
    if model is None:
        return {}
    return {xform_name(name): name for name in model["operations"]}


def iam_prefix(service: str) -> str:
    model = _service_model(service)
    if model is None:
        return service
    metadata = model["metadata"]
    return str(metadata.get("signingName") or metadata.get("endpointPrefix") or service)


def client_operation(service: str, method: str) -> str | None:
    """The operation a client method call performs (None: not an AWS call)."""
    if method in CONVENIENCE:
        return CONVENIENCE[method]
    return operations(service).get(method)


def iam_actions(service: str, operation: str) -> list[str]:
    names = IAM_ALIASES.get((service, operation), (operation,))
    prefix = iam_prefix(service)
    return [f"{prefix}:{name}" for name in names]


def resource_arns(service: str, action: str, names: tuple[str, ...]) -> list[str]:
    """ARNs an action is scoped to, for resources named `names` (empty: unknown → `*`)."""
    if not names:
        return ["*"]
    short = action.split(":", 1)[1]
    arns: list[str] = []
    for name in names:
        if name.startswith("arn:"):
            arns.append(name)
        elif service == "dynamodb":
            arns.append(f"arn:aws:dynamodb:*:*:table/{name}")
            if short in ("Query", "Scan"):
                arns.append(f"arn:aws:dynamodb:*:*:table/{name}/index/*")
        elif service == "s3":
            arns.append(
                f"arn:aws:s3:::{name}/*" if short in S3_OBJECT_ACTIONS else f"arn:aws:s3:::{name}"
            )
        elif service == "sqs":
            arns.append(f"arn:aws:sqs:*:*:{name.rstrip('/').rsplit('/', 1)[-1]}")
        elif service == "sns":
            arns.append(f"arn:aws:sns:*:*:{name}")
        elif service == "lambda":
            arns.append(f"arn:aws:lambda:*:*:function:{name}")
        else:
            return ["*"]
    return arns


# The keyword argument naming the resource a client call acts on.
RESOURCE_KWARGS = {
    "dynamodb": ("TableName",),
    "s3": ("Bucket",),
    "sqs": ("QueueUrl", "QueueName"),
    "sns": ("TopicArn", "TargetArn"),
    "lambda": ("FunctionName",),
}
