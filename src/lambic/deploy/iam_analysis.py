"""Static analysis of the project's boto3 usage, for least-privilege IAM policies.

Every Python file of the project (app.py and its local packages) is parsed, never
imported. The analyser follows values, not just names:

    boto3.client("s3") / boto3.resource("dynamodb") / boto3.Session().client(...)
    session = boto3.session.Session(); session.client("sqs")
    table = dynamodb.Table(TABLE_NAME)        resource objects (boto3 resource models)
    def get_table(): return ...Table(...)     helper functions returning clients
    from chalicelib.db import table           objects defined in another module
    self.client = boto3.client("sns")         attributes set on self

and records each AWS call made on them with the resource it names, resolved from
literals, module constants, f-strings and `os.environ` lookups (values from the
stage's `environment_variables`). Anything it cannot resolve is `*`, never guessed.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from botocore import xform_name

from lambic.deploy import _iam_actions as models
from lambic.deploy.packager import project_source_files

_PASSES = 3  # globals and helper return values settle within a few passes
# S3 transfer helpers take the bucket positionally: upload_file(Filename, Bucket, Key).
_POSITIONAL_BUCKET = {
    "upload_file": 1,
    "upload_fileobj": 1,
    "download_file": 0,
    "download_fileobj": 0,
    "copy": 1,
}


@dataclass(frozen=True)
class Grant:
    """Actions allowed on a set of resources."""

    actions: frozenset[str]
    resources: frozenset[str]


@dataclass(frozen=True)
class _CallSite:
    """A call being analysed: its arguments and the scopes to evaluate its keywords in.

    Positional arguments are evaluated up front; keywords are evaluated only where one
    names a resource (`Bucket=`, `TableName=`, ...).
    """

    args: list[Any]
    kwargs: dict[str, ast.keyword]
    scope: dict[str, Any]
    local: dict[str, Any] | None

    def arg(self, index: int) -> Any:
        return self.args[index] if len(self.args) > index else None


@dataclass(frozen=True)
class Ref:
    """A boto3 object: a client, a service resource, a resource object or a collection."""

    service: str
    kind: str  # "client" | "resource" | "collection" | "batch" | "paginator"
    rtype: str | None = None  # resource type ("Table"); None for the service resource
    names: tuple[str, ...] = ()  # the AWS resource it stands for, when known
    operation: str | None = None  # collections: the list operation


class _Marker:
    def __init__(self, what: str) -> None:
        self.what = what  # "boto3" | "session" | "os" | "environ" | "module:<name>"


_BOTO3 = _Marker("boto3")
_SESSION = _Marker("session")
_OS = _Marker("os")
_ENVIRON = _Marker("environ")


def analyse_project(project_dir: Path, env: dict[str, str] | None = None) -> list[Grant]:
    """Grants for every boto3 call found in the project's own code."""
    modules: dict[str, ast.Module] = {}
    for path in project_source_files(project_dir):
        if path.suffix != ".py":
            continue  # data files shipped with a package (captures, templates)
        name = ".".join(path.relative_to(project_dir).with_suffix("").parts)
        name = name.removesuffix(".__init__")
        try:
            modules[name] = ast.parse(path.read_text(encoding="utf-8"), str(path))
        except (SyntaxError, UnicodeDecodeError):
            continue  # importing the app reports it properly; analysis just skips it
    analyser = _Analyser(modules, env or {})
    for _ in range(_PASSES):
        analyser.run(record=False)
    analyser.run(record=True)
    return analyser.grants()


class _Analyser:
    def __init__(self, modules: dict[str, ast.Module], env: dict[str, str]) -> None:
        self.modules = modules
        self.env = env
        self.globals: dict[str, dict[str, Any]] = {name: {} for name in modules}
        self.returns: dict[tuple[str, str], Any] = {}
        self.uses: dict[str, set[str]] = defaultdict(set)  # IAM action → resources
        self.record = False
        self.module = ""

    # -- driving ------------------------------------------------------------------

    def run(self, *, record: bool) -> None:
        self.record = record
        for name, tree in self.modules.items():
            self.module = name
            scope = self.globals[name]
            self._block(tree.body, scope, None)

    def grants(self) -> list[Grant]:
        by_resources: dict[frozenset[str], set[str]] = defaultdict(set)
        for action, resources in self.uses.items():
            scoped = {"*"} if "*" in resources else resources
            by_resources[frozenset(scoped)].add(action)
        return [
            Grant(frozenset(actions), resources)
            for resources, actions in sorted(by_resources.items(), key=lambda i: sorted(i[0]))
        ]

    # -- statements -----------------------------------------------------------------

    def _block(
        self, body: list[ast.stmt], scope: dict[str, Any], local: dict[str, Any] | None
    ) -> None:
        for stmt in body:
            self._stmt(stmt, scope, local)

    def _stmt(self, stmt: ast.stmt, scope: dict[str, Any], local: dict[str, Any] | None) -> None:
        target_scope = local if local is not None else scope
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                target_scope[alias.asname or alias.name.split(".")[0]] = self._import(
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(stmt, ast.ImportFrom) and stmt.module:
            for alias in stmt.names:
                target_scope[alias.asname or alias.name] = self._import_from(
                    stmt.module, alias.name
                )
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            self._function(stmt, scope, local)
        elif isinstance(stmt, ast.ClassDef):
            for item in stmt.body:
                self._stmt(item, scope, None)
                # A class attribute is reached as self.<name> from its methods.
                if isinstance(item, ast.Assign | ast.AnnAssign) and item.value is not None:
                    value = self._eval(item.value, scope, None)
                    targets = item.targets if isinstance(item, ast.Assign) else [item.target]
                    for target in targets:
                        if isinstance(target, ast.Name):
                            scope[f"self.{target.id}"] = value
        elif isinstance(stmt, ast.Assign | ast.AnnAssign) and stmt.value is not None:
            value = self._eval(stmt.value, scope, local)
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                self._bind(target, value, scope, target_scope)
        elif isinstance(stmt, ast.With | ast.AsyncWith):
            for with_item in stmt.items:
                value = self._eval(with_item.context_expr, scope, local)
                if with_item.optional_vars is not None:
                    self._bind(with_item.optional_vars, value, scope, target_scope)
            self._block(stmt.body, scope, local)
        else:
            for child in ast.iter_child_nodes(stmt):
                if isinstance(child, ast.stmt):
                    self._stmt(child, scope, local)
                elif isinstance(child, ast.expr):
                    self._expressions(child, scope, local)
                elif isinstance(child, ast.ExceptHandler):
                    self._block(child.body, scope, local)

    def _expressions(
        self, expr: ast.expr, scope: dict[str, Any], local: dict[str, Any] | None
    ) -> None:
        for node in ast.walk(expr):
            if isinstance(node, ast.Call | ast.Attribute):
                self._eval(node, scope, local)

    def _bind(
        self, target: ast.expr, value: Any, scope: dict[str, Any], target_scope: dict[str, Any]
    ) -> None:
        if isinstance(target, ast.Name):
            target_scope[target.id] = value
        elif (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == "self"
        ):
            scope[f"self.{target.attr}"] = value

    def _function(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef,
        scope: dict[str, Any],
        local: dict[str, Any] | None,
    ) -> None:
        key = (self.module, node.name)
        (local if local is not None else scope)[node.name] = ("function", key)
        body_scope: dict[str, Any] = dict(local or {})
        for arg in node.args.args + node.args.kwonlyargs:
            body_scope[arg.arg] = None
        self._block(node.body, scope, body_scope)
        for inner in ast.walk(node):
            if isinstance(inner, ast.Return) and inner.value is not None:
                value = self._eval(inner.value, scope, body_scope)
                if value is not None:
                    self.returns[key] = value

    # -- imports --------------------------------------------------------------------

    def _import(self, module: str) -> Any:
        if module == "boto3":
            return _BOTO3
        if module == "os":
            return _OS
        if module in self.modules:
            return _Marker(f"module:{module}")
        return None

    def _import_from(self, module: str, name: str) -> Any:
        if module in ("boto3", "boto3.session") and name in ("client", "resource"):
            return ("boto3-factory", name)
        if module in ("boto3", "boto3.session") and name == "Session":
            return ("session-class",)
        if module == "os" and name == "environ":
            return _ENVIRON
        if module == "os" and name == "getenv":
            return ("getenv",)
        if f"{module}.{name}" in self.modules:
            return _Marker(f"module:{module}.{name}")
        if module in self.modules:
            return ("from", module, name)
        return None

    def _deref(self, value: Any) -> Any:
        if isinstance(value, tuple) and value and value[0] == "from":
            return self.globals[value[1]].get(value[2])
        return value

    # -- expressions ------------------------------------------------------------------

    def _lookup(self, name: str, scope: dict[str, Any], local: dict[str, Any] | None) -> Any:
        if local is not None and name in local:
            return self._deref(local[name])
        return self._deref(scope.get(name))

    def _eval(self, node: ast.expr, scope: dict[str, Any], local: dict[str, Any] | None) -> Any:
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, str) else None
        if isinstance(node, ast.Name):
            return self._lookup(node.id, scope, local)
        if isinstance(node, ast.JoinedStr):
            parts = []
            for piece in node.values:
                value = (
                    piece.value
                    if isinstance(piece, ast.Constant)
                    else self._eval(
                        piece.value if isinstance(piece, ast.FormattedValue) else piece,
                        scope,
                        local,
                    )
                )
                parts.append(value if isinstance(value, str) else "*")
            return "".join(parts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self._eval(node.left, scope, local), self._eval(node.right, scope, local)
            if isinstance(left, str) or isinstance(right, str):
                return (left if isinstance(left, str) else "*") + (
                    right if isinstance(right, str) else "*"
                )
            return None
        if isinstance(node, ast.Subscript):
            base = self._eval(node.value, scope, local)
            if base is _ENVIRON:
                return self._env(self._eval(node.slice, scope, local), None)
            return None
        if isinstance(node, ast.Attribute):
            return self._attribute(node, scope, local)
        if isinstance(node, ast.Call):
            return self._call(node, scope, local)
        if isinstance(node, ast.Await):
            return self._eval(node.value, scope, local)
        return None

    def _env(self, key: Any, default: Any) -> str:
        if isinstance(key, str) and key in self.env:
            return self.env[key]
        return default if isinstance(default, str) else "*"

    def _attribute(
        self, node: ast.Attribute, scope: dict[str, Any], local: dict[str, Any] | None
    ) -> Any:
        if isinstance(node.value, ast.Name) and node.value.id == "self":
            return scope.get(f"self.{node.attr}")
        base = self._eval(node.value, scope, local)
        if isinstance(base, _Marker):
            if base is _OS and node.attr == "environ":
                return _ENVIRON
            if base is _BOTO3 and node.attr == "session":
                return _BOTO3
            if base.what.startswith("module:"):
                module = base.what.removeprefix("module:")
                if f"{module}.{node.attr}" in self.modules:
                    return _Marker(f"module:{module}.{node.attr}")
                return self._deref(self.globals.get(module, {}).get(node.attr))
        if isinstance(base, Ref) and base.kind == "resource":
            model = models.resource_model(base.service)
            definition = _resource_definition(model, base.rtype)
            for name, spec in definition.get("hasMany", {}).items():
                if xform_name(name) == node.attr:
                    return Ref(
                        base.service,
                        "collection",
                        spec["resource"]["type"],
                        base.names,
                        spec["request"]["operation"],
                    )
        return None

    def _call(self, node: ast.Call, scope: dict[str, Any], local: dict[str, Any] | None) -> Any:
        site = _CallSite(
            [self._eval(arg, scope, local) for arg in node.args],
            {kw.arg: kw for kw in node.keywords if kw.arg},
            scope,
            local,
        )
        func = node.func
        if isinstance(func, ast.Name):
            target = self._lookup(func.id, scope, local)
            return self._call_value(target, site)
        if not isinstance(func, ast.Attribute):
            return None
        method = func.attr
        if isinstance(func.value, ast.Name) and func.value.id == "self":
            base = scope.get(f"self.{func.attr}")
            return self._call_value(base, site)
        base = self._eval(func.value, scope, local)
        if base is _BOTO3 or base is _SESSION:
            if method in ("client", "resource"):
                return self._factory(method, site)
            if method == "Session":
                return _SESSION
            return None
        if (base is _ENVIRON and method == "get") or (base is _OS and method == "getenv"):
            return self._env(site.arg(0), site.arg(1))
        if isinstance(base, _Marker) and base.what.startswith("module:"):
            target = self._deref(
                self.globals.get(base.what.removeprefix("module:"), {}).get(method)
            )
            return self._call_value(target, site)
        if isinstance(base, Ref):
            return self._method(base, method, site)
        return None

    def _call_value(
        self,
        target: Any,
        site: _CallSite,
    ) -> Any:
        if isinstance(target, tuple) and target:
            if target[0] == "function":
                return self.returns.get(target[1])
            if target[0] == "boto3-factory":
                return self._factory(target[1], site)
            if target[0] == "session-class":
                return _SESSION
            if target[0] == "getenv":
                return self._env(site.arg(0), site.arg(1))
        return None

    def _factory(
        self,
        kind: str,
        site: _CallSite,
    ) -> Ref | None:
        service = site.arg(0)
        if service is None and "service_name" in site.kwargs:
            service = self._eval(site.kwargs["service_name"].value, site.scope, site.local)
        if not isinstance(service, str):
            return None
        return Ref(service, "client" if kind == "client" else "resource")

    def _method(
        self,
        ref: Ref,
        method: str,
        site: _CallSite,
    ) -> Any:
        if ref.kind == "client":
            if method == "get_paginator" and site.args and isinstance(site.args[0], str):
                operation = models.client_operation(ref.service, site.args[0])
                return Ref(ref.service, "paginator", None, (), operation) if operation else None
            if method in _POSITIONAL_BUCKET and ref.service == "s3":
                names = self._kwarg_names(ref.service, site)
                index = _POSITIONAL_BUCKET[method]
                if not names and len(site.args) > index:
                    names = (site.args[index],) if isinstance(site.args[index], str) else ("*",)
                self._use(ref.service, models.CONVENIENCE[method], names)
                return None
            if method == "generate_presigned_url" and site.args and isinstance(site.args[0], str):
                operation = models.client_operation(ref.service, site.args[0])
                names = self._presigned_names(ref, site)
                if operation:
                    self._use(ref.service, operation, names)
                return None
            operation = models.client_operation(ref.service, method)
            if operation:
                self._use(ref.service, operation, self._kwarg_names(ref.service, site))
            return None
        if ref.kind == "paginator":
            if method == "paginate" and ref.operation:
                names = self._kwarg_names(ref.service, site)
                self._use(ref.service, ref.operation, names)
            return None
        if ref.kind == "batch":
            if method in ("put_item", "delete_item"):
                self._use(ref.service, "BatchWriteItem", ref.names)
            return None
        if ref.kind == "collection":
            if method in ("all", "filter", "limit", "page_size") and ref.operation:
                self._use(ref.service, ref.operation, ref.names)
                return ref
            return None
        return self._resource_method(ref, method, site)

    def _resource_method(
        self,
        ref: Ref,
        method: str,
        site: _CallSite,
    ) -> Any:
        model = models.resource_model(ref.service)
        definition = _resource_definition(model, ref.rtype)
        if method == "batch_writer" and ref.service == "dynamodb":
            return Ref(ref.service, "batch", ref.rtype, ref.names)
        for name, spec in definition.get("has", {}).items():
            if name == method:
                inputs = [a for a in site.args if isinstance(a, str)]
                # A sub-resource of a named parent (Bucket("b").Object(k)) keeps the parent.
                names = ref.names or tuple(inputs[:1])
                if ref.rtype is None and not inputs and site.args:
                    names = ("*",)
                return Ref(ref.service, "resource", spec["resource"]["type"], names)
        for name, spec in definition.get("actions", {}).items():
            if xform_name(name) == method:
                operation = spec["request"]["operation"]
                names = ref.names or self._kwarg_names(ref.service, site)
                self._use(ref.service, operation, names)
                result = spec.get("resource")
                if result:
                    if ref.service == "sqs" and operation == "GetQueueUrl":
                        return Ref(ref.service, "resource", result["type"], names)
                    return Ref(ref.service, "resource", result["type"], ())
                return None
        if method in ("load", "reload") and "load" in definition:
            self._use(ref.service, definition["load"]["request"]["operation"], ref.names)
        elif method in models.CONVENIENCE:
            self._use(ref.service, models.CONVENIENCE[method], ref.names)
        return None

    def _kwarg_names(self, service: str, site: _CallSite) -> tuple[str, ...]:
        kwargs, scope, local = site.kwargs, site.scope, site.local
        for key in models.RESOURCE_KWARGS.get(service, ()):
            if key in kwargs:
                value = self._eval(kwargs[key].value, scope, local)
                return (value,) if isinstance(value, str) else ("*",)
        if "RequestItems" in kwargs and isinstance(kwargs["RequestItems"].value, ast.Dict):
            keys = [self._eval(k, scope, local) for k in kwargs["RequestItems"].value.keys if k]
            return tuple(k if isinstance(k, str) else "*" for k in keys) or ("*",)
        return ()

    def _presigned_names(self, ref: Ref, site: _CallSite) -> tuple[str, ...]:
        params = site.kwargs.get("Params")
        if params is None or not isinstance(params.value, ast.Dict):
            return ()
        fake = {
            k.value: ast.keyword(arg=k.value, value=v)
            for k, v in zip(params.value.keys, params.value.values, strict=True)
            if isinstance(k, ast.Constant) and isinstance(k.value, str)
        }
        return self._kwarg_names(ref.service, replace(site, kwargs=fake))

    def _use(self, service: str, operation: str, names: tuple[str, ...]) -> None:
        if not self.record:
            return
        for action in models.iam_actions(service, operation):
            resolved = tuple(n for n in names if n != "*" and n) if "*" not in names else ()
            for arn in models.resource_arns(service, action, resolved):
                self.uses[action].add(arn)


def _resource_definition(model: dict[str, Any] | None, rtype: str | None) -> dict[str, Any]:
    if model is None:
        return {}
    if rtype is None:
        service: dict[str, Any] = model.get("service", {})
        return service
    resource: dict[str, Any] = model.get("resources", {}).get(rtype, {})
    return resource
