"""A loaded project: its directory, its config, and its app manifest.

`load_project(dir)` reads `.lambic/config.json` and imports `app.py` in a child
process (see `manifest`). `Project.functions(stage)` resolves each function's
effective settings for a stage, which is what the invoker runs.

    >>> project = load_project("myapp")                     # doctest: +SKIP
    >>> project.functions("dev")["api_handler"].deployed_name  # doctest: +SKIP
    'myapp-dev'
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from lambic.project.config import FunctionSettings, ProjectConfig, load_config
from lambic.project.environ import import_environment, runtime_name
from lambic.project.manifest import (
    AppManifest,
    FunctionEntry,
    ManifestReader,
    aread_manifest,
    read_manifest,
)
from lambic.project.paths import ProjectPaths

__all__ = [
    "Project",
    "aload_project",
    "create_project",
    "load_project",
]


@dataclass(frozen=True)
class Project:
    """A project directory with its validated config and manifest."""

    project_dir: Path
    config: ProjectConfig
    manifest: AppManifest
    #: The config file as the user knows it, for messages (default: the project's own).
    config_name: str = ""

    @property
    def app_name(self) -> str:
        return self.manifest.app_name

    def functions(self, stage: str) -> dict[str, FunctionSettings]:
        """Every function of the app keyed by short name, settings resolved for `stage`."""
        return {
            entry.name: self.config.resolve(
                stage, entry.name, app_name=self.app_name, handler=entry.handler, kind=entry.kind
            )
            for entry in self.manifest.functions
        }

    def warnings(self, stage: str) -> list[str]:
        """What the user should act on before running `stage` locally, one line each.

        Chalice ignores keys it does not know and so do we, but we say so: a typo in
        `lambda_timeout` would otherwise run silently with the default. Code run on
        another Python than the one it deploys on may behave differently there.
        """
        config = self.config_name or self.paths.config_name
        lines = [f"{config}: unknown key {key} is ignored" for key in self.config.unknown_keys]
        if self.config.unsupported_keys:
            keys = ", ".join(self.config.unsupported_keys)
            lines.append(f"{config}: not supported by Lambic yet, ignored: {keys}")
        here = runtime_name()
        others = sorted({f.runtime for f in self.functions(stage).values()} - {here})
        if others:
            lines.append(
                f"functions run locally on {here} but deploy on {', '.join(others)} "
                "(lambda_runtime); run Lambic on that Python to test what will run"
            )
        return lines

    @property
    def paths(self) -> ProjectPaths:
        return ProjectPaths(self.project_dir)


def load_project(
    project_dir: str | Path,
    stage: str = "dev",
    *,
    extra_env: Mapping[str, str] | None = None,
    shell_identity: bool = False,
) -> Project:
    """Read config and manifest; raises `ConfigError` / `ProjectError` with one clear line.

    app.py is imported in the environment a function of `stage` would see on Lambda
    (`environ.import_environment`; `extra_env`: the local endpoint under `lambic local`;
    `shell_identity`: keep the shell's AWS credentials, as `--no-services` functions do).
    """
    path = Path(project_dir).resolve()
    config = load_config(path)
    return Project(
        path,
        config,
        read_manifest(path, env=_import_env(config, path, stage, extra_env, shell_identity)),
    )


async def aload_project(
    project_dir: str | Path,
    stage: str = "dev",
    *,
    extra_env: Mapping[str, str] | None = None,
    shell_identity: bool = False,
    config_dir: str | Path | None = None,
    reader: ManifestReader | None = None,
) -> Project:
    """`load_project` for an event loop (hot reload): the import happens in a child
    (forked by `reader` when given: `manifest.ManifestReader`).

    `config_dir`: where the config file is, when `project_dir` is a copy of the code
    without it (a code snapshot); else `project_dir`.
    """
    path = Path(project_dir).resolve()
    config_path = Path(config_dir).resolve() if config_dir is not None else path
    config = load_config(config_path)
    env = _import_env(config, path, stage, extra_env, shell_identity)
    manifest = await aread_manifest(path, env=env, reader=reader)
    return Project(path, config, manifest, ProjectPaths(config_path).config_name)


def _import_env(
    config: ProjectConfig,
    path: Path,
    stage: str,
    extra_env: Mapping[str, str] | None,
    shell_identity: bool,
) -> dict[str, str]:
    return import_environment(
        config,
        stage,
        project_dir=path,
        base=os.environ,
        extra=extra_env,
        shell_identity=shell_identity,
    )


def create_project(
    project_dir: str | Path,
    app_name: str,
    functions: Iterable[FunctionEntry],
    *,
    config: ProjectConfig | None = None,
) -> Project:
    """A project from explicit functions: plain `def handler(event, context)` modules.

    >>> create_project("fns", "demo", [FunctionEntry("hello", "handlers.hello")])  # doctest: +SKIP
    """
    path = Path(project_dir).resolve()
    manifest = AppManifest(app_name=app_name, functions=tuple(functions))
    return Project(path, config if config is not None else load_config(path), manifest)
