"""Whether a project's code imports the AWS SDK for Python (boto3, botocore).

`lambic local`'s zygote builds boto3's shared groundwork (session, endpoint data, the
first service's models) in steps after it starts; an environment forked before that
builds copies of its own on its first client and keeps them (~4-8 MB each). The
invoker asks the zygote to finish the groundwork before forking the environments of
a project whose code imports boto3, and not to wait for it otherwise (~45 ms of a
first cold start that would not use it). A hint, read from the sources: the code
Chalice deploys (app.py, chalicelib/) and the project's other top-level modules
(plain handler modules), import statements at any depth, in functions too.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["imports_boto3"]

_IMPORT = re.compile(
    rb"^[ \t]*(?:from[ \t]+(?:boto3|botocore)[ \t.]|import[ \t]+[\w., \t]*\b(?:boto3|botocore)\b)",
    re.MULTILINE,
)
# Past this many files the answer is yes: waiting ~45 ms once costs less than reading on.
_MAX_FILES = 400


def imports_boto3(project_dir: Path) -> bool:
    """True when a module of the project imports boto3 or botocore (or when it has
    more modules than are worth reading for this)."""
    files = [*project_dir.glob("*.py"), *(project_dir / "chalicelib").rglob("*.py")]
    if len(files) > _MAX_FILES:
        return True
    for path in files:
        try:
            if _IMPORT.search(path.read_bytes()):
                return True
        except OSError:  # gone since the listing, or unreadable: not ours to judge
            continue
    return False
