"""Reading `.lambic/config.json` (Chalice's layout) for one stage.

Settings resolve the way Chalice resolves them, most specific first::

    stages.<stage>.lambda_functions.<fn>  >  stages.<stage>  >
    lambda_functions.<fn>                 >  top level       >  default

`environment_variables` and `tags` merge across those levels instead of replacing.
Per-function settings are keyed by the function's short name (`api_handler` for the
routes). The runtime has its own reader for the same file; the deploy layer must not
import runtime, so the shared parser belongs in a neutral module (known duplication,
listed in the closing note of issue 7).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambic.deploy.errors import ConfigError

SUPPORTED_RUNTIMES = ("python3.11", "python3.12")
DEFAULT_RUNTIME = "python3.11"
DEFAULT_MEMORY_MB = 128
DEFAULT_TIMEOUT_S = 60
DEFAULT_API_STAGE = "api"

# Lambda's own limits; AWS rejects values outside them, so we reject them early.
_MEMORY_RANGE = (128, 10240)
_TIMEOUT_RANGE = (1, 900)


@dataclass(frozen=True)
class FunctionConfig:
    """Resolved settings for one Lambda function in one stage."""

    memory_size: int
    timeout: int
    runtime: str
    environment: dict[str, str]
    reserved_concurrency: int | None
    tags: dict[str, str]


@dataclass(frozen=True)
class StageConfig:
    """Resolved settings for one stage of the project."""

    project_dir: Path
    app_name: str
    stage: str
    api_gateway_stage: str
    api_gateway_type: str  # "rest" | "http"
    api_gateway_endpoint_type: str
    manage_iam_role: bool
    iam_role_arn: str | None
    autogen_policy: bool
    iam_policy_file: str | None
    minimum_compression_size: int | None
    declared: dict[str, Any]  # `resources`: dynamodb_tables, s3_buckets (docs/internals §4)
    raw: dict[str, Any] = field(repr=False)

    def function(self, name: str) -> FunctionConfig:
        """Settings for the function with short name `name` (e.g. `api_handler`)."""
        memory = _int(self._lookup(name, "lambda_memory_size", DEFAULT_MEMORY_MB), name, "memory")
        timeout = _int(self._lookup(name, "lambda_timeout", DEFAULT_TIMEOUT_S), name, "timeout")
        if not _MEMORY_RANGE[0] <= memory <= _MEMORY_RANGE[1]:
            raise ConfigError(
                f"lambda_memory_size {memory} for {name!r} is outside Lambda's 128..10240 MB; "
                "fix it in .lambic/config.json"
            )
        if not _TIMEOUT_RANGE[0] <= timeout <= _TIMEOUT_RANGE[1]:
            raise ConfigError(
                f"lambda_timeout {timeout} for {name!r} is outside Lambda's 1..900 s; "
                "fix it in .lambic/config.json"
            )
        runtime = str(self._lookup(name, "lambda_runtime", DEFAULT_RUNTIME))
        if runtime not in SUPPORTED_RUNTIMES:
            raise ConfigError(
                f"lambda_runtime {runtime!r} is not supported; use one of "
                f"{', '.join(SUPPORTED_RUNTIMES)}"
            )
        reserved = self._lookup(name, "reserved_concurrency", None)
        return FunctionConfig(
            memory_size=memory,
            timeout=timeout,
            runtime=runtime,
            environment=self._merged(name, "environment_variables"),
            reserved_concurrency=None if reserved is None else _int(reserved, name, "concurrency"),
            tags=self._merged(name, "tags"),
        )

    def _levels(self, name: str) -> list[dict[str, Any]]:
        """Config dicts from least to most specific."""
        stage = _dict(self.raw.get("stages", {})).get(self.stage, {})
        return [
            self.raw,
            _dict(_dict(self.raw.get("lambda_functions", {})).get(name, {})),
            _dict(stage),
            _dict(_dict(_dict(stage).get("lambda_functions", {})).get(name, {})),
        ]

    def _lookup(self, name: str, key: str, default: Any) -> Any:
        value = default
        for level in self._levels(name):
            if key in level:
                value = level[key]
        return value

    def _merged(self, name: str, key: str) -> dict[str, str]:
        merged: dict[str, str] = {}
        for level in self._levels(name):
            values = level.get(key, {})
            if not isinstance(values, dict):
                raise ConfigError(f"{key} must be an object of strings in .lambic/config.json")
            merged.update({str(k): str(v) for k, v in values.items()})
        return merged


def load_stage_config(project_dir: Path, stage: str, app_name: str | None = None) -> StageConfig:
    """Read `.lambic/config.json` under `project_dir` and resolve `stage`.

    A project without a config file deploys with defaults, named after `app_name`.
    """
    path = project_dir / ".lambic" / "config.json"
    raw: dict[str, Any] = {}
    if path.exists():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read {path}: {exc}; fix the JSON and retry") from exc
        raw = _dict(loaded, where=str(path))
    name = raw.get("app_name") or app_name
    if not name:
        raise ConfigError(f'no app_name in {path}; add "app_name": "<name>"')
    stage_raw = _dict(_dict(raw.get("stages", {})).get(stage, {}))

    def pick(key: str, default: Any) -> Any:
        return stage_raw.get(key, raw.get(key, default))

    api_type = str(pick("api_gateway_type", "rest")).lower()
    if api_type not in ("rest", "http"):
        raise ConfigError(f'api_gateway_type must be "rest" or "http", not {api_type!r}')
    role_arn = pick("iam_role_arn", None)
    manage = bool(pick("manage_iam_role", True))
    if not manage and not role_arn:
        raise ConfigError("manage_iam_role is false but no iam_role_arn is set; add one")
    compression = pick("minimum_compression_size", None)
    return StageConfig(
        project_dir=project_dir,
        app_name=str(name),
        stage=stage,
        api_gateway_stage=str(pick("api_gateway_stage", DEFAULT_API_STAGE)),
        api_gateway_type=api_type,
        api_gateway_endpoint_type=str(pick("api_gateway_endpoint_type", "EDGE")),
        manage_iam_role=manage,
        iam_role_arn=str(role_arn) if role_arn else None,
        autogen_policy=bool(pick("autogen_policy", True)),
        iam_policy_file=pick("iam_policy_file", None),
        minimum_compression_size=None if compression is None else int(compression),
        # A stage's `resources` replaces the top-level one (docs/internals.md §4).
        declared=_dict(pick("resources", {}), where=f"{path} (resources)"),
        raw=raw,
    )


def _dict(value: Any, where: str = ".lambic/config.json") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"expected a JSON object in {where}, got {type(value).__name__}")
    return value


def _int(value: Any, name: str, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{what} for {name!r} must be an integer in .lambic/config.json")
    return value
