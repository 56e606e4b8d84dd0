"""`konvergen export households|interventions`: the register as CSV or XLSX."""

from __future__ import annotations

from pathlib import Path

import click

from service.cli.context import open_konvergen
from service.cli.imports import acting_user
from service.exporting import FORMATS, TableFormatError, check_table_path, export_households, export_interventions

EXPORTS = {"households": export_households, "interventions": export_interventions}


@click.command("export")
@click.argument("what", type=click.Choice(list(EXPORTS)))
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Default: the suffix of --out.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=str),
              help="The file to write.")
@click.option("--username", required=True, envvar="KONVERGEN_USERNAME", show_envvar=True,
              help="Export what this user may see (their role and area).")
def export_command(what, fmt, out, username) -> None:
    """Export households (one row per member, in the import layout) or interventions."""
    suffix = Path(out).suffix.lstrip(".").lower()
    fmt = fmt or suffix
    if fmt not in FORMATS:
        raise click.ClickException(f"--out {out}: give --format csv or xlsx, or a .csv or .xlsx file name")
    if suffix and suffix != fmt:
        raise click.ClickException(f"--out {out} does not end in .{fmt}")
    try:
        check_table_path(out, fmt)
    except TableFormatError as error:
        raise click.ClickException(str(error)) from None
    with open_konvergen() as konvergen:
        actor = acting_user(konvergen, username)
        written = EXPORTS[what](konvergen, actor, out, fmt)
    click.echo(f"Wrote {written['rows']} row(s) for {written['households']} household(s) to {out}.")
