from __future__ import annotations

import subprocess
import sys
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
