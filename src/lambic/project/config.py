"""Project configuration: `.lambic/config.json` in Chalice's layout, read once for everyone.

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
      "maximum_retry_attempts": 0,
      "lambda_functions": {"poll_feed": {"lambda_memory_size": 512}}
    }
  },
  "local": {"account_concurrency": 32, "idle_timeout_seconds": 300}
}
```

The runtime (`lambic local`, `lambic invoke`, the test client) and the deployer read
the file through this module only, so both sides resolve every setting alike.

Function settings resolve with Chalice's precedence, most specific first::

    stages.<stage>.lambda_functions.<fn>  >  stages.<stage>  >
    lambda_functions.<fn>                 >  top level       >  default

`lambda_architecture` ("x86_64", the default, or "arm64") is the instruction set
Lambda runs the function on; `lambic package`/`deploy` pass it to AWS (SAM
`Architectures`, Terraform `architectures`, Lambda's `Architectures`) and `lambic cost`
prices its GB-seconds by it.

`environment_variables` and `tags` merge across those levels (a more specific layer
overrides single keys, it does not replace the dict). Defaults are Chalice's: 128 MB,
60 s, no reserved concurrency. Asynchronous invocation settings (Lambda's
EventInvokeConfig: `maximum_retry_attempts`, `maximum_event_age_in_seconds`,
`on_failure_destination`, `dead_letter_queue`) follow the same precedence.

Stage settings (`api_gateway_stage`, `api_gateway_type`, the IAM keys, `resources`, ...)
are read from the stage, else the top level; they cannot be set per function.

Lambic-only local knobs live under the top-level `local` object (deploy ignores them):

- `account_concurrency` (int, default 32): the local "account" limit shared by
  functions without `reserved_concurrency`, as Lambda's unreserved account pool.
- `idle_timeout_seconds` (number, default 300): an execution environment idle this
  long is reclaimed (scale to zero), as Lambda reclaims idle sandboxes.

Every key is checked when the file is read, whichever stage is used: a known key with
the wrong type or a value Lambda would refuse is a `ConfigError` naming its JSON path.
Unknown keys are *reported* in `ProjectConfig.unknown_keys`, never an error: Chalice
ignores keys it does not know, and Chalice's deploy-only keys that Lambic does not use
yet (VPC, layers, X-Ray...) are reported the same way so a typo is never silent.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambic.project.errors import ConfigError
from lambic.project.paths import ProjectPaths
from lambic.project.resources import DeclaredResources, parse_resources

__all__ = [
    "API_FUNCTION",
    "DEFAULT_ACCOUNT_CONCURRENCY",
    "DEFAULT_API_GATEWAY_STAGE",
    "DEFAULT_IDLE_TIMEOUT_SECONDS",
    "DEFAULT_MAX_EVENT_AGE",
    "DEFAULT_MEMORY_SIZE",
    "DEFAULT_RUNTIME",
    "DEFAULT_TIMEOUT",
    "RESERVED_ENVIRONMENT_VARIABLES",
    "SUPPORTED_RUNTIMES",
    "AsyncSettings",
    "ConfigError",
    "FunctionSettings",
    "LocalConfig",
    "ProjectConfig",
    "StageConfig",
    "deployed_name",
    "load_config",
    "parse_config",
]

DEFAULT_MEMORY_SIZE = 128
DEFAULT_TIMEOUT = 60
DEFAULT_ACCOUNT_CONCURRENCY = 32
DEFAULT_IDLE_TIMEOUT_SECONDS = 300.0
#: Lambda's default maximum age of an asynchronous event (6 hours).
DEFAULT_MAX_EVENT_AGE = 21_600.0
#: The Python runtimes Lambda lets new functions use (python3.10 is deprecated).
SUPPORTED_RUNTIMES = ("python3.11", "python3.12", "python3.13", "python3.14")
#: The running interpreter's runtime when Lambda offers it, so code deploys onto the
#: Python it was run and tested on locally; else the oldest one Lambda offers.
DEFAULT_RUNTIME = (
    f"python{sys.version_info[0]}.{sys.version_info[1]}"
    if f"python{sys.version_info[0]}.{sys.version_info[1]}" in SUPPORTED_RUNTIMES
    else SUPPORTED_RUNTIMES[0]
)
#: Lambda's instruction sets (`lambda_architecture`), billed at different GB-second
#: prices; x86_64 is Lambda's default.
ARCHITECTURES = ("x86_64", "arm64")
DEFAULT_ARCHITECTURE = "x86_64"
#: Chalice's default `api_gateway_stage`.
DEFAULT_API_GATEWAY_STAGE = "api"
#: The short name of the function that serves every route, as Chalice deploys it.
API_FUNCTION = "api_handler"

# Lambda refuses these in a function's environment ("contains reserved keys"); we
# refuse them when the file is read instead of at deploy time.
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

_Check = Callable[[object, str], None]


def _integer(low: int, high: int) -> _Check:
    def check(value: object, path: str) -> None:
        # bool is an int subclass in Python; JSON true is not a number to AWS.
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(
                f"{path} must be an integer from {low} to {high}, got {_describe(value)}"
            )

    return check


def _string(value: object, path: str) -> None:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{path} must be a non-empty string, got {_describe(value)}")


def _boolean(value: object, path: str) -> None:
    if not isinstance(value, bool):
        raise ConfigError(f"{path} must be true or false, got {_describe(value)}")


def _one_of(*choices: str) -> _Check:
    def check(value: object, path: str) -> None:
        if value not in choices:
            listed = " or ".join(json.dumps(c) for c in choices)
            raise ConfigError(f"{path} must be {listed}, got {_describe(value)}")

    return check


def _api_type(value: object, path: str) -> None:
    if not isinstance(value, str) or value.lower() not in ("rest", "http"):
        raise ConfigError(f'{path} must be "rest" or "http", got {_describe(value)}')


def _tags(value: object, path: str) -> None:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError(f"{path} must be an object of strings, got {_describe(value)}")


def _environment(value: object, path: str) -> None:
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


def _runtime(value: object, path: str) -> None:
    if value not in SUPPORTED_RUNTIMES:
        raise ConfigError(
            f"{path} {_describe(value)} is not supported; use one of "
            f"{', '.join(SUPPORTED_RUNTIMES)}"
        )


def _resources(value: object, path: str) -> None:
    parse_resources(value, path)


# Keys valid at every level: top, stage, function and stage + function. Lambda's own
# limits are enforced here because AWS would refuse anything outside them at deploy.
_FUNCTION_KEYS: dict[str, _Check] = {
    "lambda_memory_size": _integer(128, 10240),
    "lambda_timeout": _integer(1, 900),
    "lambda_runtime": _runtime,
    "lambda_architecture": _one_of(*ARCHITECTURES),
    "reserved_concurrency": _integer(0, 1_000_000),
    "environment_variables": _environment,
    "tags": _tags,
    "maximum_retry_attempts": _integer(0, 2),
    "maximum_event_age_in_seconds": _integer(60, 21600),
    "on_failure_destination": _string,
    "dead_letter_queue": _string,
}
# Keys of a whole stage: top level or `stages.<stage>`, never per function.
_STAGE_KEYS: dict[str, _Check] = {
    "api_gateway_stage": _string,
    "api_gateway_type": _api_type,
    "api_gateway_endpoint_type": _one_of("EDGE", "REGIONAL", "PRIVATE"),
    "autogen_policy": _boolean,
    "iam_policy_file": _string,
    "iam_role_arn": _string,
    "manage_iam_role": _boolean,
    "minimum_compression_size": _integer(0, 10_485_760),
    "resources": _resources,
}
# Chalice's keys Lambic does not use yet: accepted without a check and reported once
# as unsupported (`ProjectConfig.unsupported_keys`), never as unknown.
_CHALICE_KEYS = frozenset(
    {
        "api_gateway_endpoint_vpce",
        "api_gateway_policy_file",
        "api_gateway_custom_domain",
        "websocket_api_custom_domain",
        "subnet_ids",
        "security_group_ids",
        "layers",
        "automatic_layer",
        "xray",
        "lambda_ephemeral_storage",
        "log_retention_in_days",
    }
)
# Chalice accepts its keys at every level (some, like IAM, per function too), so only
# a key unknown everywhere is reported.
_KNOWN_FUNCTION_KEYS = frozenset(_FUNCTION_KEYS) | frozenset(_STAGE_KEYS) | _CHALICE_KEYS
_KNOWN_STAGE_KEYS = _KNOWN_FUNCTION_KEYS | {"lambda_functions"}
_KNOWN_TOP_KEYS = _KNOWN_STAGE_KEYS | {"version", "app_name", "stages", "local"}
_KNOWN_LOCAL_KEYS = frozenset({"account_concurrency", "idle_timeout_seconds"})


def deployed_name(app_name: str, stage: str, function: str) -> str:
    """Chalice's function naming: the routes' function after the app and stage only.

    >>> deployed_name("shop", "dev", "api_handler"), deployed_name("shop", "dev", "worker")
    ('shop-dev', 'shop-dev-worker')
    """
    suffix = "" if function == API_FUNCTION else f"-{function}"
    return f"{app_name}-{stage}{suffix}"


@dataclass(frozen=True)
class AsyncSettings:
    """One function's asynchronous invocation configuration (Lambda's EventInvokeConfig)."""

    maximum_retry_attempts: int = 2
    maximum_event_age_in_seconds: float = DEFAULT_MAX_EVENT_AGE
    on_failure: str | None = None  # SQS queue name/ARN for the invocation record
    dead_letter_queue: str | None = None  # SQS queue name/ARN for the original event


@dataclass(frozen=True)
class FunctionSettings:
    """One function as it runs in one stage: its names and its resolved settings.

    The runtime runs exactly this and the deployer creates exactly this, so a setting
    means the same locally and on AWS.
    """

    name: str  # short name: "api_handler", "update_status"
    deployed_name: str  # Chalice's naming: "{app}-{stage}" / "{app}-{stage}-{name}"
    handler: str = ""  # "app.app", "app.update_status"
    kind: str = "lambda"
    memory_size: int = DEFAULT_MEMORY_SIZE
    timeout: int = DEFAULT_TIMEOUT
    reserved_concurrency: int | None = None
    environment_variables: Mapping[str, str] = field(default_factory=dict)
    runtime: str = DEFAULT_RUNTIME
    tags: Mapping[str, str] = field(default_factory=dict)
    asynchronous: AsyncSettings = field(default_factory=AsyncSettings)
    #: The instruction set Lambda runs (and bills) the function on.
    architecture: str = DEFAULT_ARCHITECTURE

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.deployed_name}"


@dataclass(frozen=True)
class LocalConfig:
    """Lambic-only knobs for `lambic local` (see the module docstring)."""

    account_concurrency: int = DEFAULT_ACCOUNT_CONCURRENCY
    idle_timeout_seconds: float = DEFAULT_IDLE_TIMEOUT_SECONDS


@dataclass(frozen=True)
class ProjectConfig:
    """A validated config file. `resolve(stage, function)` gives a function's settings.

    >>> cfg = parse_config({"lambda_timeout": 10, "stages": {"dev": {"lambda_timeout": 20}}})
    >>> cfg.resolve("dev", "api_handler").timeout
    20
    """

    raw: Mapping[str, Any] = field(default_factory=dict)
    app_name: str | None = None
    local: LocalConfig = field(default_factory=LocalConfig)
    unknown_keys: tuple[str, ...] = ()
    #: Chalice's keys that Lambic reads but does not apply (VPC, layers, X-Ray...).
    unsupported_keys: tuple[str, ...] = ()

    def stages(self) -> list[str]:
        return sorted(self.raw.get("stages") or {})

    def resolve(
        self,
        stage: str,
        function_name: str,
        *,
        app_name: str | None = None,
        handler: str = "",
        kind: str = "lambda",
    ) -> FunctionSettings:
        """The settings of `function_name` (short name) in `stage`, Chalice's precedence."""
        values: dict[str, Any] = {}
        env: dict[str, str] = {}
        tags: dict[str, str] = {}
        # Least specific first, so later layers override (Chalice's precedence).
        for layer in self._function_layers(stage, function_name):
            values.update(layer)
            env.update(layer.get("environment_variables") or {})
            tags.update(layer.get("tags") or {})
        app = app_name or self.app_name or "app"
        return FunctionSettings(
            name=function_name,
            deployed_name=deployed_name(app, stage, function_name),
            handler=handler,
            kind=kind,
            memory_size=values.get("lambda_memory_size", DEFAULT_MEMORY_SIZE),
            timeout=values.get("lambda_timeout", DEFAULT_TIMEOUT),
            runtime=values.get("lambda_runtime", DEFAULT_RUNTIME),
            architecture=values.get("lambda_architecture", DEFAULT_ARCHITECTURE),
            reserved_concurrency=values.get("reserved_concurrency"),
            environment_variables=env,
            tags=tags,
            asynchronous=AsyncSettings(
                maximum_retry_attempts=values.get("maximum_retry_attempts", 2),
                maximum_event_age_in_seconds=float(
                    values.get("maximum_event_age_in_seconds", DEFAULT_MAX_EVENT_AGE)
                ),
                on_failure=values.get("on_failure_destination"),
                dead_letter_queue=values.get("dead_letter_queue"),
            ),
        )

    def stage_value(self, stage: str, key: str, default: Any = None) -> Any:
        """A stage setting: the stage's own value, else the top level's, else `default`."""
        stage_cfg: Mapping[str, Any] = (self.raw.get("stages") or {}).get(stage) or {}
        if key in stage_cfg:
            return stage_cfg[key]
        return self.raw.get(key, default)

    def resources(self, stage: str) -> DeclaredResources:
        """The declared resources of `stage` (a stage's `resources` replaces the top's)."""
        stage_cfg: Mapping[str, Any] = (self.raw.get("stages") or {}).get(stage) or {}
        if "resources" in stage_cfg:
            return parse_resources(stage_cfg["resources"], f"stages.{stage}.resources")
        return parse_resources(self.raw.get("resources") or {}, "resources")

    def api_gateway_stage(self, stage: str) -> str:
        """The API Gateway stage name for a Chalice stage (default "api")."""
        return str(self.stage_value(stage, "api_gateway_stage", DEFAULT_API_GATEWAY_STAGE))

    def _function_layers(self, stage: str, function_name: str) -> list[Mapping[str, Any]]:
        raw = self.raw
        stage_cfg: Mapping[str, Any] = (raw.get("stages") or {}).get(stage) or {}
        top_fn: Mapping[str, Any] = (raw.get("lambda_functions") or {}).get(function_name) or {}
        stage_fn: Mapping[str, Any] = (stage_cfg.get("lambda_functions") or {}).get(
            function_name
        ) or {}
        return [raw, top_fn, stage_cfg, stage_fn]


@dataclass(frozen=True)
class StageConfig:
    """One stage of a project as the deployer needs it: stage settings resolved.

    `function(name)` gives the same `FunctionSettings` the local runtime runs.
    """

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
    resources: DeclaredResources
    config: ProjectConfig = field(repr=False)

    def function(self, name: str, *, handler: str = "", kind: str = "lambda") -> FunctionSettings:
        """Settings for the function with short name `name` (e.g. `api_handler`)."""
        return self.config.resolve(
            self.stage, name, app_name=self.app_name, handler=handler, kind=kind
        )

    @classmethod
    def of(cls, config: ProjectConfig, project_dir: Path, stage: str, app_name: str) -> StageConfig:
        role_arn = config.stage_value(stage, "iam_role_arn")
        manage = bool(config.stage_value(stage, "manage_iam_role", True))
        if not manage and not role_arn:
            raise ConfigError(
                f"stages.{stage}: manage_iam_role is false but no iam_role_arn is set; add one"
            )
        return cls(
            project_dir=project_dir,
            app_name=app_name,
            stage=stage,
            api_gateway_stage=config.api_gateway_stage(stage),
            api_gateway_type=str(config.stage_value(stage, "api_gateway_type", "rest")).lower(),
            api_gateway_endpoint_type=str(
                config.stage_value(stage, "api_gateway_endpoint_type", "EDGE")
            ),
            manage_iam_role=manage,
            iam_role_arn=str(role_arn) if role_arn else None,
            autogen_policy=bool(config.stage_value(stage, "autogen_policy", True)),
            iam_policy_file=config.stage_value(stage, "iam_policy_file"),
            minimum_compression_size=config.stage_value(stage, "minimum_compression_size"),
            resources=config.resources(stage),
            config=config,
        )


def load_config(project_dir: str | Path) -> ProjectConfig:
    """Read `<project_dir>/.lambic/config.json` (or a Chalice project's
    `.chalice/config.json`); a missing file means all defaults."""
    path = ProjectPaths(Path(project_dir)).config_file
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


def load_stage_config(project_dir: Path, stage: str, app_name: str | None = None) -> StageConfig:
    """Read the config under `project_dir` and resolve `stage` for the deployer.

    A project without a config file deploys with defaults, named after `app_name`.
    """
    config = load_config(project_dir)
    name = config.app_name or app_name
    if not name:
        raise ConfigError(
            f'no app_name in {ProjectPaths(project_dir).config_file}; add "app_name": "<name>"'
        )
    return StageConfig.of(config, project_dir, stage, name)


def parse_config(data: object) -> ProjectConfig:
    """Validate a decoded config document; raise `ConfigError` naming the bad key."""
    if not isinstance(data, dict):
        raise ConfigError(f"config must be a JSON object, got {_describe(data)}")
    unknown: list[str] = [k for k in data if k not in _KNOWN_TOP_KEYS]
    unsupported: list[str] = []
    app_name = data.get("app_name")
    if app_name is not None and not isinstance(app_name, str):
        raise ConfigError(f"app_name must be a string, got {_describe(app_name)}")
    if "version" in data and not isinstance(data["version"], str):
        raise ConfigError(
            f'version must be a string such as "2.0", got {_describe(data["version"])}'
        )
    _check_level(data, "", unknown, unsupported, stage_level=True)
    for path, stage_cfg in _members(data.get("stages", {}), "stages"):
        unknown += [f"{path}.{k}" for k in stage_cfg if k not in _KNOWN_STAGE_KEYS]
        _check_level(stage_cfg, f"{path}.", unknown, unsupported, stage_level=True)
    local = _parse_local(data.get("local", {}), unknown)
    return ProjectConfig(
        raw=data,
        app_name=app_name,
        local=local,
        unknown_keys=tuple(unknown),
        unsupported_keys=tuple(unsupported),
    )


def _check_level(
    cfg: Mapping[str, Any],
    prefix: str,
    unknown: list[str],
    unsupported: list[str],
    *,
    stage_level: bool,
) -> None:
    checks = {**_FUNCTION_KEYS, **_STAGE_KEYS} if stage_level else _FUNCTION_KEYS
    for key, check in checks.items():
        if key in cfg:
            check(cfg[key], f"{prefix}{key}")
    unsupported += [f"{prefix}{key}" for key in cfg if key in _CHALICE_KEYS]
    if not stage_level or "lambda_functions" not in cfg:
        return
    for path, fn_cfg in _members(cfg["lambda_functions"], f"{prefix}lambda_functions"):
        unknown += [f"{path}.{k}" for k in fn_cfg if k not in _KNOWN_FUNCTION_KEYS]
        _check_level(fn_cfg, f"{path}.", unknown, unsupported, stage_level=False)


def _members(container: object, path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The named objects of `stages` or `lambda_functions`, each with its JSON path."""
    if not isinstance(container, dict):
        raise ConfigError(f"{path} must be an object, got {_describe(container)}")
    for name, member in container.items():
        if not isinstance(member, dict):
            raise ConfigError(f"{path}.{name} must be an object, got {_describe(member)}")
        yield f"{path}.{name}", member


def _parse_local(value: object, unknown: list[str]) -> LocalConfig:
    if not isinstance(value, dict):
        raise ConfigError(f"local must be an object, got {_describe(value)}")
    unknown += [f"local.{k}" for k in value if k not in _KNOWN_LOCAL_KEYS]
    account = value.get("account_concurrency", DEFAULT_ACCOUNT_CONCURRENCY)
    _integer(1, 10_000)(account, "local.account_concurrency")
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
