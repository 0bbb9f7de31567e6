"""Executor handlers for event wiring: schedules, patterns, S3, SQS, SNS, streams.

Every binding ends at one function. EventBridge rules (schedules and patterns) are
named after the function; S3 notifications are merged into the bucket's existing
configuration under an id of our own, so other notifications on the bucket survive
deploy and delete; SQS, DynamoDB and Kinesis use event source mappings; SNS a
subscription. Each source that pushes (EventBridge, S3, SNS) gets a Lambda permission.
"""

from __future__ import annotations

from typing import Any

from lambic.deploy._handlers import StepContext, add_permission, ignore_missing, remove_permission
from lambic.deploy.aws import error_code, statement_id
from lambic.deploy.errors import AWSError
from lambic.deploy.resources import (
    Binding,
    PatternBinding,
    QueueBinding,
    S3Binding,
    ScheduleBinding,
    StreamBinding,
    TopicBinding,
)


def _arn(ctx: StepContext, service: str, resource: str) -> str:
    return f"arn:aws:{service}:{ctx.aws.region}:{ctx.aws.account_id}:{resource}"


def create_binding(
    ctx: StepContext, binding: Binding, function_name: str, parts: dict[str, str]
) -> dict[str, Any]:
    attrs: dict[str, Any] = {"function_name": function_name}
    if isinstance(binding, ScheduleBinding | PatternBinding):
        attrs |= {"type": "rule", "rule": function_name}
    elif isinstance(binding, S3Binding):
        attrs |= {"type": "s3", "bucket": binding.bucket, "id": f"lambic-{function_name}"}
    elif isinstance(binding, TopicBinding):
        topic = binding.topic
        attrs |= {
            "type": "sns",
            "topic": topic if topic.startswith("arn:") else _arn(ctx, "sns", topic),
        }
    else:
        attrs |= {"type": "mapping"}
    attrs["identity"] = binding_identity(binding)
    return update_binding(ctx, binding, attrs, frozenset({"settings"}), creating=True)


def binding_identity(binding: Binding) -> str:
    """What cannot change in place: a binding to another source is deleted and recreated."""
    if isinstance(binding, ScheduleBinding | PatternBinding):
        return "rule"
    if isinstance(binding, S3Binding):
        return f"s3:{binding.bucket}"
    if isinstance(binding, TopicBinding):
        return f"sns:{binding.topic}"
    if isinstance(binding, QueueBinding):
        return f"sqs:{binding.queue_arn or binding.queue}"
    if isinstance(binding, StreamBinding):
        return f"{binding.source}:{binding.stream}:{binding.starting_position}"
    raise TypeError(f"unknown binding {binding!r}")


def update_binding(
    ctx: StepContext,
    binding: Binding,
    attrs: dict[str, Any],
    changed: frozenset[str],
    *,
    creating: bool = False,
) -> dict[str, Any]:
    function_name = attrs["function_name"]
    function_arn = ctx.function_arn(function_name)
    if not creating and attrs.get("identity") != binding_identity(binding):
        delete_binding(ctx, attrs)
        return create_binding(ctx, binding, function_name, {})
    if isinstance(binding, ScheduleBinding | PatternBinding):
        events = ctx.aws.client("events")
        rule: dict[str, Any] = {"Name": attrs["rule"], "State": "ENABLED"}
        if isinstance(binding, ScheduleBinding):
            rule |= {"ScheduleExpression": binding.expression, "Description": binding.description}
        else:
            rule |= {"EventPattern": binding.pattern}
        rule_arn = events.put_rule(**rule)["RuleArn"]
        if creating:
            # Recorded before its target and permission: a failure in between leaves a
            # rule `lambic delete` knows about and the next deploy completes.
            ctx.checkpoint(attrs, {"settings": ""})
            events.put_targets(Rule=attrs["rule"], Targets=[{"Id": "1", "Arn": function_arn}])
            sid = statement_id("events", rule_arn)
            add_permission(ctx, function_name, sid, "events.amazonaws.com", rule_arn)
            attrs = {**attrs, "sid": sid}
    elif isinstance(binding, S3Binding):
        if creating:
            sid = statement_id("s3", f"arn:aws:s3:::{binding.bucket}")
            add_permission(
                ctx, function_name, sid, "s3.amazonaws.com", f"arn:aws:s3:::{binding.bucket}"
            )
            attrs = {**attrs, "sid": sid}
        _put_notification(
            ctx, binding.bucket, attrs["id"], _s3_config(binding, attrs["id"], function_arn)
        )
    elif isinstance(binding, TopicBinding):
        if creating:
            sid = statement_id("sns", attrs["topic"])
            add_permission(ctx, function_name, sid, "sns.amazonaws.com", attrs["topic"])
            subscription = ctx.aws.client("sns").subscribe(
                TopicArn=attrs["topic"],
                Protocol="lambda",
                Endpoint=function_arn,
                ReturnSubscriptionArn=True,
            )
            attrs = {**attrs, "sid": sid, "subscription": subscription["SubscriptionArn"]}
    else:
        attrs = _mapping(ctx, binding, attrs, function_name, creating)
    return attrs


def _mapping(
    ctx: StepContext, binding: Binding, attrs: dict[str, Any], function_name: str, creating: bool
) -> dict[str, Any]:
    client = ctx.aws.client("lambda")
    settings: dict[str, Any] = {}
    if isinstance(binding, QueueBinding):
        source = binding.queue_arn or _arn(ctx, "sqs", binding.queue)
        settings = {
            "BatchSize": binding.batch_size,
            "MaximumBatchingWindowInSeconds": binding.batching_window,
        }
        start: dict[str, Any] = {}
    elif isinstance(binding, StreamBinding):
        source = binding.stream
        if not source.startswith("arn:") and binding.source == "dynamodb":
            source = table_stream_arn(ctx, source)
        elif not source.startswith("arn:"):
            source = _arn(ctx, "kinesis", f"stream/{source}")
        settings = {
            "BatchSize": binding.batch_size,
            "MaximumBatchingWindowInSeconds": binding.batching_window,
        }
        start = {"StartingPosition": binding.starting_position}
    else:
        raise TypeError(f"unknown binding {binding!r}")
    if creating:
        try:
            created = client.create_event_source_mapping(
                EventSourceArn=source, FunctionName=function_name, Enabled=True, **settings, **start
            )
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
            raise AWSError(
                f"event source {source} does not exist; create it (or declare it under "
                "resources in .lambic/config.json) and deploy again",
                code="ResourceNotFoundException",
            ) from exc
        return {**attrs, "uuid": created["UUID"]}
    client.update_event_source_mapping(UUID=attrs["uuid"], **settings)
    return attrs


def table_stream_arn(ctx: StepContext, table: str) -> str:
    """A declared table's stream ARN, known only once the table exists (created earlier
    in the same deploy: tables rank before bindings)."""
    described = ctx.aws.client("dynamodb").describe_table(TableName=table)["Table"]
    arn = described.get("LatestStreamArn")
    if not arn:
        raise AWSError(
            f"table {table!r} has no stream on AWS; give it StreamSpecification in "
            "resources.dynamodb_tables and deploy again"
        )
    return str(arn)


def delete_binding(ctx: StepContext, attrs: dict[str, Any]) -> None:
    kind = attrs["type"]
    function_name = attrs["function_name"]
    if kind == "rule":
        events = ctx.aws.client("events")
        ignore_missing(lambda: events.remove_targets(Rule=attrs["rule"], Ids=["1"]))
        ignore_missing(lambda: events.delete_rule(Name=attrs["rule"]))
    elif kind == "s3":
        _put_notification(ctx, attrs["bucket"], attrs["id"], None)
    elif kind == "sns":
        if "subscription" in attrs:
            sns = ctx.aws.client("sns")
            ignore_missing(lambda: sns.unsubscribe(SubscriptionArn=attrs["subscription"]))
    elif "uuid" in attrs:
        client = ctx.aws.client("lambda")
        ignore_missing(lambda: client.delete_event_source_mapping(UUID=attrs["uuid"]))
    if "sid" in attrs:
        remove_permission(ctx, function_name, attrs["sid"])


def _s3_config(binding: S3Binding, config_id: str, function_arn: str) -> dict[str, Any]:
    config: dict[str, Any] = {
        "Id": config_id,
        "LambdaFunctionArn": function_arn,
        "Events": list(binding.events),
    }
    rules = binding.filter_rules()
    if rules:
        config["Filter"] = {"Key": {"FilterRules": rules}}
    return config


def _put_notification(
    ctx: StepContext, bucket: str, config_id: str, config: dict[str, Any] | None
) -> None:
    """Replace our entry in the bucket's notification configuration, keeping the rest."""
    s3 = ctx.aws.client("s3")
    try:
        current = s3.get_bucket_notification_configuration(Bucket=bucket)
    except Exception as exc:
        if config is None:
            return  # the bucket is gone, and our notification with it
        raise AWSError(
            f"cannot read bucket {bucket!r} for an S3 event handler ({exc}); create the "
            "bucket first (or declare it under resources.s3_buckets)"
        ) from exc
    current.pop("ResponseMetadata", None)
    lambdas = [
        c for c in current.get("LambdaFunctionConfigurations", []) if c.get("Id") != config_id
    ]
    if config is not None:
        lambdas.append(config)
    current["LambdaFunctionConfigurations"] = lambdas
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=current)
