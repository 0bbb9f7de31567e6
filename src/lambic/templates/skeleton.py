"""Render a new-project skeleton (app.py, requirements.txt, .lambic/config.json, .gitignore).

Each skeleton is a directory next to this module holding `*.tmpl` files and a
`skeleton.json` that maps template names to their paths in the new project. Templates
are rendered with `str.format(app_name=...)`, so literal braces in them are doubled.

Errors: `SkeletonError` (bad project name) and its subclass `ProjectExistsError`.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

# Lambda function names are `{app_name}-{stage}[-{function}]`, limited to letters,
# digits, hyphens and underscores; Chalice checks the same characters at deploy time.
# We check early so `lambic deploy` cannot fail later on a name chosen here.
_APP_NAME = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


class SkeletonError(Exception):
    """The project cannot be created as asked; the message says what to change."""


class ProjectExistsError(SkeletonError):
    """The destination already exists; new-project never overwrites anything."""


def create_project_skeleton(dest: Path, app_name: str, *, skeleton: str = "hello") -> list[Path]:
    """Create `dest` with the files of `skeleton`; return the paths written.

    >>> create_project_skeleton(Path("myapp"), "myapp")  # doctest: +SKIP
    [PosixPath('myapp/app.py'), ...]
    """
    if not _APP_NAME.match(app_name):
        raise SkeletonError(
            f"Invalid project name {app_name!r}: use 1-40 letters, digits, '-' or '_' "
            "(it becomes part of the Lambda function names)"
        )
    if dest.exists():
        kind = "directory" if dest.is_dir() else "file"
        raise ProjectExistsError(
            f"A {kind} named {str(dest)!r} already exists; "
            "pick another project name or remove it first"
        )
    source = resources.files("lambic.templates").joinpath(skeleton)
    layout: dict[str, str] = json.loads(source.joinpath("skeleton.json").read_text("utf-8"))
    rendered = {
        dest / target: source.joinpath(template).read_text("utf-8").format(app_name=app_name)
        for template, target in layout.items()
    }
    dest.mkdir(parents=True)
    written: list[Path] = []
    for path, text in rendered.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
