"""What every layer needs to know about a project, defined once.

```
lambic.project        imports only lambic.app and the standard library
  config.py           .lambic/config.json: Chalice's precedence, validation, stages
  resources.py        declared resources (`resources` in the config), checked
  manifest.py         what app.py declares, read in a child process (plain data)
  project.py          Project = directory + config + manifest; functions per stage
  paths.py            every path Lambic writes under a project (.lambic/...)
  account.py          the local account id, region, services port, credentials
  sqlite.py           opening a durable SQLite database (services and runtime stores)
  sdk_use.py          whether the project's code imports boto3 (a hint for the zygote)
  errors.py           ProjectError, ConfigError
```

runtime, deploy, services, testing and the CLI import this package; nothing in it
imports them, so a setting, a path or an account id means the same on every side.

Names load on first access (PEP 562): the manifest child process and `lambic.testing`
import single modules of this package and must not pay for the rest.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "DEFAULT_SERVICES_PORT",
    "LOCAL_ACCOUNT_ID",
    "LOCAL_REGION",
    "AppManifest",
    "AsyncSettings",
    "ConfigError",
    "DeclaredResources",
    "FunctionEntry",
    "FunctionSettings",
    "LocalConfig",
    "Project",
    "ProjectConfig",
    "ProjectError",
    "ProjectPaths",
    "RouteInfo",
    "SQLiteStore",
    "StageConfig",
    "aload_project",
    "create_project",
    "deployed_name",
    "function_arn",
    "load_config",
    "load_project",
    "load_stage_config",
    "open_database",
    "parse_config",
]

_LAZY = {
    "DEFAULT_SERVICES_PORT": "lambic.project.account",
    "LOCAL_ACCOUNT_ID": "lambic.project.account",
    "LOCAL_REGION": "lambic.project.account",
    "function_arn": "lambic.project.account",
    "AsyncSettings": "lambic.project.config",
    "FunctionSettings": "lambic.project.config",
    "LocalConfig": "lambic.project.config",
    "ProjectConfig": "lambic.project.config",
    "StageConfig": "lambic.project.config",
    "deployed_name": "lambic.project.config",
    "load_config": "lambic.project.config",
    "load_stage_config": "lambic.project.config",
    "parse_config": "lambic.project.config",
    "ConfigError": "lambic.project.errors",
    "ProjectError": "lambic.project.errors",
    "AppManifest": "lambic.project.manifest",
    "FunctionEntry": "lambic.project.manifest",
    "RouteInfo": "lambic.project.manifest",
    "ProjectPaths": "lambic.project.paths",
    "Project": "lambic.project.project",
    "aload_project": "lambic.project.project",
    "create_project": "lambic.project.project",
    "load_project": "lambic.project.project",
    "DeclaredResources": "lambic.project.resources",
    "open_database": "lambic.project.sqlite",
    "SQLiteStore": "lambic.project.sqlite",
}


def __getattr__(name: str) -> Any:
    # Not `lambic.app._lazy.lazy_attribute`: importing any module of `lambic.app` runs
    # its package, the whole programming model (~30 ms), which `lambic services` and
    # the helper processes importing `lambic.project.paths` never use.
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
