"""`lambic package OUT_DIR`: the deployment zip plus a SAM template or Terraform JSON."""

from __future__ import annotations

import json
from pathlib import Path

import click

from lambic.cli.options import project_dir_option, stage_option
from lambic.deploy.deployable import load_deployable
from lambic.deploy.packager import build_package
from lambic.deploy.sam import build_sam
from lambic.deploy.terraform import build_terraform


@click.command("package")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@stage_option("The config stage to package.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["sam", "terraform"]),
    default="sam",
    show_default=True,
    help="Template format written next to deployment.zip.",
)
@project_dir_option(must_exist=True)
def package(out_dir: Path, stage: str, fmt: str, project_dir: Path) -> None:
    """Write OUT_DIR/deployment.zip and OUT_DIR/sam.json (or lambic.tf.json)."""
    project = load_deployable(project_dir, stage)
    built = build_package(
        project.config.project_dir, out_dir / "deployment.zip", runtime=project.runtime
    )
    if fmt == "sam":
        template = build_sam(project.graph)
        target = out_dir / "sam.json"
    else:
        template = build_terraform(project.graph)
        target = out_dir / "lambic.tf.json"
    target.write_text(json.dumps(template, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    click.echo(f"Wrote {built.path} ({built.size} bytes) and {target}")
