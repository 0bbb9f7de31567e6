"""Child process: import a project's app.py and print its manifest as one JSON line.

Run as `python -m lambic.project._manifest_child PROJECT_DIR`, or called in a child
forked from `lambic local`'s zygote (`write_manifest`). Whatever the app prints while
importing goes to stderr; the last stdout line is `{"manifest": {...}}` or
`{"error": "one line for the user"}`.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any


def _jsonable(value: Any, depth: int = 0) -> Any:
    if depth > 6:
        return repr(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v, depth + 1) for v in value]
    to_string = getattr(value, "to_string", None)
    if callable(to_string):  # schedules: Rate / Cron render as AWS expressions
        return to_string()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    elif hasattr(value, "__dict__"):
        fields = {k: v for k, v in vars(value).items() if not k.startswith("_")}
    else:
        return repr(value)
    out = {k: _jsonable(v, depth + 1) for k, v in fields.items() if not callable(v)}
    out["type"] = type(value).__name__
    return out


def _cors(cors: Any) -> dict[str, Any] | None:
    """A route's CORS as the ready `Access-Control-*` headers (what the gateway sends)."""
    if cors in (None, False):
        return None
    headers = getattr(cors, "get_access_control_headers", None)
    if callable(headers):
        return {str(k): str(v) for k, v in headers().items()}
    jsonable: dict[str, Any] = _jsonable(cors)
    return jsonable


def _routes(app: Any) -> dict[str, dict[str, dict[str, Any]]]:
    from lambic.app.authorizers import describe_authorizer

    routes: dict[str, dict[str, dict[str, Any]]] = {}
    for path, methods in (getattr(app, "routes", None) or {}).items():
        routes[path] = {}
        for method, entry in methods.items():
            routes[path][method] = {
                "view_name": getattr(entry, "view_name", ""),
                "content_types": list(getattr(entry, "content_types", None) or []),
                "cors": _cors(getattr(entry, "cors", None)),
                "authorizer_name": getattr(entry, "authorizer_name", None),
                "api_key_required": bool(getattr(entry, "api_key_required", False)),
                "authorizer": (
                    None
                    if getattr(entry, "authorizer", None) is None
                    else describe_authorizer(entry.authorizer)
                ),
            }
    return routes


def _manifest(app: Any) -> dict[str, Any]:
    from lambic.app import functions

    specs = functions(app)
    api = getattr(app, "api", None)
    return {
        "app_name": app.app_name,
        "functions": [
            {
                "name": spec.name,
                "handler": spec.handler,
                "kind": spec.kind,
                "event_source": _jsonable(spec.event_source),
            }
            for spec in specs
        ],
        "routes": _routes(app),
        "binary_types": list(getattr(api, "binary_types", None) or []),
    }


def _missing_opt_in(app: Any) -> str | None:
    """Chalice's refusal of experimental features used without opting in (every command)."""
    used = getattr(app, "_features_used", None)
    if not used:
        return None
    from lambic.app.websockets import missing_feature_flags

    return missing_feature_flags(set(used), set(getattr(app, "experimental_feature_flags", ())))


def _where(exc: BaseException, project_dir: Path) -> str:
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.startswith(str(project_dir)):
            return f" ({os.path.relpath(frame.filename, project_dir)}:{frame.lineno})"
    return ""


def _load(project_dir: Path) -> dict[str, Any]:
    if not (project_dir / "app.py").is_file():
        return {"error": f"No app.py in {project_dir}; run `lambic new-project NAME`"}
    sys.path.insert(0, str(project_dir))
    os.chdir(project_dir)
    try:
        module = importlib.import_module("app")
    except SyntaxError as exc:
        where = f"{os.path.relpath(exc.filename or 'app.py', project_dir)}:{exc.lineno}"
        return {"error": f"Syntax error in {where}: {exc.msg}"}
    except ImportError as exc:
        return {
            "error": f"app.py could not import {exc.name or 'a module'!r}{_where(exc, project_dir)}"
            f": {exc}; install it into this environment or fix the import"
        }
    except BaseException as exc:  # the user's import-time code may raise anything
        return {
            "error": f"app.py raised {type(exc).__name__} while importing"
            f"{_where(exc, project_dir)}: {exc}"
        }
    app = getattr(module, "app", None)
    if app is None:
        return {"error": "No app named 'app' in app.py; define `app = Lambic('name')`"}
    if not hasattr(app, "app_name") or not hasattr(app, "routes"):
        return {
            "error": f"`app` in app.py is a {type(app).__name__}, not a Lambic app; "
            "define `app = Lambic('name')`"
        }
    refused = _missing_opt_in(app)
    if refused is not None:
        return {"error": refused}
    try:
        return {"manifest": _manifest(app)}
    except ImportError as exc:
        return {"error": f"lambic.app is not importable here ({exc}); reinstall lambic"}


def write_manifest(project_dir: str, env: dict[str, str], out: int) -> None:
    """In a forked child: with `env` as the whole environment, write the JSON line to
    the descriptor `out`; the app's own output is dropped, as `read_manifest` drops it."""
    os.environ.clear()
    os.environ.update(env)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)
    result = _load(Path(project_dir).resolve())
    data = (json.dumps(result) + "\n").encode("utf-8")
    while data:
        data = data[os.write(out, data) :]
    os.close(out)


def main() -> None:
    out = os.dup(1)
    os.dup2(2, 1)  # the app's own prints must not corrupt our JSON line
    sys.stdout = sys.stderr
    result = _load(Path(sys.argv[1]).resolve())
    os.write(out, (json.dumps(result) + "\n").encode("utf-8"))


if __name__ == "__main__":
    main()
