"""The deploy, delete and url operations, end to end.

    deploy: load project → package zip → desired resources (ARNs from STS identity)
            → Planner.plan(desired, record) → Executor.execute → record + API URL
    delete: record → Planner.plan_delete → Executor.execute → record removed
    url:    record → API URL

Reading the caller identity is the only AWS call a no-change redeploy makes.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

from lambic.deploy.aws import AWSSession
from lambic.deploy.deployable import load_deployable
from lambic.deploy.errors import AWSError, PackagingError, RecordError
from lambic.deploy.executor import Executor
from lambic.deploy.packager import package_bytes
from lambic.deploy.planner import Plan, Planner, desired_resources
from lambic.deploy.records import DeployedRecord, load_record

Echo = Callable[[str], None]


def deploy(
    project_dir: Path,
    stage: str,
    *,
    profile: str | None = None,
    region: str | None = None,
    aws: AWSSession | None = None,
    echo: Echo = lambda line: None,
) -> DeployedRecord:
    """Create or update the stage on AWS; returns the record written."""
    project = load_deployable(project_dir, stage)
    project_dir = project.config.project_dir
    aws = aws or AWSSession(profile=profile, region=region)
    record = load_record(project_dir, stage)
    if record is None:
        record = DeployedRecord(project.config.app_name, stage, aws.region, aws.account_id)
    _check_target(record, aws)
    zip_bytes = package_bytes(project_dir, runtime=project.runtime)
    check_lambda_limits(zip_bytes)
    code_sha = base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode("ascii")
    desired = desired_resources(
        project.graph, region=aws.region, account_id=aws.account_id, code_sha256=code_sha
    )
    plan = Planner().plan(desired, record)
    echo(
        f"Deploying {project.config.app_name} ({stage}) to {aws.region}: "
        f"{len(plan.steps) or 'no'} change{'s' if len(plan.steps) != 1 else ''}"
    )
    executor = Executor(
        aws,
        project_dir,
        record,
        graph=project.graph,
        zip_bytes=zip_bytes,
        role_arn=project.config.iam_role_arn,
        echo=echo,
    )
    record = executor.execute(plan)
    if executor.invalidate_dependents():
        record = executor.execute(Planner().plan(desired, record))
    return record


def delete(
    project_dir: Path,
    stage: str,
    *,
    profile: str | None = None,
    aws: AWSSession | None = None,
    echo: Echo = lambda line: None,
) -> Plan:
    """Remove everything the stage's record lists (and nothing else)."""
    project_dir = project_dir.resolve()
    record = load_record(project_dir, stage)
    if record is None:
        raise RecordError(
            f"stage {stage!r} has no deployment record (.lambic/deployed/{stage}.json); "
            "nothing to delete"
        )
    aws = aws or AWSSession(profile=profile, region=record.region)
    _check_target(record, aws)
    plan = Planner().plan_delete(record)
    echo(f"Deleting {record.app_name} ({stage}) from {record.region}: {len(plan.steps)} resources")
    Executor(aws, project_dir, record, echo=echo).execute(plan)
    return plan


def url(project_dir: Path, stage: str) -> str:
    """The stage's API endpoint, from its record."""
    record = load_record(project_dir.resolve(), stage)
    if record is None:
        raise RecordError(f"stage {stage!r} is not deployed; run `lambic deploy --stage {stage}`")
    if not record.api_url:
        raise RecordError(f"stage {stage!r} has no HTTP API (the app defines no routes)")
    return record.api_url


# Lambda's deployment package quotas: a zip uploaded in the request, and its contents.
DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024
UNZIPPED_LIMIT = 250 * 1024 * 1024


def check_lambda_limits(
    zip_bytes: bytes,
    *,
    direct_limit: int = DIRECT_UPLOAD_LIMIT,
    unzipped_limit: int = UNZIPPED_LIMIT,
) -> None:
    """Refuse a package Lambda would reject, before any AWS call is made."""
    if len(zip_bytes) > direct_limit:
        raise PackagingError(
            f"the deployment package is {len(zip_bytes) / 2**20:.1f} MB zipped, over Lambda's "
            "50 MB direct-upload limit; drop requirements the runtime already has (boto3) "
            "or move large dependencies to a layer"
        )
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        unzipped = sum(info.file_size for info in archive.infolist())
    if unzipped > unzipped_limit:
        raise PackagingError(
            f"the deployment package unzips to {unzipped / 2**20:.1f} MB, over Lambda's "
            "250 MB limit; trim requirements.txt"
        )


def _check_target(record: DeployedRecord, aws: AWSSession) -> None:
    if record.region != aws.region or record.account_id != aws.account_id:
        raise AWSError(
            f"stage {record.stage!r} is deployed in account {record.account_id}, region "
            f"{record.region}, but the credentials point at {aws.account_id}, {aws.region}; "
            "switch --profile / AWS_DEFAULT_REGION or deploy another stage"
        )
