"""Lambic: AWS-wire-compatible local services (S3, DynamoDB, SQS, SNS) on one edge port.

Data flow: socket → `edge.EdgeApp` (routing as AWS clients address services, then
`auth.Authenticator`) → `<service>.handle` → protocol → engine → SQLite store.
`create_services` builds the services (a typed `ServiceSet`); `serve` / `EdgeServer`
run the edge port over `ServiceSet.by_name()`.

Exceptions: `ServiceError` is the layer's root (`AuthError` and each service's own
error such as `S3Error` derive from it); a taken port is `PortInUseError`, an
`OSError` shared with the gateway (`lambic._sockets`).

Names resolve on first use so importing `lambic.project.sqlite` (or a single
service) does not import the HTTP server and every service.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "AuthError": "lambic.services.auth",
    "Authenticator": "lambic.services.auth",
    "EdgeServer": "lambic.services.server",
    "PortInUseError": "lambic._sockets",
    "Service": "lambic.services.base",
    "ServiceError": "lambic.services.base",
    "ServiceRequest": "lambic.services.base",
    "ServiceResponse": "lambic.services.base",
    "ServiceSet": "lambic.services.factory",
    "available_services": "lambic.services.factory",
    "create_services": "lambic.services.factory",
    "serve": "lambic.services.server",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lambic.services' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
