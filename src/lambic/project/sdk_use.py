"""Whether a project's code imports the AWS SDK for Python (boto3, botocore), and
which services' clients it builds.

`lambic local`'s zygote builds boto3's shared groundwork (session, endpoint data, the
first service's models) in steps after it starts; an environment forked before that
builds copies of its own on its first client and keeps them (~4-8 MB each). The
invoker asks the zygote to finish the groundwork before forking the environments of
a project whose code imports boto3, and not to wait for it otherwise (~45 ms of a
first cold start that would not use it). A hint, read from the sources: the code
Chalice deploys (app.py, chalicelib/) and the project's other top-level modules
(plain handler modules), import statements at any depth, in functions too.

The zygote then builds clients (the models they read stay loaded, shared by every
environment) for the services the code names (`warm_plan`): each service it builds and nothing
uses is ~1-3 MB of the image every `lambic local` holds (the flagship names DynamoDB
and S3 of the seven built otherwise: 3.4 MB less at idle), and a boto3 resource only
for those a resource call names (the flagship's S3 is a client: 0.2 MB less).
Where a call names its service otherwise than with a string literal, or none is
named, it builds the usual seven: a service left out costs its first cold start
~20-40 ms (its models read there, per environment).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["WarmPlan", "imports_boto3", "services_named", "warm_plan"]

_IMPORT = re.compile(
    rb"^[ \t]*(?:from[ \t]+(?:boto3|botocore)[ \t.]|import[ \t]+[\w., \t]*\b(?:boto3|botocore)\b)",
    re.MULTILINE,
)
# `boto3.client("s3")`, `session.resource(service_name='dynamodb')`,
# `botocore_session.create_client("sqs", ...)`: group 1 is the call, group 3 the literal
# name, absent when the service is named some other way (a variable).
_CALL = re.compile(
    rb"\.(client|resource|create_client)\(\s*(?:service_name\s*=\s*)?(?:(['\"])([\w-]+)\2)?"
)
# Past this many files the answer is yes (and: not known): waiting ~45 ms once costs
# less than reading on.
_MAX_FILES = 400


def _sources(project_dir: Path) -> Iterator[bytes] | None:
    """The project's modules' bytes (the ones that are readable), or None when there
    are more than worth reading."""
    files = [*project_dir.glob("*.py"), *(project_dir / "chalicelib").rglob("*.py")]
    if len(files) > _MAX_FILES:
        return None
    return _read(files)


def _read(files: list[Path]) -> Iterator[bytes]:
    for path in files:
        try:
            yield path.read_bytes()
        except OSError:  # gone since the listing, or unreadable: not ours to judge
            continue


def imports_boto3(project_dir: Path) -> bool:
    """True when a module of the project imports boto3 or botocore (or when it has
    more modules than are worth reading for this)."""
    sources = _sources(project_dir)
    return sources is None or any(_IMPORT.search(source) for source in sources)


def _named_calls(project_dir: Path) -> dict[str, bool] | None:
    """Each service the project's client and resource calls name (in the order first
    met), with whether a resource call names it; None when one names its service
    otherwise than with a literal (or when there are more modules than worth reading)."""
    sources = _sources(project_dir)
    if sources is None:
        return None
    named: dict[str, bool] = {}
    for source in sources:
        for match in _CALL.finditer(source):
            if match.group(3) is None:
                return None
            name = match.group(3).decode("ascii")
            named[name] = named.get(name, False) or match.group(1) == b"resource"
    return named


def services_named(project_dir: Path) -> list[str] | None:
    """The services the project's client and resource calls name, in the order first
    met; None when one names its service otherwise than with a literal (or when there
    are more modules than worth reading)."""
    named = _named_calls(project_dir)
    return None if named is None else list(named)


@dataclass(frozen=True)
class WarmPlan:
    """What the zygote builds for a project (`warm_plan`)."""

    #: The services whose clients it builds, in that order.
    services: list[str]
    #: The services whose boto3 resource it builds too (their resource model cached,
    #: ~0.2 MB of the image each, ~40 ms of a cold start's CPU saved): the ones a resource
    #: call names; None where that is not known (each that has resources).
    resources: frozenset[str] | None


def warm_plan(project_dir: Path, usual: Sequence[str]) -> WarmPlan:
    """The services the project's code names (`usual`'s order first: DynamoDB's models,
    the largest, are the first built) and which of them as resources; `usual`, each
    with its resource, when that is not known or none are named."""
    named = _named_calls(project_dir)
    if not named:
        return WarmPlan(list(usual), None)
    rank = {name: index for index, name in enumerate(usual)}
    services = sorted(named, key=lambda name: (rank.get(name, len(rank)), name))
    return WarmPlan(services, frozenset(name for name, resource in named.items() if resource))
