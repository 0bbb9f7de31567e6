"""Whether a project's code imports boto3 (the zygote waits for boto3's groundwork only
for such code), and which services it builds clients for (the zygote builds those)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambic.project.sdk_use import WarmPlan, imports_boto3, services_named, warm_plan


@pytest.mark.parametrize(
    "source",
    [
        "import boto3\n",
        "import os, boto3\n",
        "from boto3.dynamodb.conditions import Key\n",
        "import botocore.exceptions\n",
        "from botocore import exceptions\n",
        "def handler(event, context):\n    import boto3\n    return boto3.client('s3')\n",
    ],
)
def test_an_import_of_the_sdk_anywhere_in_app_py_counts(tmp_path: Path, source: str) -> None:
    (tmp_path / "app.py").write_text(source)
    assert imports_boto3(tmp_path)


def test_chalicelib_and_top_level_handler_modules_count(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("from chalicelib.store import save\n")
    (tmp_path / "chalicelib" / "deep").mkdir(parents=True)
    (tmp_path / "chalicelib" / "deep" / "store.py").write_text("import boto3\n")
    assert imports_boto3(tmp_path)
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "handlers.py").write_text("import json\n\nimport boto3\n")
    assert imports_boto3(plain)


@pytest.mark.parametrize(
    "source",
    [
        "import json\n\ndef handler(event, context):\n    return event\n",
        "# import boto3 later, when this talks to S3\nimport os\n",
        "import boto3_stubs_like_name\n",
        "from myboto3 import thing\n",
    ],
)
def test_code_without_the_sdk_does_not(tmp_path: Path, source: str) -> None:
    (tmp_path / "app.py").write_text(source)
    assert not imports_boto3(tmp_path)


def test_the_projects_tests_and_lambics_own_files_are_not_read(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("import json\n")
    for where in ("tests", ".lambic"):
        (tmp_path / where).mkdir()
        (tmp_path / where / "helper.py").write_text("import boto3\n")
    assert not imports_boto3(tmp_path)


# Which services' clients the zygote builds for a project (`warm_plan`).
USUAL = ["dynamodb", "s3", "sqs", "sns"]


@pytest.mark.parametrize(
    ("source", "named"),
    [
        ("import boto3\ns3 = boto3.client('s3')\n", ["s3"]),
        (
            't = boto3.resource("dynamodb").Table("t")\nq = boto3.client("sqs")\n',
            ["dynamodb", "sqs"],
        ),
        ("c = session.client(service_name='kinesis', region_name='us-east-1')\n", ["kinesis"]),
        ("c = botocore.session.get_session().create_client('sns')\n", ["sns"]),
        ("a = boto3.client('s3')\nb = boto3.client('s3')\n", ["s3"]),
        ("import boto3\n", []),
        ("c = boto3.client(SERVICE)\n", None),
        ("c = boto3.client(service_name=name)\n", None),
        ("c = app.test_client()\nd = make_client('s3')\n", []),
    ],
)
def test_the_services_the_code_names(tmp_path: Path, source: str, named: list[str] | None) -> None:
    (tmp_path / "app.py").write_text(source)
    assert services_named(tmp_path) == named


def test_the_named_services_are_built_in_the_usual_order(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("boto3.client('lambda')\nboto3.client('s3')\n")
    (tmp_path / "chalicelib").mkdir()
    (tmp_path / "chalicelib" / "db.py").write_text("boto3.resource('dynamodb')\n")
    assert warm_plan(tmp_path, USUAL) == WarmPlan(
        ["dynamodb", "s3", "lambda"], frozenset({"dynamodb"})
    )


@pytest.mark.parametrize(
    ("source", "resources"),
    [
        ("boto3.client('s3')\nboto3.resource('dynamodb')\n", {"dynamodb"}),
        ("boto3.resource('s3')\nboto3.client('s3')\n", {"s3"}),
        ("boto3.client('s3')\nboto3.client('dynamodb')\n", set()),
    ],
)
def test_resources_are_built_for_the_services_a_resource_call_names(
    tmp_path: Path, source: str, resources: set[str]
) -> None:
    (tmp_path / "app.py").write_text(source)
    assert warm_plan(tmp_path, USUAL).resources == resources


@pytest.mark.parametrize(
    "source", ["import json\n", "import boto3\n", "c = boto3.client(name)\nboto3.client('s3')\n"]
)
def test_the_usual_services_when_none_or_not_all_are_named(tmp_path: Path, source: str) -> None:
    (tmp_path / "app.py").write_text(source)
    assert warm_plan(tmp_path, USUAL) == WarmPlan(USUAL, None)


def test_a_project_too_large_to_read_gets_the_usual_services(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("boto3.client('s3')\n")
    (tmp_path / "chalicelib").mkdir()
    for index in range(400):
        (tmp_path / "chalicelib" / f"m{index}.py").write_text("")
    assert services_named(tmp_path) is None
    assert warm_plan(tmp_path, USUAL) == WarmPlan(USUAL, None)
