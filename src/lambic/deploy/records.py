"""`.lambic/deployed/<stage>.json`: what a stage has on AWS, as `lambic deploy` left it.

The record lists every resource Lambic created, in creation order, with the ids
needed to update or delete it (`attrs`) and one content hash per independently
updatable aspect (`parts`, e.g. a function's code, configuration and concurrency).
The executor rewrites the file after every step, atomically, so a deploy that fails
midway leaves an accurate record that the next `deploy` or `delete` finishes from.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambic.deploy.errors import RecordError
from lambic.project.paths import ProjectPaths

SCHEMA_VERSION = 1


@dataclass
class DeployedResource:
    key: str  # stable identity, e.g. "function:api_handler", "schedule:every_hour"
    kind: str
    parts: dict[str, str]
    attrs: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "kind": self.kind, "parts": self.parts, "attrs": self.attrs}

    def label(self) -> str:
        """Kind and AWS name or id, for people: `table trainstatus`, `REST API a1b2c3 (web)`.

        A binding is named by what it connects, source to function:
        `SQS mapping jobs -> app-dev-worker`. A resource recorded before its name
        attribute existed (or a half-created one) falls back to its record key.
        """
        if self.kind == "binding":
            return _binding_label(self.key, self.attrs)
        name = self.attrs.get(_NAME_ATTRS.get(self.kind, ""))
        kind = _KIND_NAMES.get(self.kind, self.kind)
        if not name:
            return f"{kind} {self.key}"
        title = self.attrs.get("name")
        return f"{kind} {name} ({title})" if title and title != name else f"{kind} {name}"


# The attribute holding each kind's AWS name or id (a binding has none: its key names it).
_NAME_ATTRS = {
    "role": "role_name",
    "function": "function_name",
    "table": "table_name",
    "bucket": "bucket",
    "queue": "queue",
    "topic": "topic",
    "bus": "bus",
    "stream": "stream",
    "rest_api": "api_id",
    "http_api": "api_id",
    "websocket_api": "api_id",
}

# How AWS's consoles and docs name each kind, where that differs from Lambic's key.
_KIND_NAMES = {
    "rest_api": "REST API",
    "http_api": "HTTP API",
    "websocket_api": "WebSocket API",
    "queue": "SQS queue",
    "topic": "SNS topic",
    "bus": "event bus",
    "stream": "Kinesis stream",
}


def _binding_label(key: str, attrs: dict[str, Any]) -> str:
    source, _, short_name = key.partition(":")
    function = attrs.get("function_name", short_name)
    kind = attrs.get("type")
    if kind == "rule":
        what = "schedule rule" if source == "schedule" else "event rule"
        rule = attrs.get("rule", function)
        # Lambic names a rule after its function; say the target only when they differ.
        return f"{what} {rule}" if rule == function else f"{what} {rule} -> {function}"
    if kind == "s3":
        return f"S3 notification on bucket {attrs.get('bucket')} -> {function}"
    if kind == "sns":
        topic = str(attrs.get("topic", ""))
        return f"SNS subscription {topic.rsplit(':', 1)[-1]} -> {function}"
    # Event source mappings: the identity is "<source>:<queue or stream>[:<position>]".
    identity = str(attrs.get("identity", ""))
    origin, _, rest = identity.partition(":")
    if origin == "sqs":
        return f"SQS mapping {rest.rsplit(':', 1)[-1]} -> {function}"
    if origin in ("dynamodb", "kinesis"):
        # ARNs end ".../table/<name>/stream/<time>" or ":stream/<name>"; the position
        # (LATEST, TRIM_HORIZON) follows the last colon.
        stream = rest.rsplit(":", 1)[0]
        name = stream.split("/")[1] if "/" in stream else stream
        title = "DynamoDB stream" if origin == "dynamodb" else "Kinesis stream"
        return f"{title} mapping {name} -> {function}"
    return f"{source} binding -> {function}"


@dataclass
class DeployedRecord:
    app_name: str
    stage: str
    region: str
    account_id: str
    api_url: str | None = None
    resources: dict[str, DeployedResource] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "app_name": self.app_name,
            "stage": self.stage,
            "region": self.region,
            "account_id": self.account_id,
            "api_url": self.api_url,
            "resources": [resource.to_json() for resource in self.resources.values()],
        }

    def function_names(self) -> list[str]:
        """Deployed names of the stage's Lambda functions."""
        return [
            str(r.attrs["function_name"])
            for r in self.resources.values()
            if r.kind == "function" and "function_name" in r.attrs
        ]


def record_path(project_dir: Path, stage: str) -> Path:
    return ProjectPaths(project_dir).deployed_record(stage)


def load_record(project_dir: Path, stage: str) -> DeployedRecord | None:
    """The stage's record, or None if the stage was never deployed (or fully deleted)."""
    path = record_path(project_dir, stage)
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        record = DeployedRecord(
            app_name=raw["app_name"],
            stage=raw["stage"],
            region=raw["region"],
            account_id=raw["account_id"],
            api_url=raw.get("api_url"),
        )
        for item in raw["resources"]:
            resource = DeployedResource(item["key"], item["kind"], item["parts"], item["attrs"])
            record.resources[resource.key] = resource
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RecordError(
            f"cannot read {path} ({exc}); restore it from version control or delete the "
            "stage's resources by hand"
        ) from exc
    return record


def save_record(project_dir: Path, record: DeployedRecord) -> None:
    """Write the record atomically (a crash never leaves half a file)."""
    path = record_path(project_dir, record.stage)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record.to_json(), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def remove_record(project_dir: Path, stage: str) -> None:
    record_path(project_dir, stage).unlink(missing_ok=True)
