"""Route declarations, their validation, and API Gateway's path matching.

A route path is a sequence of segments, each static (`users`), a parameter (`{id}`)
or, last only, a greedy parameter (`{proxy+}`) matching one or more segments.
`RouteMatcher` compiles a route table once into a segment tree and matches request
paths the way API Gateway does:

- a trailing slash is stripped except on the root;
- static segments beat parameters, which beat a greedy parameter;
- parameter values are URL-decoded, as API Gateway passes them;
- a path with no resource gives None; a resource without the method gives a match
  whose `entry` is None (the gateway answers 403 Missing Authentication Token for both).

`RouteMatcher` is pure data: the local gateway builds one from the route table JSON
without importing user code.

    >>> m = RouteMatcher({"/users/{id}": ["GET"]})
    >>> m.match("GET", "/users/a%20b")
    RouteMatch(entry='GET', resource_path='/users/{id}', path_params={'id': 'a b'})
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from lambic.app.errors import RouteError

if TYPE_CHECKING:
    from lambic.app.authorizers import Authorizer, ChaliceAuthorizer
    from lambic.app.cors import CORSConfig

__all__ = [
    "RouteEntry",
    "RouteMatch",
    "RouteMatcher",
    "join_url_prefix",
    "parse_view_args",
    "validate_route_path",
]

E = TypeVar("E")

_PARAM_SEGMENT = re.compile(r"^\{(\w+)(\+?)\}$")
_ANY_PARAM = re.compile(r"\{(\w+)\+?\}")


def parse_view_args(path: str) -> list[str]:
    """Parameter names of a route path, in order: '/a/{b}/{c+}' -> ['b', 'c']."""
    if "{" not in path:
        return []
    return _ANY_PARAM.findall(path)


def join_url_prefix(url_prefix: str, path: str) -> str:
    """A blueprint route path under `url_prefix`, joined as Chalice joins it."""
    return "/".join([url_prefix.rstrip("/"), path.strip("/")]).rstrip("/")


def validate_route_path(path: str) -> None:
    """Raise RouteError if API Gateway would reject `path` as a resource path."""
    if not path:
        raise RouteError("Route cannot be the empty string")
    if not path.startswith("/"):
        raise RouteError(f"Route must start with '/': {path}; write '/{path}'")
    if path != "/" and path.endswith("/"):
        # Chalice rejects this at deploy time with the same message.
        raise RouteError(f"Route cannot end with a trailing slash: {path}")
    if "?" in path or "#" in path:
        raise RouteError(
            f"Route cannot contain a query string or fragment: {path}; "
            "read query parameters from app.current_request.query_params"
        )
    if path == "/":
        return
    segments = path[1:].split("/")
    seen: set[str] = set()
    for index, segment in enumerate(segments):
        if not segment:
            raise RouteError(f"Route cannot contain an empty path segment ('//'): {path}")
        if "{" not in segment and "}" not in segment:
            continue
        found = _PARAM_SEGMENT.match(segment)
        if found is None:
            raise RouteError(
                f"Invalid path segment {segment!r} in route {path}: a parameter must be a "
                "whole segment such as '{name}' (letters, digits, underscore) or a last "
                "'{name+}'"
            )
        name, greedy = found.group(1), found.group(2)
        if greedy and index != len(segments) - 1:
            raise RouteError(f"Greedy parameter {segment} must be the last segment of route {path}")
        if name in seen:
            raise RouteError(f"Parameter {{{name}}} appears more than once in route {path}")
        seen.add(name)


def check_sibling_params(existing: Iterable[str], path: str) -> None:
    """Raise RouteError if `path` puts a differently named parameter beside another.

    API Gateway allows one variable path part per parent resource, e.g. `/users/{id}`
    and `/users/{name}/posts` cannot coexist; we reject it when the route is declared,
    with API Gateway's own wording.
    """
    new_segments = _segments(path)
    for other in existing:
        other_segments = _segments(other)
        for new, old in zip(new_segments, other_segments, strict=False):
            if new == old:
                continue
            if new.startswith("{") and old.startswith("{"):
                raise RouteError(
                    f"A sibling ({old}) of this resource already has a variable path part "
                    f"-- only one is allowed: route {path} conflicts with route {other}; "
                    "use the same parameter name in both"
                )
            break


def _segments(path: str) -> list[str]:
    return [] if path == "/" else path[1:].split("/")


class RouteEntry:
    """One view for one method of one route path (Chalice's RouteEntry)."""

    __slots__ = (
        "api_key_required",
        "authorizer",
        "content_types",
        "cors",
        "method",
        "uri_pattern",
        "view_args",
        "view_function",
        "view_name",
    )

    def __init__(
        self,
        view_function: Callable[..., Any],
        view_name: str,
        path: str,
        method: str,
        api_key_required: bool | None = None,
        content_types: list[str] | None = None,
        cors: CORSConfig | None = None,
        authorizer: Authorizer | ChaliceAuthorizer | None = None,
    ) -> None:
        self.view_function = view_function
        self.view_name = view_name
        self.uri_pattern = path
        self.method = method
        self.api_key_required = api_key_required
        self.view_args = parse_view_args(path)
        self.content_types: list[str] = content_types or []
        self.cors = cors
        self.authorizer = authorizer

    @property
    def authorizer_name(self) -> str | None:
        """Name of the route's authorizer, or None."""
        return None if self.authorizer is None else self.authorizer.name

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RouteEntry):
            return NotImplemented
        return all(getattr(self, a) == getattr(other, a) for a in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RouteEntry({self.method} {self.uri_pattern} -> {self.view_name})"


class RouteMatch(Generic[E]):
    """A resource matched by a request path.

    `entry` is what the table holds for the method (a RouteEntry for an app, the
    method name for a pure-data RouteMatcher), or None when the resource exists but
    has no such method.
    """

    # A plain class rather than a dataclass: `dataclasses` costs milliseconds of import
    # time in every cold start.
    __slots__ = ("entry", "path_params", "resource_path")

    def __init__(self, entry: E | None, resource_path: str, path_params: dict[str, str]) -> None:
        self.entry = entry
        self.resource_path = resource_path
        self.path_params = path_params

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RouteMatch):
            return NotImplemented
        return (self.entry, self.resource_path, self.path_params) == (
            other.entry,
            other.resource_path,
            other.path_params,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"RouteMatch(entry={self.entry!r}, resource_path={self.resource_path!r}, "
            f"path_params={self.path_params!r})"
        )


class _Node:
    __slots__ = ("greedy", "param", "param_name", "resource", "static")

    def __init__(self) -> None:
        self.static: dict[str, _Node] = {}
        self.param: _Node | None = None
        self.param_name = ""
        self.greedy: tuple[str, str] | None = None  # (param name, resource path)
        self.resource: str | None = None


def _unquote(text: str) -> str:
    if "%" not in text:
        return text
    from urllib.parse import unquote

    return unquote(text)


class ResourceTree:
    """Resource paths compiled into a segment tree; `find` resolves a request path."""

    __slots__ = ("_root", "_static")

    def __init__(self, resource_paths: Iterable[str]) -> None:
        self._root = _Node()
        # Paths without parameters are answered from one dict lookup.
        self._static: dict[str, str] = {}
        for resource in resource_paths:
            self._add(resource)

    def _add(self, resource: str) -> None:
        if "{" not in resource:
            self._static[resource] = resource
        node = self._root
        for segment in _segments(resource):
            found = _PARAM_SEGMENT.match(segment)
            if found is None:
                node = node.static.setdefault(segment, _Node())
            elif found.group(2):
                node.greedy = (found.group(1), resource)
                return
            else:
                if node.param is None:
                    node.param = _Node()
                    node.param_name = found.group(1)
                node = node.param
        node.resource = resource

    def find(self, path: str) -> tuple[str, dict[str, str]] | None:
        """(resource path, decoded parameters) for a raw request path, or None."""
        if len(path) > 1 and path.endswith("/"):
            # API Gateway strips a trailing slash except on the root; we mirror it.
            path = path[:-1]
        resource = self._static.get(path)
        if resource is not None:
            return resource, {}
        if not path.startswith("/"):
            return None
        parts = [] if path == "/" else path[1:].split("/")
        params: dict[str, str] = {}
        found = self._walk(self._root, parts, 0, params)
        if found is None:
            return None
        return found, params

    def _walk(
        self, node: _Node, parts: list[str], index: int, params: dict[str, str]
    ) -> str | None:
        if index == len(parts):
            return node.resource
        segment = parts[index]
        child = node.static.get(segment)
        if child is None and "%" in segment:
            child = node.static.get(_unquote(segment))
        if child is not None:
            found = self._walk(child, parts, index + 1, params)
            if found is not None:
                return found
        if node.param is not None and segment:
            found = self._walk(node.param, parts, index + 1, params)
            if found is not None:
                params[node.param_name] = _unquote(segment)
                return found
        if node.greedy is not None:
            name, resource = node.greedy
            rest = "/".join(parts[index:])
            if rest:
                params[name] = _unquote(rest)
                return resource
        return None


class RouteMatcher:
    """Matches (method, path) against a route table given as plain data.

    `routes` maps resource paths to the methods they accept; the method "ANY"
    accepts every method, as in API Gateway.
    """

    __slots__ = ("_methods", "_tree")

    def __init__(self, routes: Mapping[str, Iterable[str]]) -> None:
        self._methods: dict[str, frozenset[str]] = {
            path: frozenset(m.upper() for m in methods) for path, methods in routes.items()
        }
        self._tree = ResourceTree(self._methods)

    def match(self, method: str, path: str) -> RouteMatch[str] | None:
        """The resource for `path` and whether it accepts `method`; None if no resource."""
        found = self._tree.find(path)
        if found is None:
            return None
        resource, params = found
        methods = self._methods[resource]
        method = method.upper()
        if method in methods:
            entry: str | None = method
        elif "ANY" in methods:
            entry = "ANY"
        else:
            entry = None
        return RouteMatch(entry=entry, resource_path=resource, path_params=params)
