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
environment) for the services the code names (`services_to_warm`): each service it
builds and nothing uses is ~1-3 MB of the image every `lambic local` holds (the
flagship names DynamoDB and S3 of the seven built otherwise: 3.4 MB less at idle).
Where a call names its service otherwise than with a string literal, or none is
named, it builds the usual seven: a service left out costs its first cold start
~20-40 ms (its models read there, per environment).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

__all__ = ["imports_boto3", "services_named", "services_to_warm"]

_IMPORT = re.compile(
    rb"^[ \t]*(?:from[ \t]+(?:boto3|botocore)[ \t.]|import[ \t]+[\w., \t]*\b(?:boto3|botocore)\b)",
    re.MULTILINE,
)
# `boto3.client("s3")`, `session.resource(service_name='dynamodb')`,
# `botocore_session.create_client("sqs", ...)`: group 2 is the literal name, absent when
# the service is named some other way (a variable).
_CALL = re.compile(
    rb"\.(?:client|resource|create_client)\(\s*(?:service_name\s*=\s*)?(?:(['\"])([\w-]+)\1)?"
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


def services_named(project_dir: Path) -> list[str] | None:
    """The services the project's client and resource calls name, in the order first
    met; None when one names its service otherwise than with a literal (or when there
    are more modules than worth reading)."""
    sources = _sources(project_dir)
    if sources is None:
        return None
    named: dict[str, None] = {}
    for source in sources:
        for match in _CALL.finditer(source):
            if match.group(2) is None:
                return None
            named[match.group(2).decode("ascii")] = None
    return list(named)


def services_to_warm(project_dir: Path, usual: Sequence[str]) -> list[str]:
    """The services whose clients the zygote builds for this project: the ones its
    code names (`usual`'s order first: DynamoDB's models, the largest, are the first
    built), or `usual` when that is not known or none are named."""
    named = services_named(project_dir)
    if not named:
        return list(usual)
    rank = {name: index for index, name in enumerate(usual)}
    return sorted(named, key=lambda name: (rank.get(name, len(rank)), name))
