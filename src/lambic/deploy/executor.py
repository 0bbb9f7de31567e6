"""Carrying out a plan with boto3, recording progress after every step.

`Executor.execute(plan)` runs the steps in order. After each successful step (and at
the checkpoints inside multi-call creates) it rewrites `.lambic/deployed/<stage>.json`,
so an interrupted deploy can be resumed by `lambic deploy` or undone by `lambic delete`.
A failing AWS call stops the run with an `AWSError` naming the step and what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from typing import Any

from lambic.deploy import (
    _apis,
    _handlers,
    _messaging,
    _storage,
    _streams,
    _websocket,
    _wiring,
    progress,
)
from lambic.deploy._handlers import StepContext
from lambic.deploy.aws import AWSSession, error_code, translate_error
from lambic.deploy.planner import Plan, Step
from lambic.deploy.records import DeployedRecord, DeployedResource, remove_record, save_record
from lambic.deploy.resources import ResourceGraph

_GONE = {"ResourceNotFoundException", "NotFoundException", "NoSuchEntity"}

# How a recorded resource of each kind is deleted; every other kind is a binding.
_DELETERS: dict[str, Callable[[StepContext, dict[str, Any]], None]] = {
    "role": _handlers.delete_role,
    "function": _handlers.delete_function,
    "table": _storage.delete_table,
    "bucket": _storage.delete_bucket,
    "queue": _messaging.delete_queue,
    "topic": _messaging.delete_topic,
    "bus": _messaging.delete_bus,
    "stream": _streams.delete_stream,
    "rest_api": _apis.delete_rest_api,
    "http_api": _apis.delete_http_api,
    "websocket_api": _websocket.delete_websocket_api,
}

# What must be removed from inside a resource before it can be deleted, for delete
# steps that include the data (`changed={"data"}`, only from `lambic delete --include-data`).
_EMPTIERS: dict[str, Callable[[StepContext, dict[str, Any]], None]] = {
    "bucket": _storage.empty_bucket,
}


def _silent(line: str) -> None:
    """The default progress printer: prints nothing."""


@dataclass(eq=False)
class Executor:
    """Applies plans for one stage of one project to one AWS account and region."""

    aws: AWSSession
    project_dir: Path
    record: DeployedRecord
    _: KW_ONLY
    graph: ResourceGraph | None = None
    zip_bytes: bytes = b""
    role_arn: str | None = None
    echo: Callable[[str], None] = _silent
    # Functions recreated after an out-of-band delete: what invoked them lost its
    # permission with them (see `invalidate_dependents`).
    recreated: list[str] = field(default_factory=list, init=False)
    ctx: StepContext = field(init=False)
    _current: Step | None = field(default=None, init=False)
    # What each executed step did, by record key ("created", "updated", "deleted"),
    # across every plan this executor ran: the deploy summary counts it.
    done: dict[str, str] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.ctx = _handlers.StepContext(
            self.aws, self.record.app_name, self.record.stage, self.zip_bytes, self._checkpoint
        )

    def execute(self, plan: Plan) -> DeployedRecord:
        for step in plan.steps:
            self._current = step
            # A deleted resource leaves the record, so name it before it goes.
            gone = self.record.resources[step.key].label() if step.action == "delete" else ""
            try:
                word = self._run(step)
            except Exception as exc:
                raise translate_error(exc, self.aws.region, f"{step.action} {step.key}") from exc
            finally:
                self._current = None
            # Printed once the step is done, so the line never claims more than happened.
            label = gone or self.record.resources[step.key].label()
            self.echo(progress.resource_line(word, label))
            # A resource created earlier in this deploy and touched again stays "created".
            if self.done.get(step.key) != "created":
                self.done[step.key] = word
        self._refresh_url()
        if self.record.resources:
            save_record(self.project_dir, self.record)
        else:
            remove_record(self.project_dir, self.record.stage)
        return self.record

    # -- steps ------------------------------------------------------------------------

    def _run(self, step: Step) -> str:
        """Carry out one step; returns what happened, in the past tense."""
        if step.action == "delete":
            existing = self.record.resources[step.key]
            empty = _EMPTIERS.get(existing.kind)
            if empty is not None and "data" in step.changed:
                empty(self.ctx, existing.attrs)
            self._delete(existing)
            del self.record.resources[step.key]
            save_record(self.project_dir, self.record)
            return progress.DONE["delete"]
        desired = step.desired
        if desired is None:
            raise ValueError(f"{step.action} step {step.key} has no desired resource")
        parts = dict(desired.parts)
        word = progress.DONE[step.action]
        if step.action == "create":
            attrs = self._create(desired.kind, desired.spec, parts)
        else:
            try:
                attrs = self._update(desired.kind, desired.spec, step)
            except Exception as exc:
                if error_code(exc) not in _GONE:
                    raise
                # Deleted outside Lambic since the last deploy: create it again.
                label = self.record.resources[step.key].label()
                self.echo(f"  {label} no longer exists on AWS; creating it again")
                attrs = self._create(desired.kind, desired.spec, parts)
                word = progress.DONE["create"]
                if desired.kind == "function":
                    self.recreated.append(attrs["function_name"])
        self._store(step.key, desired.kind, parts, attrs)
        return word

    def _create(self, kind: str, spec: Any, parts: dict[str, str]) -> dict[str, Any]:
        ctx = self.ctx
        if kind == "role":
            attrs = _handlers.create_role(ctx, spec, parts)
            self.role_arn = attrs["role_arn"]
            return attrs
        if kind == "table":
            return _storage.create_table(ctx, spec)
        if kind == "bucket":
            return _storage.create_bucket(ctx, spec)
        if kind == "queue":
            return _messaging.create_queue(ctx, spec)
        if kind == "topic":
            return _messaging.create_topic(ctx, spec, parts)
        if kind == "bus":
            return _messaging.create_bus(ctx, spec)
        if kind == "stream":
            return _streams.create_stream(ctx, spec)
        if kind == "function":
            return _handlers.create_function(ctx, spec, self._role_arn(), parts)
        if kind == "rest_api":
            return _apis.create_rest_api(ctx, spec, parts)
        if kind == "http_api":
            return _apis.create_http_api(ctx, spec, parts)
        if kind == "websocket_api":
            return _websocket.create_websocket_api(ctx, spec, parts)
        return _wiring.create_binding(ctx, spec, self._function_name(spec.function), parts)

    def _update(self, kind: str, spec: Any, step: Step) -> dict[str, Any]:
        ctx = self.ctx
        attrs = dict(self.record.resources[step.key].attrs)
        if kind == "role":
            return _handlers.update_role(ctx, spec, attrs, step.changed)
        if kind == "table":
            return _storage.update_table(ctx, spec, attrs)
        if kind == "bucket":
            return _storage.update_bucket(ctx, spec, attrs)
        if kind == "queue":
            return _messaging.update_queue(ctx, spec, attrs)
        if kind == "topic":
            return _messaging.update_topic(ctx, spec, attrs, step.changed)
        if kind == "stream":
            return _streams.update_stream(ctx, spec, attrs)
        if kind == "function":
            return _handlers.update_function(ctx, spec, attrs, step.changed)
        if kind == "rest_api":
            return _apis.update_rest_api(ctx, spec, attrs, step.changed)
        if kind == "http_api":
            return _apis.update_http_api(ctx, spec, attrs, step.changed)
        if kind == "websocket_api":
            return _websocket.update_websocket_api(ctx, spec, attrs, step.changed)
        return _wiring.update_binding(ctx, spec, attrs, step.changed)

    def _delete(self, resource: DeployedResource) -> None:
        delete = _DELETERS.get(resource.kind, _wiring.delete_binding)
        delete(self.ctx, resource.attrs)

    def invalidate_dependents(self) -> bool:
        """Mark what invokes a recreated function as stale, so a new plan rewires it."""
        touched = False
        for resource in self.record.resources.values():
            attrs = resource.attrs
            if resource.kind == "rest_api" and set(attrs.get("invokers", [])) & set(self.recreated):
                resource.attrs = {**attrs, "invokers": []}
                resource.parts = {**resource.parts, "permissions": ""}
            elif resource.kind == "http_api" and attrs.get("function_name") in self.recreated:
                resource.parts = {**resource.parts, "target": ""}
            elif resource.kind == "websocket_api" and {
                r["function_name"] for r in attrs.get("routes", {}).values()
            } & set(self.recreated):
                # The recreated function lost API Gateway's permission: re-add it.
                resource.parts = {**resource.parts, "routes": ""}
            elif resource.kind == "binding" and attrs.get("function_name") in self.recreated:
                # A changed identity makes the update delete and recreate the binding.
                resource.attrs = {**attrs, "identity": ""}
                resource.parts = {**resource.parts, "settings": ""}
            else:
                continue
            touched = True
        self.recreated = []
        if touched:
            save_record(self.project_dir, self.record)
        return touched

    # -- record keeping -----------------------------------------------------------------

    def _checkpoint(self, attrs: dict[str, Any], parts: dict[str, str]) -> None:
        step = self._current
        if step is None or step.desired is None:
            return
        self._store(step.key, step.desired.kind, parts, attrs)

    def _store(self, key: str, kind: str, parts: dict[str, str], attrs: dict[str, Any]) -> None:
        self.record.resources[key] = DeployedResource(key, kind, dict(parts), dict(attrs))
        self._refresh_url()
        save_record(self.project_dir, self.record)

    def _refresh_url(self) -> None:
        api = self.record.resources.get("api")
        if api is None:
            self.record.api_url = None
        elif api.kind == "rest_api":
            self.record.api_url = _apis.rest_url(
                self.record.region, api.attrs["api_id"], api.attrs["stage_name"]
            )
        else:
            self.record.api_url = _apis.http_url(self.record.region, api.attrs["api_id"])

    def _role_arn(self) -> str:
        if self.role_arn:
            return self.role_arn
        role = self.record.resources.get("role")
        if role is None:
            raise ValueError("no execution role: the plan must create it before functions")
        self.role_arn = str(role.attrs["role_arn"])
        return self.role_arn

    def _function_name(self, short_name: str) -> str:
        if self.graph is None:
            raise ValueError("creating resources needs the resource graph")
        return self.graph.function(short_name).function_name
