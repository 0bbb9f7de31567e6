"""Terraform output: the resource graph as Terraform JSON (`*.tf.json`) for the aws provider.

The same resources as the SAM template, spelled for Terraform: `aws_lambda_function`
per function (code from `deployment.zip` next to the file), `aws_iam_role` and
`aws_iam_role_policy`, `aws_api_gateway_rest_api` with the OpenAPI `body` plus a
deployment and stage (or `aws_apigatewayv2_*` for an HTTP API), CloudWatch Events rules
and targets, `aws_s3_bucket_notification` on the existing bucket,
`aws_lambda_event_source_mapping`, `aws_sns_topic_subscription` and the
`aws_lambda_permission`s each needs. Declared resources (`_declared`) become
`aws_dynamodb_table`, `aws_s3_bucket` (+ website, CORS, public access block and
policy), `aws_sqs_queue` (+ policy), `aws_sns_topic` (+ subscriptions),
`aws_cloudwatch_event_bus` and `aws_kinesis_stream`; a handler on one refers to it (a
stream handler on a declared table to `aws_dynamodb_table.<name>.stream_arn`), so
Terraform orders them.

Strings in Terraform JSON are templates: literal `${` and `%{` are escaped (`$${`,
`%%{`) and only references we put there are interpolated.
"""

from __future__ import annotations

import json
from typing import Any

from lambic.deploy.declared import (
    BucketResource,
    QueueResource,
    TopicResource,
    sns_queue_policy,
    terraform_stream,
    terraform_table,
)
from lambic.deploy.errors import ConfigError
from lambic.deploy.openapi import substitute_uris
from lambic.deploy.resources import (
    FunctionResource,
    PatternBinding,
    QueueBinding,
    ResourceGraph,
    S3Binding,
    ScheduleBinding,
    StreamBinding,
    TopicBinding,
)
from lambic.deploy.sam import LAMBDA_TRUST
from lambic.project.config import API_FUNCTION
from lambic.project.resources import public_read_policy

_ZIP = "${path.module}/deployment.zip"
_PARTITION = "${data.aws_partition.current.partition}"
_REGION = "${data.aws_region.current.name}"
_ACCOUNT = "${data.aws_caller_identity.current.account_id}"


def _tf_name(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() else "_" for ch in name)
    return cleaned if cleaned[:1].isalpha() else f"r_{cleaned}"


def literal(text: str) -> str:
    """Escape `text` so Terraform reads it verbatim."""
    return text.replace("${", "$${").replace("%{", "%%{")


def _fn(name: str, attribute: str = "arn") -> str:
    return f"${{aws_lambda_function.{name}.{attribute}}}"


def _arn(service: str, resource: str) -> str:
    return f"arn:{_PARTITION}:{service}:{_REGION}:{_ACCOUNT}:{resource}"


def build_terraform(graph: ResourceGraph) -> dict[str, Any]:
    """The Terraform JSON document for `graph`."""
    res: dict[str, dict[str, Any]] = {}

    def add(kind: str, name: str, body: dict[str, Any]) -> None:
        res.setdefault(kind, {})[name] = body

    role = literal(graph.role.arn or "")
    if graph.role.policy is not None:
        add(
            "aws_iam_role",
            "default_role",
            {"name": graph.role.name, "assume_role_policy": literal(json.dumps(LAMBDA_TRUST))},
        )
        add(
            "aws_iam_role_policy",
            "default_role_policy",
            {
                "name": "default_role_policy",
                "role": "${aws_iam_role.default_role.id}",
                "policy": literal(graph.role.policy),
            },
        )
        role = "${aws_iam_role.default_role.arn}"
    declared_buckets = _declared(graph, add)
    for function in graph.functions:
        add("aws_lambda_function", function.name, _function(graph, function, role))
    buckets: dict[str, list[dict[str, Any]]] = {}
    for index, binding in enumerate(graph.bindings):
        _binding(add, buckets, f"{binding.function}-event{index}", binding, graph)
    for bucket, configs in sorted(buckets.items()):
        name = _tf_name(bucket)
        add(
            "aws_s3_bucket_notification",
            name,
            {
                "bucket": declared_buckets.get(bucket, literal(bucket)),
                "lambda_function": configs,
                "depends_on": sorted({c.pop("_permission") for c in configs}),
            },
        )
    outputs = _api(graph, add)
    outputs.update(_websocket_api(graph, add))
    return {
        "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws"}}},
        "data": {
            "aws_caller_identity": {"current": {}},
            "aws_partition": {"current": {}},
            "aws_region": {"current": {}},
        },
        "resource": res,
        "output": outputs,
    }


def _function(graph: ResourceGraph, function: FunctionResource, role: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "function_name": literal(function.function_name),
        "runtime": function.runtime,
        "handler": literal(function.handler),
        "memory_size": function.memory_size,
        "timeout": function.timeout,
        "architectures": [function.architecture],
        "role": role,
        "filename": _ZIP,
        "source_code_hash": '${filebase64sha256("${path.module}/deployment.zip")}',
        "tags": {
            "aws-lambic": literal(f"stage={graph.stage}:app={graph.app_name}"),
            **{k: literal(v) for k, v in function.tags},
        },
    }
    if function.environment:
        body["environment"] = {"variables": {k: literal(v) for k, v in function.environment}}
    if function.reserved_concurrency is not None:
        body["reserved_concurrent_executions"] = function.reserved_concurrency
    return body


def _permission(function: str, principal: str, source_arn: str) -> dict[str, Any]:
    return {
        "function_name": _fn(function),
        "action": "lambda:InvokeFunction",
        "principal": principal,
        "source_arn": source_arn,
    }


def _binding(
    add: Any,
    buckets: dict[str, list[dict[str, Any]]],
    key: str,
    binding: object,
    graph: ResourceGraph,
) -> None:
    if isinstance(binding, ScheduleBinding | PatternBinding):
        rule: dict[str, Any] = {"name": literal(f"{key}")}
        if isinstance(binding, ScheduleBinding):
            rule["schedule_expression"] = literal(binding.expression)
            rule["description"] = literal(binding.description)
        else:
            rule["event_pattern"] = literal(binding.pattern)
        add("aws_cloudwatch_event_rule", key, rule)
        add(
            "aws_cloudwatch_event_target",
            key,
            {"rule": f"${{aws_cloudwatch_event_rule.{key}.name}}", "arn": _fn(binding.function)},
        )
        arn = f"${{aws_cloudwatch_event_rule.{key}.arn}}"
        add(
            "aws_lambda_permission", key, _permission(binding.function, "events.amazonaws.com", arn)
        )
    elif isinstance(binding, S3Binding):
        source = f"arn:{_PARTITION}:s3:::{literal(binding.bucket)}"
        add("aws_lambda_permission", key, _permission(binding.function, "s3.amazonaws.com", source))
        config: dict[str, Any] = {
            "lambda_function_arn": _fn(binding.function),
            "events": list(binding.events),
            "_permission": f"aws_lambda_permission.{key}",
        }
        if binding.prefix:
            config["filter_prefix"] = literal(binding.prefix)
        if binding.suffix:
            config["filter_suffix"] = literal(binding.suffix)
        buckets.setdefault(binding.bucket, []).append(config)
    elif isinstance(binding, QueueBinding):
        queue = literal(binding.queue_arn or "") or _arn("sqs", binding.queue)
        if not binding.queue_arn and any(q.name == binding.queue for q in graph.queues):
            # A reference, not a spelled ARN: Terraform then creates the queue first.
            queue = f"${{aws_sqs_queue.{_tf_name(binding.queue)}.arn}}"
        mapping: dict[str, Any] = {
            "event_source_arn": queue,
            "function_name": _fn(binding.function),
            "batch_size": binding.batch_size,
        }
        if binding.batching_window:
            mapping["maximum_batching_window_in_seconds"] = binding.batching_window
        add("aws_lambda_event_source_mapping", key, mapping)
    elif isinstance(binding, TopicBinding):
        topic = binding.topic if binding.topic.startswith("arn:") else _arn("sns", binding.topic)
        if any(t.name == binding.topic for t in graph.topics):
            topic = f"${{aws_sns_topic.{_tf_name(binding.topic)}.arn}}"
        add(
            "aws_sns_topic_subscription",
            key,
            {"topic_arn": topic, "protocol": "lambda", "endpoint": _fn(binding.function)},
        )
        add("aws_lambda_permission", key, _permission(binding.function, "sns.amazonaws.com", topic))
    elif isinstance(binding, StreamBinding):
        stream = binding.stream
        if not stream.startswith("arn:") and binding.source == "dynamodb":
            # A declared table (checked when the graph was built): its stream's ARN.
            stream = f"${{aws_dynamodb_table.{_tf_name(stream)}.stream_arn}}"
        elif any(s.name == stream for s in graph.streams):
            stream = f"${{aws_kinesis_stream.{_tf_name(stream)}.arn}}"
        elif not stream.startswith("arn:"):
            stream = _arn("kinesis", f"stream/{stream}")
        mapping = {
            "event_source_arn": stream,
            "function_name": _fn(binding.function),
            "batch_size": binding.batch_size,
            "starting_position": binding.starting_position,
        }
        if binding.batching_window:
            mapping["maximum_batching_window_in_seconds"] = binding.batching_window
        add("aws_lambda_event_source_mapping", key, mapping)


def _declared(graph: ResourceGraph, add: Any) -> dict[str, str]:
    """The config's declared resources; returns each bucket's id reference by name."""
    for table in graph.tables:
        add(
            "aws_dynamodb_table",
            _tf_name(table.name),
            terraform_table(json.loads(table.definition)),
        )
    references: dict[str, str] = {}
    for bucket in graph.buckets:
        references[bucket.name] = _bucket(bucket, add)
    for queue in graph.queues:
        _queue(queue, add)
    for topic in graph.topics:
        _topic(topic, add)
    for bus in graph.buses:
        add("aws_cloudwatch_event_bus", _tf_name(bus.name), {"name": literal(bus.name)})
    for stream in graph.streams:
        body = terraform_stream(stream)
        add("aws_kinesis_stream", _tf_name(stream.name), {**body, "name": literal(stream.name)})
    return references


def _bucket(bucket: BucketResource, add: Any) -> str:
    name = _tf_name(bucket.name)
    reference = f"${{aws_s3_bucket.{name}.id}}"
    add("aws_s3_bucket", name, {"bucket": literal(bucket.name)})
    if bucket.index_document:
        add(
            "aws_s3_bucket_website_configuration",
            name,
            {"bucket": reference, "index_document": {"suffix": literal(bucket.index_document)}},
        )
    if bucket.cors:
        rules = []
        for rule in json.loads(bucket.cors)["CORSRules"]:
            spec = {
                arg: [literal(v) for v in rule[key]]
                for key, arg in _CORS_LISTS.items()
                if key in rule
            }
            if "MaxAgeSeconds" in rule:
                spec["max_age_seconds"] = rule["MaxAgeSeconds"]
            rules.append(spec)
        add("aws_s3_bucket_cors_configuration", name, {"bucket": reference, "cors_rule": rules})
    if bucket.public_read:
        # Block Public Access off for public policies on this bucket only (ACLs stay
        # blocked); the policy waits for it, as S3 refuses a public policy before.
        add(
            "aws_s3_bucket_public_access_block",
            name,
            {
                "bucket": reference,
                "block_public_acls": True,
                "ignore_public_acls": True,
                "block_public_policy": False,
                "restrict_public_buckets": False,
            },
        )
        add(
            "aws_s3_bucket_policy",
            name,
            {
                "bucket": reference,
                "policy": literal(json.dumps(public_read_policy(bucket.name))),
                "depends_on": [f"aws_s3_bucket_public_access_block.{name}"],
            },
        )
    return reference


_CORS_LISTS = {
    "AllowedHeaders": "allowed_headers",
    "AllowedMethods": "allowed_methods",
    "AllowedOrigins": "allowed_origins",
    "ExposeHeaders": "expose_headers",
}
# CreateQueue attribute → aws_sqs_queue argument (numbers and flags typed).
_QUEUE_ARGUMENTS: dict[str, tuple[str, Any]] = {
    "DelaySeconds": ("delay_seconds", int),
    "MaximumMessageSize": ("max_message_size", int),
    "MessageRetentionPeriod": ("message_retention_seconds", int),
    "ReceiveMessageWaitTimeSeconds": ("receive_wait_time_seconds", int),
    "VisibilityTimeout": ("visibility_timeout_seconds", int),
    "KmsMasterKeyId": ("kms_master_key_id", literal),
    "KmsDataKeyReusePeriodSeconds": ("kms_data_key_reuse_period_seconds", int),
    "SqsManagedSseEnabled": ("sqs_managed_sse_enabled", lambda v: v == "true"),
    "FifoQueue": ("fifo_queue", lambda v: v == "true"),
    "ContentBasedDeduplication": ("content_based_deduplication", lambda v: v == "true"),
    "DeduplicationScope": ("deduplication_scope", literal),
    "FifoThroughputLimit": ("fifo_throughput_limit", literal),
    "Policy": ("policy", literal),
    "RedriveAllowPolicy": ("redrive_allow_policy", literal),
}


def _queue(queue: QueueResource, add: Any) -> None:
    name = _tf_name(queue.name)
    body: dict[str, Any] = {"name": literal(queue.name)}
    for key, value in queue.attributes:
        if key == "RedrivePolicy":
            policy = json.loads(value)
            if queue.dead_letter:
                dlq = f"aws_sqs_queue.{_tf_name(queue.dead_letter)}.arn"
                count = int(policy["maxReceiveCount"])
                body["redrive_policy"] = (
                    f"${{jsonencode({{deadLetterTargetArn = {dlq}, maxReceiveCount = {count}}})}}"
                )
            else:
                body["redrive_policy"] = literal(value)
            continue
        argument, convert = _QUEUE_ARGUMENTS[key]
        body[argument] = convert(value)
    add("aws_sqs_queue", name, body)
    if queue.sns_sources and "policy" not in body:
        topics = [f"${{aws_sns_topic.{_tf_name(t)}.arn}}" for t in queue.sns_sources]
        policy = sns_queue_policy(f"${{aws_sqs_queue.{name}.arn}}", topics)
        add(
            "aws_sqs_queue_policy",
            name,
            {"queue_url": f"${{aws_sqs_queue.{name}.id}}", "policy": json.dumps(policy)},
        )


# CreateTopic / Subscribe attributes → aws_sns_topic / aws_sns_topic_subscription arguments.
_TOPIC_ARGUMENTS: dict[str, tuple[str, Any]] = {
    "DisplayName": ("display_name", literal),
    "KmsMasterKeyId": ("kms_master_key_id", literal),
    "SignatureVersion": ("signature_version", int),
    "TracingConfig": ("tracing_config", literal),
    "FifoTopic": ("fifo_topic", lambda v: v == "true"),
    "ContentBasedDeduplication": ("content_based_deduplication", lambda v: v == "true"),
    "Policy": ("policy", literal),
    "DeliveryPolicy": ("delivery_policy", literal),
    "ArchivePolicy": ("archive_policy", literal),
}
_SUBSCRIPTION_ARGUMENTS: dict[str, tuple[str, Any]] = {
    "RawMessageDelivery": ("raw_message_delivery", lambda v: v == "true"),
    "FilterPolicy": ("filter_policy", literal),
    "FilterPolicyScope": ("filter_policy_scope", literal),
    "RedrivePolicy": ("redrive_policy", literal),
    "DeliveryPolicy": ("delivery_policy", literal),
    "SubscriptionRoleArn": ("subscription_role_arn", literal),
}


def _topic(topic: TopicResource, add: Any) -> None:
    name = _tf_name(topic.name)
    body: dict[str, Any] = {"name": literal(topic.name)}
    for key, value in topic.attributes:
        if key not in _TOPIC_ARGUMENTS:
            raise ConfigError(
                f"topic {topic.name!r}: attribute {key} has no aws_sns_topic argument, so "
                "the Terraform output cannot set it; deploy with `lambic deploy` or drop it"
            )
        argument, convert = _TOPIC_ARGUMENTS[key]
        body[argument] = convert(value)
    add("aws_sns_topic", name, body)
    for index, subscription in enumerate(topic.subscriptions):
        endpoint = literal(subscription.endpoint)
        if subscription.queue:
            endpoint = f"${{aws_sqs_queue.{_tf_name(subscription.queue)}.arn}}"
        sub: dict[str, Any] = {
            "topic_arn": f"${{aws_sns_topic.{name}.arn}}",
            "protocol": subscription.protocol,
            "endpoint": endpoint,
        }
        for key, value in subscription.attributes:
            if key not in _SUBSCRIPTION_ARGUMENTS:
                raise ConfigError(
                    f"topic {topic.name!r}: subscription attribute {key} has no "
                    "aws_sns_topic_subscription argument; deploy with `lambic deploy` or drop it"
                )
            argument, convert = _SUBSCRIPTION_ARGUMENTS[key]
            sub[argument] = convert(value)
        add("aws_sns_topic_subscription", f"{name}_subscription{index}", sub)


def _api(graph: ResourceGraph, add: Any) -> dict[str, Any]:
    api = graph.api
    if api is None:
        return {}
    if api.kind == "http":
        add(
            "aws_apigatewayv2_api", "http_api", {"name": literal(api.name), "protocol_type": "HTTP"}
        )
        add(
            "aws_apigatewayv2_integration",
            "api_handler",
            {
                "api_id": "${aws_apigatewayv2_api.http_api.id}",
                "integration_type": "AWS_PROXY",
                "integration_uri": _fn(API_FUNCTION, "invoke_arn"),
                "payload_format_version": "2.0",
            },
        )
        for index, (method, path) in enumerate(api.routes):
            add(
                "aws_apigatewayv2_route",
                f"route{index}",
                {
                    "api_id": "${aws_apigatewayv2_api.http_api.id}",
                    "route_key": literal(f"{method} {path}"),
                    "target": "integrations/${aws_apigatewayv2_integration.api_handler.id}",
                },
            )
        add(
            "aws_apigatewayv2_stage",
            "default",
            {
                "api_id": "${aws_apigatewayv2_api.http_api.id}",
                "name": "$default",
                "auto_deploy": True,
            },
        )
        source = "${aws_apigatewayv2_api.http_api.execution_arn}/*"
        add(
            "aws_lambda_permission",
            "api_handler_invoke",
            _permission(API_FUNCTION, "apigateway.amazonaws.com", source),
        )
        return {"EndpointURL": {"value": "${aws_apigatewayv2_stage.default.invoke_url}"}}
    tokens: dict[str, str] = {}

    def token(name: str) -> str:
        tokens[f"@@lambic-uri-{name}@@"] = _fn(name, "invoke_arn")
        return f"@@lambic-uri-{name}@@"

    body = literal(json.dumps(substitute_uris(api.openapi(), token), sort_keys=True))
    for placeholder, reference in tokens.items():
        body = body.replace(placeholder, reference)
    add(
        "aws_api_gateway_rest_api",
        "rest_api",
        {
            "name": literal(api.name),
            "body": body,
            "endpoint_configuration": {"types": [api.endpoint_type]},
        },
    )
    add(
        "aws_api_gateway_deployment",
        "rest_api",
        {
            "rest_api_id": "${aws_api_gateway_rest_api.rest_api.id}",
            # A new deployment whenever the API definition changes.
            "triggers": {"redeployment": "${sha1(aws_api_gateway_rest_api.rest_api.body)}"},
            "lifecycle": {"create_before_destroy": True},
        },
    )
    add(
        "aws_api_gateway_stage",
        "rest_api",
        {
            "rest_api_id": "${aws_api_gateway_rest_api.rest_api.id}",
            "deployment_id": "${aws_api_gateway_deployment.rest_api.id}",
            "stage_name": literal(api.stage_name),
        },
    )
    source = "${aws_api_gateway_rest_api.rest_api.execution_arn}/*"
    for name in (API_FUNCTION, *api.authorizer_functions):
        add(
            "aws_lambda_permission",
            f"{name}_invoke",
            _permission(name, "apigateway.amazonaws.com", source),
        )
    return {"EndpointURL": {"value": "${aws_api_gateway_stage.rest_api.invoke_url}/"}}


def _websocket_api(graph: ResourceGraph, add: Any) -> dict[str, Any]:
    """aws_apigatewayv2_* for the WebSocket API, its routes, stage and permissions."""
    ws = graph.websocket_api
    if ws is None:
        return {}
    api_id = "${aws_apigatewayv2_api.websocket_api.id}"
    add(
        "aws_apigatewayv2_api",
        "websocket_api",
        {
            "name": literal(ws.name),
            "protocol_type": "WEBSOCKET",
            # Only `${` starts an interpolation: this "$request..." is read verbatim.
            "route_selection_expression": "$request.body.action",
        },
    )
    routes = []
    for route_key, function in ws.routes:
        add(
            "aws_apigatewayv2_integration",
            function,
            {
                "api_id": api_id,
                "integration_type": "AWS_PROXY",
                "integration_uri": _fn(function, "invoke_arn"),
            },
        )
        add(
            "aws_apigatewayv2_route",
            function,
            {
                "api_id": api_id,
                "route_key": literal(route_key),
                "target": f"integrations/${{aws_apigatewayv2_integration.{function}.id}}",
            },
        )
        routes.append(f"aws_apigatewayv2_route.{function}")
        add(
            "aws_lambda_permission",
            f"{function}_invoke",
            _permission(
                function,
                "apigateway.amazonaws.com",
                "${aws_apigatewayv2_api.websocket_api.execution_arn}/*",
            ),
        )
    add(
        "aws_apigatewayv2_deployment",
        "websocket_api",
        {
            "api_id": api_id,
            # A new deployment whenever the routes change.
            "triggers": {"redeployment": literal(json.dumps(ws.routes))},
            "lifecycle": {"create_before_destroy": True},
            "depends_on": routes,
        },
    )
    add(
        "aws_apigatewayv2_stage",
        "websocket_api",
        {
            "api_id": api_id,
            "name": literal(ws.stage_name),
            "deployment_id": "${aws_apigatewayv2_deployment.websocket_api.id}",
        },
    )
    if graph.role.policy is not None:
        # Least privilege: this API's stage's @connections only.
        resource = (
            f"${{aws_apigatewayv2_api.websocket_api.execution_arn}}/{literal(ws.stage_name)}"
            "/*/@connections/*"
        )
        add(
            "aws_iam_role_policy",
            "websocket_manage_connections",
            {
                "name": "websocket_manage_connections",
                "role": "${aws_iam_role.default_role.id}",
                "policy": json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": ["execute-api:ManageConnections"],
                                "Resource": resource,
                            }
                        ],
                    }
                ),
            },
        )
    return {
        "WebsocketConnectEndpointURL": {
            "value": "${aws_apigatewayv2_stage.websocket_api.invoke_url}"
        }
    }
