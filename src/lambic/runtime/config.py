"""Project configuration: `.lambic/config.json` in Chalice's layout.

```json
{
  "version": "2.0",
  "app_name": "trainstatus",
  "environment_variables": {"TABLE": "status"},
  "lambda_memory_size": 256,
  "lambda_timeout": 30,
  "lambda_functions": {"poll_feed": {"lambda_timeout": 120}},
  "stages": {
    "dev": {
      "environment_variables": {"DEBUG": "1"},
      "reserved_concurrency": 4,
      "lambda_functions": {"poll_feed": {"lambda_memory_size": 512}}
    }
  },
  "local": {"account_concurrency": 32, "idle_timeout_seconds": 300}
}
```

Resolution follows Chalice's precedence, most specific first: stage + function >
stage > function > top level; `environment_variables` are merged in the same order
(a more specific layer overrides single keys, it does not replace the dict).
Defaults are Chalice's: 128 MB, 60 s, no reserved concurrency.

Lambic-only local knobs live under the top-level `local` object (ignored by deploy):

- `account_concurrency` (int, default 32): the local "account" limit shared by
  functions without `reserved_concurrency`, as Lambda's unreserved account pool.
- `idle_timeout_seconds` (number, default 300): an execution environment idle this
  long is reclaimed (scale to zero), as Lambda reclaims idle sandboxes.

Unknown keys: Chalice ignores keys it does not know, and deploy-only keys (IAM,
VPC, layers, tags...) are legal here, so an unknown key is *reported* in
`ProjectConfig.unknown_keys` for the CLI to warn about, never an error. A known key
with the wrong type or range is a `ConfigError` naming its path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambic.runtime.errors import ConfigError

__all__ = [
    "DEFAULT_ACCOUNT_CONCURRENCY",
    "DEFAULT_IDLE_TIMEOUT_SECONDS",
    "DEFAULT_MEMORY_SIZE",
    "DEFAULT_TIMEOUT",
    "RESERVED_ENVIRONMENT_VARIABLES",
    "FunctionConfig",
    "LocalConfig",
    "ProjectConfig",
    "load_config",
    "parse_config",
]

DEFAULT_MEMORY_SIZE = 128
DEFAULT_TIMEOUT = 60
DEFAULT_ACCOUNT_CONCURRENCY = 32
DEFAULT_IDLE_TIMEOUT_SECONDS = 300.0

# Lambda refuses these in a function's environment ("contains reserved keys"); we
# refuse them at load time instead of at deploy time.
RESERVED_ENVIRONMENT_VARIABLES = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)

# Keys Chalice's config knows (deploy-only ones included) so they are not reported.
_KNOWN_SETTING_KEYS = frozenset(
    {
        "environment_variables",
        "lambda_memory_size",
        "lambda_timeout",
        "reserved_concurrency",
        "lambda_functions",
        "api_gateway_stage",
        "api_gateway_endpoint_type",
        "api_gateway_endpoint_vpce",
        "api_gateway_policy_file",
        "api_gateway_custom_domain",
        "websocket_api_custom_domain",
        "minimum_compression_size",
        "autogen_policy",
        "iam_policy_file",
        "iam_role_arn",
        "manage_iam_role",
        "subnet_ids",
        "security_group_ids",
        "layers",
        "automatic_layer",
        "tags",
        "xray",
        "lambda_ephemeral_storage",
        "log_retention_in_days",
    }
)
_KNOWN_TOP_KEYS = _KNOWN_SETTING_KEYS | {"version", "app_name", "stages", "local"}
_KNOWN_LOCAL_KEYS = frozenset({"account_concurrency", "idle_timeout_seconds"})


@dataclass(frozen=True)
class FunctionConfig:
    """The resolved settings of one function in one stage."""

    memory_size: int = DEFAULT_MEMORY_SIZE
    timeout: int = DEFAULT_TIMEOUT
    reserved_concurrency: int | None = None
    environment_variables: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LocalConfig:
    """Lambic-only knobs for `lambic local` (see the module docstring)."""

    account_concurrency: int = DEFAULT_ACCOUNT_CONCURRENCY
    idle_timeout_seconds: float = DEFAULT_IDLE_TIMEOUT_SECONDS


@dataclass(frozen=True)
class ProjectConfig:
    """A validated config file. `resolve(stage, function)` gives effective settings.

    >>> cfg = parse_config({"lambda_timeout": 10, "stages": {"dev": {"lambda_timeout": 20}}})
    >>> cfg.resolve("dev", "api_handler").timeout
    20
    """

    raw: Mapping[str, Any] = field(default_factory=dict)
    app_name: str | None = None
    local: LocalConfig = field(default_factory=LocalConfig)
    unknown_keys: tuple[str, ...] = ()

    def stages(self) -> list[str]:
        stages = self.raw.get("stages") or {}
        return sorted(stages)

    def resolve(self, stage: str, function_name: str) -> FunctionConfig:
        layers = _layers(self.raw, stage, function_name)
        memory = DEFAULT_MEMORY_SIZE
        timeout = DEFAULT_TIMEOUT
        reserved: int | None = None
        env: dict[str, str] = {}
        # Least specific first, so later layers override (Chalice's precedence).
        for layer in layers:
            if "lambda_memory_size" in layer:
                memory = layer["lambda_memory_size"]
            if "lambda_timeout" in layer:
                timeout = layer["lambda_timeout"]
            if "reserved_concurrency" in layer:
                reserved = layer["reserved_concurrency"]
            env.update(layer.get("environment_variables") or {})
        return FunctionConfig(memory, timeout, reserved, env)


def _layers(raw: Mapping[str, Any], stage: str, function_name: str) -> list[Mapping[str, Any]]:
    stage_cfg: Mapping[str, Any] = (raw.get("stages") or {}).get(stage) or {}
    top_fn: Mapping[str, Any] = (raw.get("lambda_functions") or {}).get(function_name) or {}
    stage_fn: Mapping[str, Any] = (stage_cfg.get("lambda_functions") or {}).get(function_name) or {}
    return [raw, top_fn, stage_cfg, stage_fn]


def load_config(project_dir: str | Path) -> ProjectConfig:
    """Read `<project_dir>/.lambic/config.json`; a missing file means all defaults."""
    path = Path(project_dir) / ".lambic" / "config.json"
    if not path.exists():
        return ProjectConfig()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror}") from exc
    return parse_config(data)


def parse_config(data: object) -> ProjectConfig:
    """Validate a decoded config document; raise `ConfigError` naming the bad key."""
    if not isinstance(data, dict):
        raise ConfigError(f"config must be a JSON object, got {_describe(data)}")
    unknown: list[str] = []
    unknown += [k for k in data if k not in _KNOWN_TOP_KEYS]
    app_name = data.get("app_name")
    if app_name is not None and not isinstance(app_name, str):
        raise ConfigError(f"app_name must be a string, got {_describe(app_name)}")
    if "version" in data and not isinstance(data["version"], str):
        raise ConfigError(
            f'version must be a string such as "2.0", got {_describe(data["version"])}'
        )
    _check_settings(data, "", unknown, allow_functions=True)
    stages = data.get("stages", {})
    if not isinstance(stages, dict):
        raise ConfigError(f"stages must be an object, got {_describe(stages)}")
    for stage_name, stage_cfg in stages.items():
        if not isinstance(stage_cfg, dict):
            raise ConfigError(f"stages.{stage_name} must be an object, got {_describe(stage_cfg)}")
        unknown += [f"stages.{stage_name}.{k}" for k in stage_cfg if k not in _KNOWN_SETTING_KEYS]
        _check_settings(stage_cfg, f"stages.{stage_name}.", unknown, allow_functions=True)
    local = _parse_local(data.get("local", {}), unknown)
    return ProjectConfig(raw=data, app_name=app_name, local=local, unknown_keys=tuple(unknown))


def _check_settings(
    cfg: Mapping[str, Any], prefix: str, unknown: list[str], *, allow_functions: bool
) -> None:
    if "lambda_memory_size" in cfg:
        _check_int(cfg["lambda_memory_size"], f"{prefix}lambda_memory_size", 128, 10240)
    if "lambda_timeout" in cfg:
        _check_int(cfg["lambda_timeout"], f"{prefix}lambda_timeout", 1, 900)
    if "reserved_concurrency" in cfg:
        _check_int(cfg["reserved_concurrency"], f"{prefix}reserved_concurrency", 0, 1_000_000)
    if "environment_variables" in cfg:
        _check_env(cfg["environment_variables"], f"{prefix}environment_variables")
    if not allow_functions or "lambda_functions" not in cfg:
        return
    functions = cfg["lambda_functions"]
    if not isinstance(functions, dict):
        raise ConfigError(f"{prefix}lambda_functions must be an object, got {_describe(functions)}")
    for name, fn_cfg in functions.items():
        path = f"{prefix}lambda_functions.{name}"
        if not isinstance(fn_cfg, dict):
            raise ConfigError(f"{path} must be an object, got {_describe(fn_cfg)}")
        unknown += [f"{path}.{k}" for k in fn_cfg if k not in _KNOWN_SETTING_KEYS]
        _check_settings(fn_cfg, f"{path}.", unknown, allow_functions=False)


def _check_int(value: object, path: str, low: int, high: int) -> None:
    # bool is an int subclass in Python; JSON true is not a number to AWS.
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{path} must be an integer from {low} to {high}, got {_describe(value)}")


def _check_env(value: object, path: str) -> None:
    if not isinstance(value, dict):
        raise ConfigError(f"{path} must be an object of strings, got {_describe(value)}")
    for key, item in value.items():
        if not isinstance(item, str):
            raise ConfigError(
                f"{path}.{key} must be a string (Lambda environment values are strings), "
                f"got {_describe(item)}"
            )
        if key in RESERVED_ENVIRONMENT_VARIABLES:
            raise ConfigError(
                f"{path}.{key} is reserved by Lambda and cannot be set; choose another name"
            )
        if (
            not key
            or not (key[0].isalpha() or key[0] == "_")
            or not key.replace("_", "a").isalnum()
        ):
            raise ConfigError(
                f"{path} has an invalid variable name {key!r}; use letters, digits and _ "
                "and start with a letter"
            )


def _parse_local(value: object, unknown: list[str]) -> LocalConfig:
    if not isinstance(value, dict):
        raise ConfigError(f"local must be an object, got {_describe(value)}")
    unknown += [f"local.{k}" for k in value if k not in _KNOWN_LOCAL_KEYS]
    account = value.get("account_concurrency", DEFAULT_ACCOUNT_CONCURRENCY)
    _check_int(account, "local.account_concurrency", 1, 10_000)
    idle = value.get("idle_timeout_seconds", DEFAULT_IDLE_TIMEOUT_SECONDS)
    if isinstance(idle, bool) or not isinstance(idle, int | float) or idle <= 0:
        raise ConfigError(
            f"local.idle_timeout_seconds must be a positive number, got {_describe(idle)}"
        )
    return LocalConfig(account_concurrency=account, idle_timeout_seconds=float(idle))


def _describe(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__
