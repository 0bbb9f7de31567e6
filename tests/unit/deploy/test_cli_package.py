"""`lambic package` and `lambic gen-policy` through the click entry point."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from lambic.cli.main import main


def test_package_writes_zip_and_sam_template(
    copy_app: Callable[[str], Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["package", str(out), "--project-dir", str(copy_app("events"))]
    )
    assert result.exit_code == 0, result.output
    template = json.loads((out / "sam.json").read_text())
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    assert "app.py" in zipfile.ZipFile(out / "deployment.zip").namelist()


def test_package_terraform_format_writes_tf_json(
    copy_app: Callable[[str], Path], tmp_path: Path
) -> None:
    out = tmp_path / "tf"
    result = CliRunner().invoke(
        main,
        ["package", str(out), "--format", "terraform", "--project-dir", str(copy_app("hello"))],
    )
    assert result.exit_code == 0, result.output
    document = json.loads((out / "lambic.tf.json").read_text())
    assert "aws_lambda_function" in document["resource"]


def test_package_without_app_py_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["package", str(tmp_path / "o"), "--project-dir", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"Error: no app.py in {tmp_path.resolve()}; run from the project directory or pass "
        "--project-dir"
    ]


def test_gen_policy_prints_the_generated_policy(copy_app: Callable[[str], Path]) -> None:
    result = CliRunner().invoke(main, ["gen-policy", "--project-dir", str(copy_app("web"))])
    assert result.exit_code == 0, result.output
    policy = json.loads(result.output)
    assert {
        "Effect": "Allow",
        "Action": ["dynamodb:PutItem"],
        "Resource": ["arn:aws:dynamodb:*:*:table/users"],
    } in policy["Statement"]
