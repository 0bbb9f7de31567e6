"""Lambic's pytest plugin: a fresh local cloud for a test, loaded with Lambic (`pytest11`).

Fixtures:

    lambic_services            fresh in-memory S3/DynamoDB/SQS/SNS/EventBridge on a free
    lambic_services_module     port, with AWS_ENDPOINT_URL, local credentials and region
    lambic_services_session    set for the test (module, session) and restored after
    lambic_local               `lambic local` of your project on free ports, from a fresh
                               copy (its own state), stopped after the test
    lambic_project_dir         the project `lambic_local` runs: override it, or set the
                               `lambic_project` ini option, or mark a test with
                               `@pytest.mark.lambic_project("path")`; default: rootdir

    def test_upload_triggers_handler(lambic_local):
        lambic_local.client("s3").put_object(Bucket="photos", Key="a.jpg", Body=b"...")
        lines = lambic_local.wait_for_invocation("on_upload")
        assert any("a.jpg" in line for line in lines)

Under pytest-xdist every worker gets its own ports (picked free per fixture) and its
own state (a copy of the project in the worker's tmp directory).

Importing this module costs only the standard library and pytest: it is loaded in the
test session of every project that installed Lambic, used or not. The services and
boto3 are imported by the fixtures that need them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from lambic._cloud_process import LocalCloudProcess

if TYPE_CHECKING:
    from lambic.services.factory import ServiceSet
    from lambic.services.server import EdgeServer

__all__ = ["LocalCloudProcess", "ServicesEndpoint"]

#: What a copy of the project leaves out: state, caches, deploy records, environments.
_NOT_COPIED = ("state", "deployed", "logs", "cache", "__pycache__", ".git", ".venv", "venv")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "lambic_project",
        "The project directory `lambic_local` runs (relative to the rootdir; default: it).",
        default="",
    )
    parser.addini("lambic_stage", "The config stage `lambic_local` runs.", default="dev")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "lambic_project(path): the project directory `lambic_local` runs"
    )


@dataclass
class ServicesEndpoint:
    """Local AWS services answering on `url`, in memory, for one test (or module...)."""

    url: str
    region: str
    services: ServiceSet = field(repr=False)

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client of these services (the environment already points boto3 here)."""
        import boto3

        return boto3.client(service, endpoint_url=self.url, region_name=self.region, **kwargs)


def _endpoint_variables(url: str) -> dict[str, str | None]:
    """What a test sees while a fixture's services serve: every shell identity is
    replaced (never a real account by accident); None means unset."""
    from lambic.project.account import LOCAL_REGION
    from lambic.project.environ import LOCAL_CREDENTIALS, SHELL_IDENTITY_VARIABLES

    variables: dict[str, str | None] = dict.fromkeys(SHELL_IDENTITY_VARIABLES)
    variables.update(LOCAL_CREDENTIALS)
    variables.update(AWS_ENDPOINT_URL=url, AWS_REGION=LOCAL_REGION, AWS_DEFAULT_REGION=LOCAL_REGION)
    return variables


def _point_environment(patch: pytest.MonkeyPatch, url: str) -> None:
    for name, value in _endpoint_variables(url).items():
        if value is None:
            patch.delenv(name, raising=False)
        else:
            patch.setenv(name, value)


@pytest.fixture
def lambic_services() -> Iterator[ServicesEndpoint]:
    """Fresh in-memory local services for one test; boto3 in the test talks to them."""
    yield from _services()


@pytest.fixture(scope="module")
def lambic_services_module() -> Iterator[ServicesEndpoint]:
    """`lambic_services` shared by the tests of one module."""
    yield from _services()


@pytest.fixture(scope="session")
def lambic_services_session() -> Iterator[ServicesEndpoint]:
    """`lambic_services` shared by the whole session (each xdist worker has its own)."""
    yield from _services()


def _services() -> Iterator[ServicesEndpoint]:
    from lambic.project.account import LOCAL_REGION
    from lambic.services.factory import create_services
    from lambic.services.server import EdgeServer

    services = create_services(None)
    edge: EdgeServer | None = None
    try:
        edge = EdgeServer(services.by_name()).start()
        with pytest.MonkeyPatch.context() as patch:
            _point_environment(patch, edge.url)
            yield ServicesEndpoint(edge.url, LOCAL_REGION, services)
    finally:
        if edge is not None:
            edge.stop()  # closes the services too
        else:
            services.close()


@pytest.fixture
def lambic_project_dir(request: pytest.FixtureRequest) -> Path:
    """The project `lambic_local` runs: the `lambic_project` marker, else the
    `lambic_project` ini option, else the rootdir (relative paths: to the rootdir)."""
    root = Path(request.config.rootpath)
    marker = request.node.get_closest_marker("lambic_project")
    if marker is not None and marker.args:
        return (root / str(marker.args[0])).resolve()
    configured = str(request.config.getini("lambic_project") or "")
    return (root / configured).resolve() if configured else root


@pytest.fixture
def lambic_local(
    request: pytest.FixtureRequest,
    lambic_project_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LocalCloudProcess]:
    """`lambic local` of the project, serving, on free ports, from a fresh copy (its own
    state); AWS_ENDPOINT_URL and local credentials point boto3 in the test at its
    services. Stopped (SIGTERM, then whatever is left killed) after the test."""
    if not (lambic_project_dir / "app.py").is_file():
        pytest.fail(
            f"No app.py in {lambic_project_dir}: set the `lambic_project` ini option, mark "
            "the test `@pytest.mark.lambic_project('path')` or override the "
            "`lambic_project_dir` fixture",
            pytrace=False,
        )
    copy = tmp_path_factory.mktemp("lambic-local") / lambic_project_dir.name
    shutil.copytree(lambic_project_dir, copy, ignore=shutil.ignore_patterns(*_NOT_COPIED))
    stage = str(request.config.getini("lambic_stage") or "dev")
    cloud = _start_local(copy, stage)
    try:
        with pytest.MonkeyPatch.context() as patch:
            _point_environment(patch, cloud.services_url)
            yield cloud
    finally:
        code, survivors = cloud.close()
    if code != 0 or survivors:
        pytest.fail(
            f"lambic local exited {code} on SIGTERM (processes left: {sorted(survivors)}):\n"
            f"{cloud.output()}",
            pytrace=False,
        )


def _start_local(project: Path, stage: str, attempts: int = 3) -> LocalCloudProcess:
    """Start on free ports; a port taken between picking and binding (another xdist
    worker) is retried on new ones."""
    from lambic._cloud_process import LocalCloudError

    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    for attempt in range(attempts):
        cloud = LocalCloudProcess(project, stage=stage, env=env)
        try:
            return cloud.start()
        except LocalCloudError:
            if attempt + 1 < attempts and "in use" in cloud.output():
                continue
            raise
    raise AssertionError("unreachable")  # pragma: no cover
