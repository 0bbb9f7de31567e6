"""Deferred loading of the event half of `lambic.app`, to keep cold starts short.

An app that only serves HTTP routes never touches schedules, S3 or SQS decorators, yet
importing them costs milliseconds (EventBridge cron tables, dataclasses, datetime) in
every Lambda cold start. `Lambic` and `Blueprint` therefore mix in
`LazyEventSourceDecorators`, which resolves `schedule`, `on_s3_event`, ... from
`lambic.app.event_sources.EventSourceDecorators` on first use, bound to the instance,
exactly as if that class were a base class (type checkers are shown the real mixin).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

__all__ = ["LazyEventSourceDecorators", "lazy_attribute"]


class LazyEventSourceDecorators:
    """Stands in for `EventSourceDecorators` in the bases until a decorator is used."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes the instance and its real bases lack.
        if name.startswith("__"):
            raise AttributeError(name)
        from lambic.app.event_sources import EventSourceDecorators

        for klass in EventSourceDecorators.__mro__:
            if klass is object or name not in klass.__dict__:
                continue
            value = klass.__dict__[name]
            getter = getattr(value, "__get__", None)
            return value if getter is None else getter(self, type(self))
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


def lazy_attribute(
    namespace: MutableMapping[str, Any], table: Mapping[str, str], package: str, name: str
) -> Any:
    """The body of a lazy façade's PEP 562 `__getattr__`: import the module `table`
    names for `name`, keep the value in the package's `namespace`, return it."""
    module_name = table.get(name)
    if module_name is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module_name), name)
    namespace[name] = value
    return value
