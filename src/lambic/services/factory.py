"""Building the local services: one object per service, wired to each other.

`create_services(state_dir)` creates every service whose package is present, each
persisting under `state_dir` (`<name>.sqlite3`, plus `s3-blobs/`) or in memory when
`state_dir` is None, and wires the cross-service hooks (SNS delivers to SQS through
the SQS engine object). `lambic services`, `lambic local` and the tests build their
services here, so they all get the same wiring.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lambic.project.sqlite import Durability
from lambic.services.base import Service, ServiceError

# The order services are created in: SQS before SNS, which delivers into it.
SERVICE_NAMES = ("s3", "dynamodb", "sqs", "sns", "events")


def available_services() -> list[str]:
    """The service packages present in this installation, in creation order."""
    return [name for name in SERVICE_NAMES if _factory(name) is not None]


def _factory(name: str) -> Any:
    if importlib.util.find_spec(f"lambic.services.{name}") is None:
        return None
    module = importlib.import_module(f"lambic.services.{name}")
    return getattr(module, "create_service", None)


def create_services(
    state_dir: Path | None,
    *,
    names: Iterable[str] | None = None,
    durability: Durability = "normal",
) -> dict[str, Service]:
    """Create the named services (default: all available) and wire them together.

    >>> services = create_services(None, names=["s3"])
    >>> sorted(services)
    ['s3']
    """
    wanted = list(names) if names is not None else available_services()
    unknown = [name for name in wanted if name not in SERVICE_NAMES]
    if unknown:
        raise ServiceError(
            f"Unknown service {unknown[0]!r}; choose from {', '.join(SERVICE_NAMES)}"
        )
    if state_dir is not None:
        state_dir.mkdir(parents=True, exist_ok=True)
    services: dict[str, Service] = {}
    for name in SERVICE_NAMES:
        if name not in wanted:
            continue
        factory = _factory(name)
        if factory is None:
            raise ServiceError(f"The {name} service is not available in this Lambic build")
        services[name] = factory(state_dir, **_options(factory, name, services, durability))
    return services


def _options(
    factory: Any, name: str, built: dict[str, Service], durability: Durability
) -> dict[str, Any]:
    """Keyword arguments this service's factory accepts: durability and, for SNS, the
    SQS engine it delivers to."""
    parameters = inspect.signature(factory).parameters
    options: dict[str, Any] = {}
    if "durability" in parameters:
        options["durability"] = durability
    sqs = built.get("sqs")
    if name == "sns" and sqs is not None:
        # docs/internals.md §2.1: `sns.create_service(state_dir, sqs=<SqsService>)`.
        if "sqs" in parameters:
            options["sqs"] = sqs
        elif "sqs_engine" in parameters:
            options["sqs_engine"] = getattr(sqs, "engine", sqs)
    return options
