"""The deploy, delete and url operations, end to end.

    deploy: load project → handlers' undeclared resources exist? (read-only) → package
            zip → desired resources (ARNs from STS identity) → Planner.plan(desired,
            record; dropped tables/buckets/queues kept) → Executor.execute (a line per
            finished step, each resource recorded the moment AWS creates it)
            → record; summary: counts per action, API and website URLs, log command
    delete: record → Planner.plan_delete (tables, buckets, queues kept unless include_data)
            → print it → check_delete (read-only; refuses before any change) → confirm
            → Executor.execute → record removed, or left listing only what was kept
    url:    record → API URL (or the website buckets' URLs)

A no-change redeploy makes no mutating AWS call: it reads the caller identity and checks
that the undeclared resources its handlers name still exist.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

from lambic.deploy import progress
from lambic.deploy._preflight import check_delete
from lambic.deploy._references import check_references
from lambic.deploy.aws import AWSSession
from lambic.deploy.deployable import load_deployable
from lambic.deploy.errors import AWSError, DeleteRefusedError, PackagingError, RecordError
from lambic.deploy.executor import Executor
from lambic.deploy.packager import package_bytes
from lambic.deploy.planner import STATEFUL, Plan, Planner, desired_resources
from lambic.deploy.records import DeployedRecord, load_record
from lambic.deploy.resources import handler_references
from lambic.project.paths import ProjectPaths

Echo = Callable[[str], None]
# Asked before data is deleted, with one line per table or bucket and what it holds;
# answers whether to go on.
Confirm = Callable[[list[str]], bool]


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
    check_references(
        aws,
        handler_references(project.app),
        project.config.resources,
        ProjectPaths(project_dir).config_name,
    )
    zip_bytes = package_bytes(project_dir, runtime=project.runtime)
    check_lambda_limits(zip_bytes)
    code_sha = base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode("ascii")
    desired = desired_resources(
        project.graph, region=aws.region, account_id=aws.account_id, code_sha256=code_sha
    )
    plan = Planner().plan(desired, record)
    if not plan.is_empty:
        # A no-change redeploy says so once, in the summary.
        echo(
            f"Deploying {project.config.app_name} ({stage}) to {aws.region}: "
            f"{len(plan.steps)} change{'s' if len(plan.steps) != 1 else ''}"
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
    for key in plan.kept:
        label = record.resources[key].label()
        echo(
            progress.resource_line(
                "kept",
                f"{label} (no longer in the config; its data stays until "
                "`lambic delete --include-data`)",
            )
        )
    for line in progress.deploy_summary(record, executor.done):
        echo(line)
    return record


def delete(
    project_dir: Path,
    stage: str,
    *,
    include_data: bool = False,
    confirm: Confirm | None = None,
    profile: str | None = None,
    aws: AWSSession | None = None,
    echo: Echo = lambda line: None,
) -> Plan:
    """Remove what the stage's record lists; tables and buckets only with `include_data`.

    Prints the plan, then checks every step it can (`DeleteRefusedError`, nothing
    removed, if one would fail), then asks `confirm` before deleting data (None: the
    caller has already confirmed). Kept resources stay in the record, so a later
    `delete(..., include_data=True)` removes them and `deploy` adopts them again:

        delete(project_dir, "dev", echo=print)  # keeps table trainstatus and its items
    """
    project_dir = project_dir.resolve()
    record = load_record(project_dir, stage)
    if record is None:
        raise RecordError(
            f"stage {stage!r} has no deployment record (.lambic/deployed/{stage}.json); "
            "nothing to delete"
        )
    aws = aws or AWSSession(profile=profile, region=record.region)
    _check_target(record, aws)
    plan = Planner().plan_delete(record, include_data=include_data)
    _describe_delete(record, plan, echo)
    data = check_delete(aws, record, plan)
    if data and confirm is not None:
        held = [f"{record.resources[key].label()} ({data[key] or 'already gone'})" for key in data]
        if not confirm(held):
            raise DeleteRefusedError(f"delete of stage {stage!r} cancelled; nothing was deleted")
    kept = [record.resources[key].label() for key in plan.kept]
    Executor(aws, project_dir, record, echo=echo).execute(plan)
    for label in kept:
        echo(progress.resource_line("kept", f"{label} (data); pass --include-data to delete it"))
    counts = {"deleted": len(plan.steps), "kept": len(kept)}
    echo(f"Deleted {record.app_name} ({stage}): {progress.counts_text(counts) or 'nothing'}")
    return plan


def _describe_delete(record: DeployedRecord, plan: Plan, echo: Echo) -> None:
    echo(
        f"Deleting {record.app_name} ({record.stage}) from {record.region}: "
        f"{len(plan.steps)} to remove, {len(plan.kept)} to keep"
    )
    for step in plan.steps:
        data = " with its data" if "data" in step.changed else ""
        echo(progress.resource_line("remove", f"{record.resources[step.key].label()}{data}"))
    for key in plan.kept:
        echo(progress.resource_line("keep", f"{record.resources[key].label()} (data)"))


def url(project_dir: Path, stage: str, *, website: bool = False) -> str:
    """The stage's API endpoint, from its record; with `website`, its website URLs.

    A stage without routes but with a website bucket answers its website URL, so
    `lambic url` always prints where the stage can be reached.
    """
    record = load_record(project_dir.resolve(), stage)
    if record is None:
        raise RecordError(f"stage {stage!r} is not deployed; run `lambic deploy --stage {stage}`")
    if all(resource.kind in STATEFUL for resource in record.resources.values()):
        raise RecordError(
            f"stage {stage!r} is not deployed (its record lists only the tables, buckets and "
            f"queues `lambic delete` kept); run `lambic deploy --stage {stage}`"
        )
    sites = [value for name, value in progress.stage_urls(record) if name == "Website URL"]
    if website or not record.api_url:
        if sites:
            return "\n".join(sites)
        if website:
            raise RecordError(
                f"stage {stage!r} has no website bucket; declare one under "
                'resources.s3_buckets with "Website": {"IndexDocument": "index.html"}'
            )
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
