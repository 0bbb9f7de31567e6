"""No orphans: a deploy that fails at any AWS call can be re-run or deleted, leaving nothing.

The fault is injected through `AWSSession.observe_calls`, the executor's documented
hook (it runs before every AWS request): `FailAt(n)` raises instead of the n-th
mutating call, as a dropped connection or a throttled API would fail it. For every n
of a full deploy of the resources app (every kind Lambic deploys), the stage is then
deployed again, which must finish without making anything twice (the inventory of
every service equals a clean deploy's; the last one is then deleted with its data,
leaving nothing); and, separately, a deploy failed at each n and deleted straight
away must leave nothing at all.
"""

from __future__ import annotations

import contextlib
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lambic.deploy.aws import AWSSession, is_mutating
from lambic.deploy.deployer import delete, deploy
from lambic.deploy.errors import RecordError

from .conftest import client

# Some 35 deploys each, against moto: minutes on a loaded machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


class InjectedFault(Exception):
    """Raised by `FailAt` in place of an AWS call."""


class FailAt:
    """An `observe_calls` callback failing the n-th mutating AWS call (1-based)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.seen: list[str] = []

    def __call__(self, service: str, operation: str) -> None:
        if not is_mutating(operation):
            return
        self.seen.append(f"{service}.{operation}")
        if len(self.seen) == self.n:
            raise InjectedFault(f"injected failure at call {self.n}: {service}.{operation}")


def session(fault: FailAt | None = None) -> AWSSession:
    aws = AWSSession()
    if fault is not None:
        aws.observe_calls(fault)
    return aws


def _names(items: list[Any], key: str) -> list[str]:
    return sorted(str(item[key]) for item in items)


def _source(arn: str) -> str:
    """An event source by name: a stream ARN's label is its creation time (with colons),
    which differs between two deployments of the same table by design."""
    return arn.split(":", 5)[5].split("/stream/", 1)[0]


def inventory() -> dict[str, list[str]]:
    """Everything on (moto's) AWS, by kind, listed through boto3 (duplicates show)."""
    lam, s3, sns = client("lambda"), client("s3"), client("sns")
    return {
        "functions": _names(lam.list_functions()["Functions"], "FunctionName"),
        "mappings": sorted(
            f"{_source(m['EventSourceArn'])} {m['FunctionArn'].rsplit(':', 1)[-1]}"
            for m in lam.list_event_source_mappings()["EventSourceMappings"]
        ),
        "roles": _names(client("iam").list_roles()["Roles"], "RoleName"),
        "tables": sorted(client("dynamodb").list_tables()["TableNames"]),
        "buckets": _names(s3.list_buckets()["Buckets"], "Name"),
        "queues": sorted(
            u.rsplit("/", 1)[-1] for u in client("sqs").list_queues().get("QueueUrls", [])
        ),
        "topics": sorted(t["TopicArn"].rsplit(":", 1)[-1] for t in sns.list_topics()["Topics"]),
        "subscriptions": sorted(
            f"{s['TopicArn'].rsplit(':', 1)[-1]} {s['Protocol']} {s['Endpoint'].rsplit(':', 1)[-1]}"
            for s in sns.list_subscriptions()["Subscriptions"]
        ),
        "buses": _names(client("events").list_event_buses()["EventBuses"], "Name"),
        "rules": _names(client("events").list_rules()["Rules"], "Name"),
        "rest_apis": _names(client("apigateway").get_rest_apis()["items"], "name"),
        "http_apis": _names(client("apigatewayv2").get_apis()["Items"], "Name"),
        "streams": sorted(client("kinesis").list_streams()["StreamNames"]),
    }


NOTHING = {
    "functions": [],
    "mappings": [],
    "roles": [],
    "tables": [],
    "buckets": [],
    "queues": [],
    "topics": [],
    "subscriptions": [],
    "buses": ["default"],
    "rules": [],
    "rest_apis": [],
    "http_apis": [],
    "streams": [],
}


def _reset(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass


def _fresh(project: Path, endpoint: str) -> None:
    _reset(endpoint)
    for stale in (project / ".lambic" / "deployed").glob("*.json"):
        stale.unlink()


def _delete_everything(project: Path) -> None:
    # RecordError: the failure came before anything was created (and recorded).
    with contextlib.suppress(RecordError):
        delete(project, "dev", include_data=True, aws=session())


@pytest.fixture
def project(copy_app: Callable[[str], Path], aws_env: str) -> Path:
    shop = copy_app("resources")
    return shop


def _calls_of_a_clean_deploy(
    project: Path, endpoint: str, stage: str = "dev"
) -> tuple[list[str], dict[str, list[str]]]:
    counter = FailAt(0)
    deploy(project, stage, aws=session(counter))
    full = inventory()
    delete(project, stage, include_data=True, aws=session())
    assert inventory() == NOTHING
    _fresh(project, endpoint)
    return counter.seen, full


@pytest.mark.parametrize("stage", ["dev", "http"])  # a REST API, an HTTP API
def test_a_deploy_failing_at_any_call_resumes_without_duplicates_and_deletes_to_nothing(
    project: Path, aws_env: str, stage: str
) -> None:
    calls, full = _calls_of_a_clean_deploy(project, aws_env, stage)
    # Every kind and every multi-call create is among the failure points.
    assert {
        "iam.CreateRole",
        "dynamodb.CreateTable",
        "s3.CreateBucket",
        "s3.PutPublicAccessBlock",
        "s3.PutBucketPolicy",
        "sqs.CreateQueue",
        "sns.CreateTopic",
        "sns.Subscribe",
        "events.CreateEventBus",
        "kinesis.CreateStream",
        "kinesis.IncreaseStreamRetentionPeriod",
        "lambda.CreateFunction",
        "lambda.AddPermission",
        "lambda.CreateEventSourceMapping",
        "events.PutRule",
        "events.PutTargets",
    } <= set(calls), calls
    api = {"dev": {"apigateway.ImportRestApi", "apigateway.CreateDeployment"}}.get(
        stage, {"apigatewayv2.CreateApi", "apigatewayv2.CreateStage", "apigatewayv2.CreateRoute"}
    )
    assert api <= set(calls), calls
    for n in range(1, len(calls) + 1):
        with pytest.raises(Exception, match=f"injected failure at call {n}: "):
            deploy(project, stage, aws=session(FailAt(n)))
        deploy(project, stage, aws=session())
        assert inventory() == full, f"after failing at call {n} ({calls[n - 1]}) and redeploying"
        if n == len(calls):  # a resumed stage deletes like any (each n: the test below)
            delete(project, stage, include_data=True, aws=session())
            assert inventory() == NOTHING
        _fresh(project, aws_env)


def test_a_deploy_failing_at_any_call_is_deleted_to_nothing(project: Path, aws_env: str) -> None:
    calls, _ = _calls_of_a_clean_deploy(project, aws_env)
    for n in range(1, len(calls) + 1):
        with pytest.raises(Exception, match=f"injected failure at call {n}: "):
            deploy(project, "dev", aws=session(FailAt(n)))
        _delete_everything(project)
        assert inventory() == NOTHING, f"after failing at call {n} ({calls[n - 1]})"
        _fresh(project, aws_env)
