from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import lambic
import lambic.app


def _public_names(module: ModuleType) -> set[str]:
    names = set()
    for name, value in vars(module).items():
        if name.startswith("_") or name in {"annotations", "TYPE_CHECKING", "Any"}:
            continue
        if isinstance(value, ModuleType):
            continue
        names.add(name)
    return names | set(getattr(module, "_LAZY", ()))


@pytest.mark.parametrize("module", [lambic.app, lambic], ids=["lambic.app", "lambic"])
def test_all_is_sorted_and_lists_exactly_what_the_package_exports(module: ModuleType) -> None:
    exported = module.__all__
    assert exported == sorted(exported)
    assert set(exported) - {"__version__"} == _public_names(module)
    for name in exported:
        assert getattr(module, name) is not None


def test_lambic_reexports_the_programming_model_from_lambic_app() -> None:
    for name in (
        "Lambic",
        "Chalice",
        "Blueprint",
        "Response",
        "Request",
        "CORSConfig",
        "AuthResponse",
        "AuthRoute",
        "ConvertToMiddleware",
        "IAMAuthorizer",
        "CognitoUserPoolAuthorizer",
        "CustomAuthorizer",
        "BadRequestError",
        "TooManyRequestsError",
        "ChaliceViewError",
        "Rate",
        "Cron",
        "S3Event",
        "SQSEvent",
        "SQSRecord",
        "SNSEvent",
        "CloudWatchEvent",
        "DynamoDBEvent",
        "KinesisEvent",
    ):
        assert getattr(lambic, name) is getattr(lambic.app, name)


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError):
        _ = lambic.app.NoSuchThing  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        _ = lambic.NoSuchThing  # type: ignore[attr-defined]


def test_http_only_app_does_not_import_the_event_half() -> None:
    code = (
        "import sys\n"
        "from lambic import Lambic, Response\n"
        "app = Lambic('x', configure_logs=False)\n"
        "@app.route('/')\n"
        "def index():\n"
        "    return {}\n"
        "loaded = sorted(m for m in sys.modules if m in {\n"
        "    'lambic.app.event_sources', 'lambic.app.events', 'lambic.app.schedules'})\n"
        "print(loaded)\n"
        "from lambic import Rate\n"
        "print(Rate.__module__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.split("\n")[:2] == ["[]", "lambic.app.schedules"]


def _python_3_10() -> str | None:
    # A real 3.10 interpreter: pyenv's own builds first (its shim may be inactive), then PATH.
    for candidate in sorted(Path.home().glob(".pyenv/versions/3.10*/bin/python3.10")):
        return str(candidate)
    return shutil.which("python3.10")


PY310 = _python_3_10()


@pytest.mark.skipif(PY310 is None, reason="python3.10 is not installed here")
def test_lambic_app_imports_and_dispatches_on_python_3_10() -> None:
    src = Path(lambic.app.__file__).resolve().parents[2]
    code = (
        "import sys\n"
        f"sys.path.insert(0, {str(src)!r})\n"
        "import lambic.app as L\n"
        "app = L.Lambic('py310', configure_logs=False)\n"
        "@app.route('/u/{id}')\n"
        "def u(id):\n"
        "    return {'id': id}\n"
        "event = L.create_rest_event(method='GET', path='/u/1', resource_path='/u/{id}',\n"
        "    path_params={'id': '1'}, query=[], headers=[], body=b'', binary_types=[],\n"
        "    stage='api')\n"
        "print(sys.version_info[:2], app(event, None)['body'], L.Rate.__name__)\n"
    )
    assert PY310 is not None
    out = subprocess.run(
        [PY310, "-I", "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    if out.returncode and "pyenv" in out.stderr:
        pytest.skip(f"python3.10 shim unusable: {out.stderr.strip()[:200]}")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == """(3, 10) {"id":"1"} Rate"""


def test_lambic_app_imports_only_the_standard_library() -> None:
    code = (
        "import sys\n"
        "import lambic.app as L\n"
        "from lambic import Rate, S3Event\n"
        "app = L.Lambic('stdlib', configure_logs=False)\n"
        "app.on_sqs_message(queue='q')(lambda e: None)\n"
        "import lambic.app.event_payloads, lambic.app.proxy_events\n"
        "roots = {m.split('.')[0] for m in sys.modules}\n"
        "print(sorted(r for r in roots if r not in sys.stdlib_module_names\n"
        "             and r not in sys.builtin_module_names and r != '__main__'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={"PYTHONPATH": str(Path(lambic.app.__file__).resolve().parents[2])},
    )
    assert out.stdout.strip() == "['lambic']"
