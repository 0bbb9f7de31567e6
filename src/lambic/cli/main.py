"""The `lambic` click group: each command lives in its own module, imported when run.

A command's module is imported only when that command runs (or `--help` lists them):
`lambic services` must not pay for the deployer's boto3 import, nor `lambic local` for
the packager's, on the way to its first answer.
"""

from __future__ import annotations

import importlib

import click

from lambic import __version__
from lambic.cli.errors import LambicGroup

#: command name -> "module:attribute" of its click command.
COMMANDS = {
    "auth": "lambic.cli.auth:auth",
    "cost": "lambic.cli.cost:cost",
    "delete": "lambic.cli.delete:delete",
    "deploy": "lambic.cli.deploy:deploy",
    "gen-policy": "lambic.cli.gen_policy:gen_policy",
    "generate-event": "lambic.cli.generate_event:generate_event",
    "invoke": "lambic.cli.invoke:invoke",
    "local": "lambic.cli.local:local",
    "logs": "lambic.cli.logs:logs",
    "new-project": "lambic.cli.new_project:new_project",
    "package": "lambic.cli.package:package",
    "services": "lambic.cli.services:services",
    "url": "lambic.cli.url:url",
}


class LazyGroup(LambicGroup):
    """A group whose commands are imported by name from `COMMANDS` when first needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is not None or cmd_name not in COMMANDS:
            return found
        module, _, attribute = COMMANDS[cmd_name].partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{COMMANDS[cmd_name]} is not a click command")
        self.add_command(command, cmd_name)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lambic")
def main() -> None:
    """Write serverless Python once; run it locally as a faithful cloud; deploy to AWS."""
