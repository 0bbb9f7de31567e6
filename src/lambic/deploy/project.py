"""One factory for everything a command needs to know about a project and a stage.

`load_project(project_dir, stage)` imports the app, resolves the stage config and the
role policy, and builds the resource graph; every CLI command starts from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambic.app import functions as app_functions
from lambic.deploy._loader import load_app
from lambic.deploy.config import StageConfig, load_stage_config
from lambic.deploy.policy import resolve_policy
from lambic.deploy.resources import ResourceGraph, build_bindings, build_graph


@dataclass(frozen=True)
class Project:
    app: Any
    config: StageConfig
    policy: dict[str, Any]
    graph: ResourceGraph

    @property
    def runtime(self) -> str:
        """The runtime wheels are resolved for: the API function's, else the first's."""
        functions = self.graph.functions
        return functions[0].runtime if functions else "python3.11"


def load_project(project_dir: Path, stage: str) -> Project:
    """Everything about `project_dir` at `stage`; raises a `DeployError` naming the fix."""
    project_dir = project_dir.resolve()
    app = load_app(project_dir)
    config = load_stage_config(project_dir, stage, getattr(app, "app_name", None))
    names = tuple(spec.name for spec in app_functions(app))
    policy = resolve_policy(config, build_bindings(app), names)
    return Project(app, config, policy, build_graph(app, config, policy))
