"""The `konvergen` command: serve, demo data, users, tokens, reference data, ..."""

from __future__ import annotations

import click


@click.group()
def main() -> None:
    """Konvergen: the household case file for ending extreme poverty."""


from service.cli.demo import demo  # noqa: E402
from service.cli.regions import regions  # noqa: E402
from service.cli.serve import serve  # noqa: E402
from service.cli.users import tokens, users  # noqa: E402
from service.cli.imports import import_command  # noqa: E402
from service.cli.exports import export_command  # noqa: E402
from service.cli.scheduler import scheduler  # noqa: E402
from service.cli.audit import audit  # noqa: E402
from service.cli.projections import projections  # noqa: E402

main.add_command(serve)
main.add_command(demo)
main.add_command(users)
main.add_command(tokens)
main.add_command(regions)
main.add_command(import_command)
main.add_command(export_command)
main.add_command(scheduler)
main.add_command(audit)
main.add_command(projections)
