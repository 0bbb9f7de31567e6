"""`lambic delete` keeps tables and buckets with their data unless --include-data.

The trainstatus example declares a table and a bucket; each test stores an item and an
object in them after the deploy, as the app would, and deletes the stage.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from lambic.cli.main import main
from lambic.deploy.aws import AWSSession
from lambic.deploy.deployer import delete, deploy, url
from lambic.deploy.errors import DeleteRefusedError, RecordError
from lambic.deploy.records import load_record, record_path

from .conftest import CallLog, client

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "trainstatus"
Session = Callable[[], tuple[AWSSession, CallLog]]
READ_ONLY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
}
ITEM = {"date": {"S": "2026-12-06"}, "time": {"N": "930"}, "data": {"S": "on time"}}


@pytest.fixture
def deployed(aws_env: str, tmp_path: Path) -> Path:
    """trainstatus deployed (requirements emptied: no package index), holding data."""
    project = tmp_path / "trainstatus"
    shutil.copytree(
        EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__", "state", "deployed", "cache")
    )
    (project / "requirements.txt").write_text("")
    deploy(project, "dev")
    client("dynamodb").put_item(TableName="trainstatus", Item=ITEM)
    s3 = client("s3")
    # Versioned, with an old version and a delete marker: S3 refuses to delete the
    # bucket until every version is gone, not just the current objects.
    s3.put_bucket_versioning(
        Bucket="trainstatus-site", VersioningConfiguration={"Status": "Enabled"}
    )
    s3.put_object(Bucket="trainstatus-site", Key="index.html", Body=b"<p>old</p>")
    s3.put_object(Bucket="trainstatus-site", Key="index.html", Body=b"<p>new</p>")
    s3.put_object(Bucket="trainstatus-site", Key="gone.html", Body=b"x")
    s3.delete_object(Bucket="trainstatus-site", Key="gone.html")
    return project


def _functions() -> list[str]:
    return [f["FunctionName"] for f in client("lambda").list_functions()["Functions"]]


def _everything() -> dict[str, list[str]]:
    """What is left on (moto's) AWS, by kind."""
    return {
        "functions": _functions(),
        "tables": client("dynamodb").list_tables()["TableNames"],
        "buckets": [b["Name"] for b in client("s3").list_buckets()["Buckets"]],
        "rest_apis": [a["name"] for a in client("apigateway").get_rest_apis()["items"]],
        "roles": [r["RoleName"] for r in client("iam").list_roles()["Roles"]],
        "rules": [r["Name"] for r in client("events").list_rules()["Rules"]],
    }


NOTHING: dict[str, list[str]] = {
    "functions": [],
    "tables": [],
    "buckets": [],
    "rest_apis": [],
    "roles": [],
    "rules": [],
}
DATA_ONLY = {**NOTHING, "tables": ["trainstatus"], "buckets": ["trainstatus-site"]}


def _data_is_intact() -> None:
    item = client("dynamodb").get_item(
        TableName="trainstatus", Key={"date": ITEM["date"], "time": ITEM["time"]}
    )
    assert item["Item"] == ITEM
    body = client("s3").get_object(Bucket="trainstatus-site", Key="index.html")["Body"].read()
    assert body == b"<p>new</p>"


def test_delete_keeps_table_and_bucket_with_their_data_and_removes_the_rest(
    deployed: Path,
) -> None:
    lines: list[str] = []
    plan = delete(deployed, "dev", echo=lines.append)
    assert _everything() == DATA_ONLY
    _data_is_intact()
    assert set(plan.kept) == {"table:trainstatus", "bucket:trainstatus-site"}
    # The plan comes first, one line per resource, then what was kept and how to delete it.
    assert lines[0] == "Deleting trainstatus (dev) from us-east-1: 5 to remove, 2 to keep"
    assert "  remove    function trainstatus-dev" in lines
    assert "  remove    role trainstatus-dev" in lines
    assert "  keep      table trainstatus (data)" in lines
    # Then one line per resource as it goes, in the same columns as deploy's.
    [api_gone] = [line for line in lines if line.startswith("  deleted   REST API ")]
    assert lines.index("  keep      table trainstatus (data)") < lines.index(api_gone)
    assert "  deleted   function trainstatus-dev" in lines
    assert lines[-3:] == [
        "  kept      table trainstatus (data); pass --include-data to delete it",
        "  kept      bucket trainstatus-site (data); pass --include-data to delete it",
        "Deleted trainstatus (dev): 5 deleted, 2 kept",
    ]
    # The record now lists exactly what the stage still has on AWS.
    record = load_record(deployed, "dev")
    assert record is not None
    assert sorted(record.resources) == ["bucket:trainstatus-site", "table:trainstatus"]
    assert record.api_url is None
    with pytest.raises(RecordError, match=r"is not deployed \(its record lists only the tables"):
        url(deployed, "dev")


def test_a_second_delete_keeps_them_again_and_include_data_removes_them(deployed: Path) -> None:
    delete(deployed, "dev")
    lines: list[str] = []
    delete(deployed, "dev", echo=lines.append)
    assert lines[0] == "Deleting trainstatus (dev) from us-east-1: 0 to remove, 2 to keep"
    assert _everything() == DATA_ONLY

    delete(deployed, "dev", include_data=True)
    assert _everything() == NOTHING
    assert load_record(deployed, "dev") is None


def test_deploy_after_a_data_keeping_delete_adopts_the_kept_resources(
    deployed: Path, counted_session: Session
) -> None:
    delete(deployed, "dev")
    aws, log = counted_session()
    deploy(deployed, "dev", aws=aws)
    assert "CreateTable" not in log.mutating
    assert "CreateBucket" not in log.mutating
    assert client("dynamodb").list_tables()["TableNames"] == ["trainstatus"]
    assert sorted(_functions()) == ["trainstatus-dev", "trainstatus-dev-update_status"]
    _data_is_intact()


def test_include_data_asks_with_what_each_resource_holds_and_a_no_removes_nothing(
    deployed: Path,
) -> None:
    before = record_path(deployed, "dev").read_text()
    asked: list[list[str]] = []

    def decline(held: list[str]) -> bool:
        asked.append(held)
        return False

    with pytest.raises(DeleteRefusedError, match=r"cancelled; nothing was deleted"):
        delete(deployed, "dev", include_data=True, confirm=decline)
    assert asked == [
        ["table trainstatus (about 1 item)", "bucket trainstatus-site (4 object versions)"]
    ]
    assert len(_functions()) == 2
    _data_is_intact()
    assert record_path(deployed, "dev").read_text() == before


def test_cli_delete_keeps_data_then_include_data_yes_removes_everything(deployed: Path) -> None:
    runner = CliRunner()
    kept = runner.invoke(main, ["delete", "--project-dir", str(deployed)])
    assert kept.exit_code == 0, kept.output
    assert "  keep      bucket trainstatus-site (data)" in kept.output
    assert "kept      table trainstatus (data); pass --include-data to delete it" in kept.output
    assert _everything() == DATA_ONLY
    _data_is_intact()

    gone = runner.invoke(
        main, ["delete", "--project-dir", str(deployed), "--include-data", "--yes"]
    )
    assert gone.exit_code == 0, gone.output
    assert "  remove    bucket trainstatus-site with its data" in gone.output
    assert "  deleted   bucket trainstatus-site\n" in gone.output
    assert _everything() == NOTHING
    assert load_record(deployed, "dev") is None


def test_cli_include_data_without_yes_and_without_a_terminal_is_refused(deployed: Path) -> None:
    before = record_path(deployed, "dev").read_text()
    # CliRunner's stdin is not a terminal, as in CI or a pipe.
    result = CliRunner().invoke(main, ["delete", "--project-dir", str(deployed), "--include-data"])
    assert result.exit_code == 2
    [error] = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert "no terminal to confirm on; pass --yes" in error
    assert len(_functions()) == 2
    _data_is_intact()
    assert record_path(deployed, "dev").read_text() == before


def test_a_failing_check_refuses_before_anything_is_removed(deployed: Path) -> None:
    # IAM refuses to delete a role with a policy attached by someone else; finding that
    # out only after the functions are gone would leave half a stage.
    iam = client("iam")
    policy = iam.create_policy(PolicyName="ReadOnlyAccess", PolicyDocument=json.dumps(READ_ONLY))
    iam.attach_role_policy(RoleName="trainstatus-dev", PolicyArn=policy["Policy"]["Arn"])
    before = record_path(deployed, "dev").read_text()
    for include_data in (False, True):
        with pytest.raises(DeleteRefusedError, match=r"ReadOnlyAccess, which Lambic did not add"):
            delete(deployed, "dev", include_data=include_data)
    assert len(_functions()) == 2
    assert client("apigateway").get_rest_apis()["items"]
    _data_is_intact()
    assert record_path(deployed, "dev").read_text() == before


def test_a_protected_table_refuses_include_data_before_anything_is_removed(
    deployed: Path,
) -> None:
    client("dynamodb").update_table(TableName="trainstatus", DeletionProtectionEnabled=True)
    with pytest.raises(DeleteRefusedError, match=r"deletion protection on; turn it off"):
        delete(deployed, "dev", include_data=True)
    assert len(_functions()) == 2
    _data_is_intact()


def test_resources_already_gone_do_not_stop_the_delete(deployed: Path) -> None:
    client("dynamodb").delete_table(TableName="trainstatus")
    client("lambda").delete_function(FunctionName="trainstatus-dev")
    delete(deployed, "dev", include_data=True)
    assert _everything() == NOTHING


def test_a_deploy_keeps_a_table_and_bucket_dropped_from_the_config_with_their_data(
    deployed: Path,
) -> None:
    # Only `lambic delete --include-data` deletes data; a config edit never does.
    config_path = deployed / ".lambic" / "config.json"
    config = json.loads(config_path.read_text())
    del config["resources"]
    config_path.write_text(json.dumps(config))
    lines: list[str] = []
    deploy(deployed, "dev", echo=lines.append)
    _data_is_intact()
    assert (
        "  kept      table trainstatus (no longer in the config; its data stays until "
        "`lambic delete --include-data`)"
    ) in lines
    assert any(line.startswith("  kept      bucket trainstatus-site (no longer") for line in lines)
    # Still recorded, so the one consent to losing data removes them with the stage.
    record = load_record(deployed, "dev")
    assert record is not None
    assert {"table:trainstatus", "bucket:trainstatus-site"} <= set(record.resources)
    delete(deployed, "dev", include_data=True)
    assert _everything() == NOTHING
