"""The executor's per-kind handlers: the boto3 calls that create, update and delete.

Each handler gets a `StepContext` and returns the attributes the record keeps for the
resource (ids and names needed later to update or delete it). Creates that take
several calls report progress through `ctx.checkpoint(attrs, parts)` after the first
one, so a failure in between leaves a record the next run finishes from: the missing
part's hash is recorded as empty and the planner schedules just that update.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lambic.deploy.aws import AWSSession, error_code
from lambic.deploy.resources import FunctionResource, RoleResource
from lambic.deploy.sam import LAMBDA_TRUST

# IAM is eventually consistent: Lambda may refuse a role created seconds ago.
_ROLE_PROPAGATION_S = 60.0
_NOT_FOUND = {
    "ResourceNotFoundException",
    "NoSuchEntity",
    "NotFoundException",
    "NotFound",
    "NoSuchBucket",
}


@dataclass
class StepContext:
    aws: AWSSession
    app_name: str
    stage: str
    zip_bytes: bytes
    checkpoint: Callable[[dict[str, Any], dict[str, str]], None]

    def function_arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.aws.region}:{self.aws.account_id}:function:{name}"


def ignore_missing(call: Callable[[], Any]) -> None:
    """Run a delete-like call; a resource that is already gone is fine."""
    try:
        call()
    except Exception as exc:
        if error_code(exc) not in _NOT_FOUND:
            raise


# -- role -------------------------------------------------------------------------------


def create_role(ctx: StepContext, role: RoleResource, parts: dict[str, str]) -> dict[str, Any]:
    iam = ctx.aws.client("iam")
    created = iam.create_role(RoleName=role.name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    attrs = {"role_name": role.name, "role_arn": created["Role"]["Arn"]}
    ctx.checkpoint(attrs, {**parts, "policy": ""})
    update_role(ctx, role, attrs, frozenset({"policy"}))
    return attrs


def update_role(
    ctx: StepContext, role: RoleResource, attrs: dict[str, Any], changed: frozenset[str]
) -> dict[str, Any]:
    if "policy" in changed and role.policy is not None:
        ctx.aws.client("iam").put_role_policy(
            RoleName=attrs["role_name"], PolicyName=attrs["role_name"], PolicyDocument=role.policy
        )
    return attrs


def delete_role(ctx: StepContext, attrs: dict[str, Any]) -> None:
    iam = ctx.aws.client("iam")
    name = attrs["role_name"]
    ignore_missing(lambda: iam.delete_role_policy(RoleName=name, PolicyName=name))
    ignore_missing(lambda: iam.delete_role(RoleName=name))


# -- functions ----------------------------------------------------------------------------


def _configuration(function: FunctionResource) -> dict[str, Any]:
    return {
        "Runtime": function.runtime,
        "Handler": function.handler,
        "MemorySize": function.memory_size,
        "Timeout": function.timeout,
        "Environment": {"Variables": dict(function.environment)},
    }


def create_function(
    ctx: StepContext, function: FunctionResource, role_arn: str, parts: dict[str, str]
) -> dict[str, Any]:
    client = ctx.aws.client("lambda")
    tags = {"aws-lambic": f"stage={ctx.stage}:app={ctx.app_name}", **dict(function.tags)}
    deadline = time.monotonic() + _ROLE_PROPAGATION_S
    while True:
        try:
            created = client.create_function(
                FunctionName=function.function_name,
                Role=role_arn,
                Code={"ZipFile": ctx.zip_bytes},
                Architectures=[function.architecture],
                Tags=tags,
                **_configuration(function),
            )
            break
        except Exception as exc:
            retry = error_code(exc) == "InvalidParameterValueException" and "role" in str(exc)
            if not retry or time.monotonic() > deadline:
                raise
            time.sleep(2.0)
    attrs = {"function_name": function.function_name, "arn": created["FunctionArn"]}
    if function.reserved_concurrency is not None:
        ctx.checkpoint(attrs, {**parts, "concurrency": ""})
        _wait_updated(ctx, function.function_name)
        update_function(ctx, function, attrs, frozenset({"concurrency"}))
    return attrs


def update_function(
    ctx: StepContext, function: FunctionResource, attrs: dict[str, Any], changed: frozenset[str]
) -> dict[str, Any]:
    client = ctx.aws.client("lambda")
    name = attrs["function_name"]
    if "code" in changed:
        client.update_function_code(
            FunctionName=name, ZipFile=ctx.zip_bytes, Architectures=[function.architecture]
        )
        _wait_updated(ctx, name)
    if "config" in changed:
        client.update_function_configuration(FunctionName=name, **_configuration(function))
        _wait_updated(ctx, name)
    if "concurrency" in changed:
        if function.reserved_concurrency is None:
            ignore_missing(lambda: client.delete_function_concurrency(FunctionName=name))
        else:
            client.put_function_concurrency(
                FunctionName=name, ReservedConcurrentExecutions=function.reserved_concurrency
            )
    if "tags" in changed:
        current = client.list_tags(Resource=attrs["arn"]).get("Tags", {})
        wanted = {"aws-lambic": f"stage={ctx.stage}:app={ctx.app_name}", **dict(function.tags)}
        stale = [key for key in current if key not in wanted]
        if stale:
            client.untag_resource(Resource=attrs["arn"], TagKeys=stale)
        client.tag_resource(Resource=attrs["arn"], Tags=wanted)
    return attrs


def _wait_updated(ctx: StepContext, name: str) -> None:
    """Lambda refuses a second update while one is in progress; wait it out (bounded)."""
    ctx.aws.client("lambda").get_waiter("function_updated_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )


def delete_function(ctx: StepContext, attrs: dict[str, Any]) -> None:
    client = ctx.aws.client("lambda")
    ignore_missing(lambda: client.delete_function(FunctionName=attrs["function_name"]))


def add_permission(
    ctx: StepContext, function_name: str, sid: str, principal: str, source_arn: str
) -> None:
    kwargs: dict[str, Any] = {
        "FunctionName": function_name,
        "StatementId": sid,
        "Action": "lambda:InvokeFunction",
        "Principal": principal,
        "SourceArn": source_arn,
    }
    if principal == "s3.amazonaws.com":
        # Bucket ARNs carry no account; AWS advises pinning the source account.
        kwargs["SourceAccount"] = ctx.aws.account_id
    try:
        ctx.aws.client("lambda").add_permission(**kwargs)
    except Exception as exc:
        if error_code(exc) != "ResourceConflictException":  # the same statement exists
            raise


def remove_permission(ctx: StepContext, function_name: str, sid: str) -> None:
    client = ctx.aws.client("lambda")
    ignore_missing(lambda: client.remove_permission(FunctionName=function_name, StatementId=sid))
