"""Whether a project's code imports boto3: the zygote waits for boto3's groundwork only
for such code (runtime/_zygote_process.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambic.project.sdk_use import imports_boto3


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
