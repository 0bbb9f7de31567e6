"""One factory for everything a deploy command needs about a project at one stage.

`load_deployable(project_dir, stage)` imports the app in this process (the deployer
needs its routes, authorizers and event sources as objects), resolves the stage through
`lambic.project.config` (the runtime's own reader) and the role policy, and builds the
resource graph; `package`, `deploy` and `gen-policy` start from it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambic.app import functions as app_functions
from lambic.deploy._loader import load_app
from lambic.deploy.errors import ConfigError
from lambic.deploy.policy import resolve_policy
from lambic.deploy.resources import ResourceGraph, build_bindings, build_graph
from lambic.project.config import DEFAULT_RUNTIME, StageConfig, load_config, load_stage_config
from lambic.project.environ import import_environment


@dataclass(frozen=True)
class Deployable:
    """A project at one stage, ready to package or deploy."""

    app: Any
    config: StageConfig
    policy: dict[str, Any]
    graph: ResourceGraph

    @property
    def runtime(self) -> str:
        """The runtime wheels are resolved for: the API function's, else the first's."""
        functions = self.graph.functions
        return functions[0].runtime if functions else DEFAULT_RUNTIME


def load_deployable(project_dir: Path, stage: str) -> Deployable:
    """Everything about `project_dir` at `stage`; a `DeployError` or `ConfigError` names the fix."""
    project_dir = project_dir.resolve()
    # app.py imports as it would in a function of this stage on Lambda (region, the
    # stage's variables), never with the shell's AWS credentials.
    env = import_environment(
        load_config(project_dir), stage, project_dir=project_dir, base=os.environ
    )
    app = load_app(project_dir, env=env)
    _check_feature_flags(app)
    config = load_stage_config(project_dir, stage, getattr(app, "app_name", None))
    names = tuple(spec.name for spec in app_functions(app))
    policy = resolve_policy(config, build_bindings(app), names)
    return Deployable(app, config, policy, build_graph(app, config, policy))


def _check_feature_flags(app: Any) -> None:
    """Chalice refuses to package or deploy experimental features used without opting in."""
    used = getattr(app, "_features_used", None)
    if not used:
        return
    from lambic.app.websockets import missing_feature_flags

    message = missing_feature_flags(set(used), set(getattr(app, "experimental_feature_flags", ())))
    if message is not None:
        raise ConfigError(message.strip())
