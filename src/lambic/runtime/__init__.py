"""Lambic's local Lambda: projects, execution environments, pools, the invoker, logs.

    project --load_project()--> Project (config + manifest read in a child process)
            --create_invoker()--> Invoker --FunctionPool--> Environment (forked from
            the zygote) --> handler(event, context) --> InvocationResult + log events
            --> LogStore (.lambic/state/<stage>/logs.sqlite3) and the log sink

The gateway (`lambic local`), `lambic invoke` and the event sources all invoke
through an `Invoker`; see docs/internals.md §3 for the contract.
"""

from lambic.project.config import FunctionSettings, LocalConfig, ProjectConfig, load_config
from lambic.project.manifest import AppManifest, FunctionEntry, RouteInfo
from lambic.project.project import (
    Project,
    aload_project,
    create_project,
    load_project,
)
from lambic.runtime.errors import (
    ConfigError,
    FunctionNotFoundError,
    InvalidRequestContentError,
    InvokerClosedError,
    LambicRuntimeError,
    ProjectError,
    RequestTooLargeError,
)
from lambic.runtime.invoker import InvocationResult, Invoker, LogSink, create_invoker
from lambic.runtime.logstore import LogEvent, LogStore
from lambic.runtime.usage import UsageRecord

__all__ = [
    "AppManifest",
    "ConfigError",
    "FunctionEntry",
    "FunctionNotFoundError",
    "FunctionSettings",
    "InvalidRequestContentError",
    "InvocationResult",
    "Invoker",
    "InvokerClosedError",
    "LambicRuntimeError",
    "LocalConfig",
    "LogEvent",
    "LogSink",
    "LogStore",
    "Project",
    "ProjectConfig",
    "ProjectError",
    "RequestTooLargeError",
    "RouteInfo",
    "UsageRecord",
    "aload_project",
    "create_invoker",
    "create_project",
    "load_config",
    "load_project",
]
