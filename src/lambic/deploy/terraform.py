"""Terraform output: the resource graph as Terraform JSON (`*.tf.json`) for the aws provider.

The same resources as the SAM template, spelled for Terraform: `aws_lambda_function`
per function (code from `deployment.zip` next to the file), `aws_iam_role` and
`aws_iam_role_policy`, `aws_api_gateway_rest_api` with the OpenAPI `body` plus a
deployment and stage (or `aws_apigatewayv2_*` for an HTTP API), CloudWatch Events rules
and targets, `aws_s3_bucket_notification` on the existing bucket,
`aws_lambda_event_source_mapping`, `aws_sns_topic_subscription` and the
`aws_lambda_permission`s each needs. Declared resources (`_terraform_declared`) become
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

from lambic.deploy._terraform_declared import add_declared
from lambic.deploy._terraform_refs import PARTITION, function_ref, literal, resource_arn, tf_name
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

_ZIP = "${path.module}/deployment.zip"


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
    declared_buckets = add_declared(graph, add)
    for function in graph.functions:
        add("aws_lambda_function", function.name, _function(graph, function, role))
    buckets: dict[str, list[dict[str, Any]]] = {}
    for index, binding in enumerate(graph.bindings):
        _binding(add, buckets, f"{binding.function}-event{index}", binding, graph)
    for bucket, configs in sorted(buckets.items()):
        name = tf_name(bucket)
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
        "function_name": function_ref(function),
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
            {
                "rule": f"${{aws_cloudwatch_event_rule.{key}.name}}",
                "arn": function_ref(binding.function),
            },
        )
        arn = f"${{aws_cloudwatch_event_rule.{key}.arn}}"
        add(
            "aws_lambda_permission", key, _permission(binding.function, "events.amazonaws.com", arn)
        )
    elif isinstance(binding, S3Binding):
        source = f"arn:{PARTITION}:s3:::{literal(binding.bucket)}"
        add("aws_lambda_permission", key, _permission(binding.function, "s3.amazonaws.com", source))
        config: dict[str, Any] = {
            "lambda_function_arn": function_ref(binding.function),
            "events": list(binding.events),
            "_permission": f"aws_lambda_permission.{key}",
        }
        if binding.prefix:
            config["filter_prefix"] = literal(binding.prefix)
        if binding.suffix:
            config["filter_suffix"] = literal(binding.suffix)
        buckets.setdefault(binding.bucket, []).append(config)
    elif isinstance(binding, QueueBinding):
        queue = literal(binding.queue_arn or "") or resource_arn("sqs", binding.queue)
        if not binding.queue_arn and any(q.name == binding.queue for q in graph.queues):
            # A reference, not a spelled ARN: Terraform then creates the queue first.
            queue = f"${{aws_sqs_queue.{tf_name(binding.queue)}.arn}}"
        mapping: dict[str, Any] = {
            "event_source_arn": queue,
            "function_name": function_ref(binding.function),
            "batch_size": binding.batch_size,
        }
        if binding.batching_window:
            mapping["maximum_batching_window_in_seconds"] = binding.batching_window
        add("aws_lambda_event_source_mapping", key, mapping)
    elif isinstance(binding, TopicBinding):
        topic = (
            binding.topic
            if binding.topic.startswith("arn:")
            else resource_arn("sns", binding.topic)
        )
        if any(t.name == binding.topic for t in graph.topics):
            topic = f"${{aws_sns_topic.{tf_name(binding.topic)}.arn}}"
        add(
            "aws_sns_topic_subscription",
            key,
            {"topic_arn": topic, "protocol": "lambda", "endpoint": function_ref(binding.function)},
        )
        add("aws_lambda_permission", key, _permission(binding.function, "sns.amazonaws.com", topic))
    elif isinstance(binding, StreamBinding):
        stream = binding.stream
        if not stream.startswith("arn:") and binding.source == "dynamodb":
            # A declared table (checked when the graph was built): its stream's ARN.
            stream = f"${{aws_dynamodb_table.{tf_name(stream)}.stream_arn}}"
        elif any(s.name == stream for s in graph.streams):
            stream = f"${{aws_kinesis_stream.{tf_name(stream)}.arn}}"
        elif not stream.startswith("arn:"):
            stream = resource_arn("kinesis", f"stream/{stream}")
        mapping = {
            "event_source_arn": stream,
            "function_name": function_ref(binding.function),
            "batch_size": binding.batch_size,
            "starting_position": binding.starting_position,
        }
        if binding.batching_window:
            mapping["maximum_batching_window_in_seconds"] = binding.batching_window
        add("aws_lambda_event_source_mapping", key, mapping)


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
                "integration_uri": function_ref(API_FUNCTION, "invoke_arn"),
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
        tokens[f"@@lambic-uri-{name}@@"] = function_ref(name, "invoke_arn")
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
                "integration_uri": function_ref(function, "invoke_arn"),
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
