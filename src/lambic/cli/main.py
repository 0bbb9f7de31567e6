"""The `lambic` click group; each command module adds itself here."""

from __future__ import annotations

import click

from lambic import __version__
from lambic.cli.errors import LambicGroup


@click.group(cls=LambicGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lambic")
def main() -> None:
    """Write serverless Python once; run it locally as a faithful cloud; deploy to AWS."""


from lambic.cli.local import local  # noqa: E402
from lambic.cli.new_project import new_project  # noqa: E402

main.add_command(local)
main.add_command(new_project)

from lambic.cli.package import package  # noqa: E402

main.add_command(package)

from lambic.cli.delete import delete  # noqa: E402
from lambic.cli.deploy import deploy  # noqa: E402
from lambic.cli.gen_policy import gen_policy  # noqa: E402
from lambic.cli.url import url  # noqa: E402

main.add_command(deploy)
main.add_command(delete)
main.add_command(url)
main.add_command(gen_policy)

from lambic.cli.services import services  # noqa: E402

main.add_command(services)

from lambic.cli.invoke import invoke  # noqa: E402
from lambic.cli.logs import logs  # noqa: E402

main.add_command(invoke)
main.add_command(logs)

from lambic.cli.generate_event import generate_event  # noqa: E402

main.add_command(generate_event)

from lambic.cli.auth import auth  # noqa: E402

main.add_command(auth)
from lambic.cli.cost import cost  # noqa: E402

main.add_command(cost)
