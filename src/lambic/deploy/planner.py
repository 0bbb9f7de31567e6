"""Desired state vs the deployed record → a plan of the AWS changes, as frozen data.

`desired_resources(graph, ...)` turns the resource graph into `DesiredResource`s: a
stable key, a kind, a rank (creation order: role, functions, API, event wiring) and a
content hash per independently updatable aspect. `Planner.plan(desired, record)`
compares those hashes with the record's and returns the steps:

    create   key absent from the record
    update   some part hashes differ (`changed` names them, so only they are touched)
    delete   key in the record but no longer desired (highest rank first)

An unchanged app yields an empty plan, hence no mutating AWS call at all. A stateful
resource (table, bucket, queue, Kinesis stream) dropped from the config is not deleted
by a deploy: it is listed in `Plan.kept` and stays in the record, so `lambic delete
--include-data` (the one consent to losing data) removes it, and declaring it again
adopts it.

`Planner.plan_delete(record)` deletes everything except the stateful kinds (tables,
buckets, queues, streams): those hold data nobody can redeploy, so they are listed in
`Plan.kept` and stay in the record. With `include_data=True` they are deleted too, and
their steps are marked `changed={"data"}`: the executor empties a bucket only for such
a step, so a bucket dropped from the config by a later deploy is still refused while
it holds objects.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from lambic.deploy.openapi import substitute_uris
from lambic.deploy.records import DeployedRecord
from lambic.deploy.resources import (
    FunctionResource,
    PatternBinding,
    QueueBinding,
    ResourceGraph,
    S3Binding,
    ScheduleBinding,
    StreamBinding,
    TopicBinding,
    canonical_json,
)
from lambic.project.config import API_FUNCTION

RANKS = {
    "role": 0,
    "table": 0,
    "bucket": 0,
    "queue": 0,
    "topic": 0,
    "bus": 0,
    "stream": 0,
    "function": 1,
    "rest_api": 2,
    "http_api": 2,
    "websocket_api": 2,
    "binding": 3,
}

#: Kinds whose deletion loses data; `lambic delete` keeps them unless asked not to.
STATEFUL = frozenset({"table", "bucket", "queue", "stream"})


@dataclass(frozen=True)
class DesiredResource:
    key: str
    kind: str  # "role" | "table" | "bucket" | "function" | "rest_api" | "http_api"
    #            | "websocket_api" | "binding"
    parts: tuple[tuple[str, str], ...]
    spec: Any  # the graph object (with ARNs filled in for the API)

    @property
    def rank(self) -> int:
        return RANKS[self.kind]


@dataclass(frozen=True)
class Step:
    action: str  # "create" | "update" | "delete"
    key: str
    kind: str
    changed: frozenset[str]
    desired: DesiredResource | None  # None for deletes


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    kept: tuple[str, ...] = ()  # record keys a delete leaves in place (their data)

    @property
    def is_empty(self) -> bool:
        return not self.steps

    def describe(self) -> list[str]:
        """One human line per step, e.g. `update function:api_handler (code)`."""
        return [
            f"{s.action} {s.key}" + (f" ({', '.join(sorted(s.changed))})" if s.changed else "")
            for s in self.steps
        ]


@dataclass(frozen=True)
class RestApiSpec:
    """The REST API with every function URI resolved to a real ARN."""

    name: str
    stage_name: str
    endpoint_type: str
    body: str  # canonical JSON OpenAPI document
    invokers: tuple[str, ...]  # deployed names of functions API Gateway calls


@dataclass(frozen=True)
class HttpApiSpec:
    name: str
    function_arn: str
    function_name: str
    routes: tuple[str, ...]  # route keys, "GET /users/{id}"


@dataclass(frozen=True)
class WebsocketApiSpec:
    """The WebSocket API with each route's function resolved to its deployed name and ARN."""

    name: str
    stage_name: str
    routes: tuple[tuple[str, str, str], ...]  # (route key, function name, function ARN)
    role_name: str | None  # the role Lambic manages, which may manage the connections


def _hash(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()[:20]


def function_arn(region: str, account: str, name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:lambda:{region}:{account}:function:{name}"


def desired_resources(
    graph: ResourceGraph, *, region: str, account_id: str, code_sha256: str
) -> list[DesiredResource]:
    """Every resource the stage should have, in creation order."""
    out: list[DesiredResource] = []
    if graph.role.policy is not None:
        out.append(
            DesiredResource("role", "role", (("policy", _hash(graph.role.policy)),), graph.role)
        )
    for table in graph.tables:
        out.append(
            DesiredResource(
                f"table:{table.name}", "table", (("definition", _hash(table.definition)),), table
            )
        )
    for bucket in graph.buckets:
        out.append(
            DesiredResource(
                f"bucket:{bucket.name}",
                "bucket",
                (
                    ("website", _hash(bucket.index_document)),
                    ("cors", _hash(bucket.cors)),
                    ("public", _hash(bucket.public_read)),
                ),
                bucket,
            )
        )
    out += _messaging(graph)
    for function in graph.functions:
        out.append(_function(function, code_sha256))
    if graph.api is not None:
        names = {f.name: f.function_name for f in graph.functions}
        if graph.api.kind == "rest":
            uri = (
                f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{{arn}}/invocations"
            )
            body = substitute_uris(
                graph.api.openapi(),
                lambda name: uri.format(arn=function_arn(region, account_id, names[name])),
            )
            spec = RestApiSpec(
                graph.api.name,
                graph.api.stage_name,
                graph.api.endpoint_type,
                canonical_json(body),
                tuple(names[n] for n in (API_FUNCTION, *graph.api.authorizer_functions)),
            )
            parts = (
                ("definition", _hash([spec.body, spec.stage_name])),
                ("permissions", _hash(spec.invokers)),
            )
            out.append(DesiredResource("api", "rest_api", parts, spec))
        else:
            handler = names[API_FUNCTION]
            http = HttpApiSpec(
                graph.api.name,
                function_arn(region, account_id, handler),
                handler,
                tuple(f"{method} {path}" for method, path in graph.api.routes),
            )
            parts = (("routes", _hash(http.routes)), ("target", _hash(http.function_arn)))
            out.append(DesiredResource("api", "http_api", parts, http))
    if graph.websocket_api is not None:
        out.append(_websocket_api(graph, region, account_id))
    for binding in graph.bindings:
        key = f"{_binding_kind(binding)}:{binding.function}"
        out.append(DesiredResource(key, "binding", (("settings", _hash(repr(binding))),), binding))
    return out


def _messaging(graph: ResourceGraph) -> list[DesiredResource]:
    """Queues (dead-letter queues first), then topics (their subscriptions need the
    queues), then event buses and Kinesis streams."""
    out = [
        DesiredResource(
            f"queue:{queue.name}",
            "queue",
            (("attributes", _hash([queue.attributes, queue.dead_letter, queue.sns_sources])),),
            queue,
        )
        for queue in graph.queues
    ]
    out += [
        DesiredResource(
            f"topic:{topic.name}",
            "topic",
            (
                ("attributes", _hash(topic.attributes)),
                ("subscriptions", _hash(repr(topic.subscriptions))),
            ),
            topic,
        )
        for topic in graph.topics
    ]
    out += [DesiredResource(f"bus:{bus.name}", "bus", (), bus) for bus in graph.buses]
    out += [
        DesiredResource(
            f"stream:{stream.name}",
            "stream",
            (
                ("mode", _hash(stream.mode)),
                ("shards", _hash(stream.shard_count)),
                ("retention", _hash(stream.retention_hours)),
            ),
            stream,
        )
        for stream in graph.streams
    ]
    return out


def _websocket_api(graph: ResourceGraph, region: str, account_id: str) -> DesiredResource:
    ws = graph.websocket_api
    if ws is None:
        raise ValueError("the graph has no WebSocket API")
    names = {f.name: f.function_name for f in graph.functions}
    spec = WebsocketApiSpec(
        ws.name,
        ws.stage_name,
        tuple(
            (key, names[short], function_arn(region, account_id, names[short]))
            for key, short in ws.routes
        ),
        graph.role.name if graph.role.policy is not None else None,
    )
    parts = (
        ("routes", _hash(spec.routes)),
        ("stage", _hash(spec.stage_name)),
        ("policy", _hash(spec.role_name)),
    )
    return DesiredResource("websocket_api", "websocket_api", parts, spec)


def _architecture_suffix(architecture: str) -> str:
    return "" if architecture == "x86_64" else f"/{architecture}"


def _function(function: FunctionResource, code_sha256: str) -> DesiredResource:
    config = [
        function.handler,
        function.runtime,
        function.memory_size,
        function.timeout,
        function.environment,
    ]
    parts = (
        # Lambda takes Architectures with the code (UpdateFunctionCode), not the config;
        # x86_64, AWS's default, keeps the digest stacks deployed before it was passed.
        ("code", code_sha256 + _architecture_suffix(function.architecture)),
        ("config", _hash(config)),
        ("concurrency", _hash(function.reserved_concurrency)),
        ("tags", _hash(function.tags)),
    )
    return DesiredResource(f"function:{function.name}", "function", parts, function)


def _binding_kind(binding: object) -> str:
    kinds: dict[type, str] = {
        ScheduleBinding: "schedule",
        PatternBinding: "cloudwatch",
        S3Binding: "s3",
        QueueBinding: "sqs",
        TopicBinding: "sns",
        StreamBinding: "stream",
    }
    return kinds[type(binding)]


class Planner:
    """Compares desired resources with a deployed record."""

    def plan(
        self,
        desired: list[DesiredResource],
        record: DeployedRecord | None,
        *,
        keep_dropped_data: bool = True,
    ) -> Plan:
        deployed = record.resources if record else {}
        steps: list[Step] = []
        for resource in sorted(desired, key=lambda r: r.rank):
            existing = deployed.get(resource.key)
            if existing is None or existing.kind != resource.kind:
                steps.append(Step("create", resource.key, resource.kind, frozenset(), resource))
                continue
            changed = frozenset(
                name for name, digest in resource.parts if existing.parts.get(name) != digest
            )
            if changed:
                steps.append(Step("update", resource.key, resource.kind, changed, resource))
        wanted = {r.key: r.kind for r in desired}
        stale = [r for r in deployed.values() if wanted.get(r.key) != r.kind]
        # Data is never lost to a deploy: a stateful resource dropped from the config
        # stays (and in the record) until `lambic delete --include-data`.
        kept = tuple(r.key for r in stale if keep_dropped_data and r.kind in STATEFUL)
        for gone in sorted(stale, key=lambda r: RANKS.get(r.kind, 9), reverse=True):
            if gone.key not in kept:
                steps.append(Step("delete", gone.key, gone.kind, frozenset(), None))
        # Deletes of replaced resources (same key, new kind) must run before the create.
        return Plan(tuple(_order(steps)), kept)

    def plan_delete(self, record: DeployedRecord, *, include_data: bool = False) -> Plan:
        """Everything in the record, removed in reverse creation order.

        Stateful resources are kept (`Plan.kept`) unless `include_data`; then their
        steps say `changed={"data"}`, i.e. "with everything stored in it".
        """
        everything = self.plan([], record, keep_dropped_data=False).steps
        if include_data:
            return Plan(
                tuple(
                    Step(s.action, s.key, s.kind, frozenset({"data"}), None)
                    if s.kind in STATEFUL
                    else s
                    for s in everything
                )
            )
        return Plan(
            tuple(s for s in everything if s.kind not in STATEFUL),
            tuple(s.key for s in everything if s.kind in STATEFUL),
        )


def _order(steps: list[Step]) -> list[Step]:
    replaced = {s.key for s in steps if s.action == "create"}
    first = [s for s in steps if s.action == "delete" and s.key in replaced]
    return first + [s for s in steps if s not in first]
