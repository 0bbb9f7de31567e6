"""Lambic's local Lambda: projects, execution environments, pools, the invoker, logs.

    project --load_project()--> Project (config + manifest read in a child process)
            --create_invoker()--> Invoker --FunctionPool--> Environment (forked from
            the zygote) --> handler(event, context) --> InvocationResult + log events
            --> LogStore (.lambic/state/<stage>/logs.sqlite3) and the log sink

The gateway (`lambic local`), `lambic invoke` and the event sources all invoke
through an `Invoker`; see docs/internals.md §3 for the contract.

Names resolve on first use: the zygote, the log writer process and `lambic services`
import single modules of this package (`lambic.runtime.zygote`, `.logstore`,
`.endpoint_file`), and must not pay for the invoker and everything it imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lambic.project.config import (
        FunctionSettings as FunctionSettings,
    )
    from lambic.project.config import (
        LocalConfig as LocalConfig,
    )
    from lambic.project.config import (
        ProjectConfig as ProjectConfig,
    )
    from lambic.project.config import (
        load_config as load_config,
    )
    from lambic.project.manifest import (
        AppManifest as AppManifest,
    )
    from lambic.project.manifest import (
        FunctionEntry as FunctionEntry,
    )
    from lambic.project.manifest import (
        RouteInfo as RouteInfo,
    )
    from lambic.project.project import (
        Project as Project,
    )
    from lambic.project.project import (
        aload_project as aload_project,
    )
    from lambic.project.project import (
        create_project as create_project,
    )
    from lambic.project.project import (
        load_project as load_project,
    )
    from lambic.runtime.errors import (
        ConfigError as ConfigError,
    )
    from lambic.runtime.errors import (
        FunctionNotFoundError as FunctionNotFoundError,
    )
    from lambic.runtime.errors import (
        InvalidRequestContentError as InvalidRequestContentError,
    )
    from lambic.runtime.errors import (
        InvokerClosedError as InvokerClosedError,
    )
    from lambic.runtime.errors import (
        LambicRuntimeError as LambicRuntimeError,
    )
    from lambic.runtime.errors import (
        ProjectError as ProjectError,
    )
    from lambic.runtime.errors import (
        RequestTooLargeError as RequestTooLargeError,
    )
    from lambic.runtime.invoker import (
        InvocationResult as InvocationResult,
    )
    from lambic.runtime.invoker import (
        Invoker as Invoker,
    )
    from lambic.runtime.invoker import (
        LogSink as LogSink,
    )
    from lambic.runtime.invoker import (
        create_invoker as create_invoker,
    )
    from lambic.runtime.logstore import (
        LogEvent as LogEvent,
    )
    from lambic.runtime.logstore import (
        LogStore as LogStore,
    )
    from lambic.runtime.usage import (
        UsageRecord as UsageRecord,
    )

_EXPORTS = {
    "AppManifest": "lambic.project.manifest",
    "ConfigError": "lambic.runtime.errors",
    "FunctionEntry": "lambic.project.manifest",
    "FunctionNotFoundError": "lambic.runtime.errors",
    "FunctionSettings": "lambic.project.config",
    "InvalidRequestContentError": "lambic.runtime.errors",
    "InvocationResult": "lambic.runtime.invoker",
    "Invoker": "lambic.runtime.invoker",
    "InvokerClosedError": "lambic.runtime.errors",
    "LambicRuntimeError": "lambic.runtime.errors",
    "LocalConfig": "lambic.project.config",
    "LogEvent": "lambic.runtime.logstore",
    "LogSink": "lambic.runtime.invoker",
    "LogStore": "lambic.runtime.logstore",
    "Project": "lambic.project.project",
    "ProjectConfig": "lambic.project.config",
    "ProjectError": "lambic.runtime.errors",
    "RequestTooLargeError": "lambic.runtime.errors",
    "RouteInfo": "lambic.project.manifest",
    "UsageRecord": "lambic.runtime.usage",
    "aload_project": "lambic.project.project",
    "create_invoker": "lambic.runtime.invoker",
    "create_project": "lambic.project.project",
    "load_config": "lambic.project.config",
    "load_project": "lambic.project.project",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lambic.runtime' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
