"""Lambda's environment variables: what a function's code sees in `os.environ`.

On Lambda, every function runs with the runtime's reserved variables (region, function
name, memory, log group...) plus the function's own `environment_variables`, and its
module-level code (`boto3.client("dynamodb")` at the top of app.py, a table name read
from `os.environ`) runs in that same environment. Lambic builds it in one place so the
execution environments of `lambic local`/`lambic invoke` and every import of app.py that
only reads the app (the manifest, deploy's analysis) agree with Lambda and with each
other:

    >>> settings = FunctionSettings("api_handler", "shop-dev", "app.app", "api")
    >>> env = function_environment(settings, task_root=Path("/var/task"))
    >>> env["AWS_LAMBDA_FUNCTION_NAME"], env["AWS_REGION"]
    ('shop-dev', 'us-east-1')

An import that only reads the app never gets the shell's AWS identity: its credentials
and profile are replaced by the local ones, so module-level code can build clients but
can never reach a real account by accident.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from lambic.project.account import LOCAL_ACCESS_KEY, LOCAL_REGION
from lambic.project.config import API_FUNCTION, FunctionSettings, ProjectConfig

__all__ = [
    "LOCAL_CREDENTIALS",
    "SHELL_IDENTITY_VARIABLES",
    "function_environment",
    "import_environment",
    "runtime_name",
]

#: The credentials local code gets instead of the user's; the local services take any.
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": LOCAL_ACCESS_KEY,
    "AWS_SECRET_ACCESS_KEY": LOCAL_ACCESS_KEY,
}
#: Variables that select a real AWS identity or region from the shell.
SHELL_IDENTITY_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
)


def runtime_name() -> str:
    """The Lambda runtime of this interpreter, as `AWS_EXECUTION_ENV` spells it."""
    return f"python{sys.version_info[0]}.{sys.version_info[1]}"


def function_environment(
    settings: FunctionSettings,
    *,
    task_root: Path,
    region: str = LOCAL_REGION,
    log_stream: str = "",
) -> dict[str, str]:
    """Lambda's reserved variables for one function (without credentials or its own)."""
    env = {
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(task_root),
        "LAMBDA_RUNTIME_DIR": str(Path(sys.executable).parent),
        "_HANDLER": settings.handler,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime_name()}",
        "AWS_LAMBDA_FUNCTION_NAME": settings.deployed_name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(settings.memory_size),
        "AWS_LAMBDA_LOG_GROUP_NAME": settings.log_group,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    }
    if log_stream:
        env["AWS_LAMBDA_LOG_STREAM_NAME"] = log_stream
    return env


def import_environment(
    config: ProjectConfig,
    stage: str,
    *,
    project_dir: Path,
    app_name: str | None = None,
    base: Mapping[str, str],
    extra: Mapping[str, str] | None = None,
    shell_identity: bool = False,
) -> dict[str, str]:
    """The environment to import app.py in when only reading the app.

    `base` (the caller's environment) minus the shell's AWS identity, plus what the
    routes' function would see on Lambda in `stage`: the reserved variables, local
    credentials, `extra` (under `lambic local`, the local endpoint) and the stage's
    `environment_variables` as resolved for that function. `shell_identity` keeps the
    shell's credentials instead, for `lambic local --no-services`, whose functions
    reach real AWS with them too.
    """
    name = app_name or config.app_name or project_dir.name
    settings = config.resolve(stage, API_FUNCTION, app_name=name, handler="app.app", kind="api")
    if shell_identity:
        env = dict(base)
    else:
        env = {k: v for k, v in base.items() if k not in SHELL_IDENTITY_VARIABLES}
        env.update(LOCAL_CREDENTIALS)
    env.update(function_environment(settings, task_root=project_dir))
    env.update(extra or {})
    env.update(settings.environment_variables)
    return env
