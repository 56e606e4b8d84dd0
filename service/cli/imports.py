"""`konvergen import FILE`: a P3KE/DTSEN extract or an agency's intervention list."""

from __future__ import annotations

import sys

import click
from tqdm import tqdm

from service.cli.context import acting_user, open_konvergen
from service.exporting.tables import TableFormatError, check_table_path
from service.importing import LAYOUTS, ImportFileError, Importer, ImportOptions, load_mapping
from service.importing.layouts import parse_column_options
from service.importing.records import ALREADY_IMPORTED

SHOWN_REJECTIONS = 10
EXIT_ROWS_REJECTED = 3
_STAGES = {"rows": ("reading rows", "row"), "households": ("households", "household")}
_FILE_DATE_SOURCES = {
    "option": "given with --file-date",
    "workbook": "the workbook's saved date; --file-date overrides it",
    "import date": "today, the import date; --file-date sets the file's own date",
}


class ProgressBars:
    """One tqdm bar per stage, on stderr (hidden when stderr is not a terminal)."""

    def __init__(self):
        self.bars: dict[str, tqdm] = {}

    def __call__(self, stage: str, advance: int, total: int | None) -> None:
        bar = self.bars.get(stage)
        if bar is None:
            label, unit = _STAGES.get(stage, (stage, "it"))
            bar = self.bars[stage] = tqdm(total=total, desc=label, unit=unit, file=sys.stderr,
                                          disable=None, dynamic_ncols=True)
        bar.update(advance)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@click.option("--layout", type=click.Choice(list(LAYOUTS)), default="households", show_default=True,
              help="households: one row per person (P3KE/DTSEN); interventions: an agency's list.")
@click.option("--username", required=True, envvar="KONVERGEN_USERNAME", show_envvar=True,
              help="The user the import is done as; every event names them.")
@click.option("--dry-run", is_flag=True, help="Validate and report, write nothing.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=str),
              help="Write every rejected row (line, column, value, reason) to this .csv or .xlsx.")
@click.option("--mapping", "mapping_file", type=click.Path(dir_okay=False, path_type=str),
              help='JSON or TOML file mapping the file\'s headers to fields: {"Nomor KK": "kk_number"}.')
@click.option("--column", "columns", multiple=True, metavar="HEADER=FIELD",
              help="Map one header to a field (repeatable; wins over --mapping).")
@click.option("--file-date", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="When the file's categorisations took effect (default: an XLSX workbook's saved "
                   "date, else the import date).")
@click.option("--processes", type=click.IntRange(min=1),
              help="Processes sharing the households (default: one per core for a households file of "
                   "4 MB or more on SQLite or PostgreSQL; 1 keeps the import in this process).")
def import_command(file, layout, username, dry_run, report_path, mapping_file, columns, file_date,
                   processes) -> None:
    """Import FILE (.csv or .xlsx) into the case file.

    Rows are grouped into households by No KK; a household is imported whole or not
    at all, and importing the same file again changes nothing. Exit status: 0 when
    every row was imported, 3 when some rows were rejected (the rest were imported),
    1 when nothing could be imported.
    """
    try:
        mapping = load_mapping(mapping_file) if mapping_file else {}
        mapping.update(parse_column_options(columns))
        if report_path:
            check_table_path(report_path)
    except (ImportFileError, TableFormatError) as error:
        raise click.ClickException(str(error)) from None
    options = ImportOptions(
        layout=layout, mapping=mapping, dry_run=dry_run, report_path=report_path,
        file_date=file_date.date() if file_date else None,
    )
    progress = ProgressBars()
    with open_konvergen() as konvergen:
        actor = acting_user(konvergen, username)
        try:
            summary = Importer(konvergen, processes=processes).run(actor, file, options, progress)
        except (ImportFileError, TableFormatError) as error:
            raise click.ClickException(str(error)) from None
        finally:
            progress.close()
    _print_summary(summary)
    if summary.rows_rejected:
        _print_rejections(summary)
        sys.exit(EXIT_ROWS_REJECTED)


def _print_summary(summary) -> None:
    if summary.status == ALREADY_IMPORTED:
        earlier = summary.previous_import
        click.echo(
            f"{summary.file_name} was already imported as import {earlier['id']} "
            f"({earlier['started_at']:%Y-%m-%d %H:%M} by {earlier['username']}); nothing changed."
        )
        return
    if summary.dry_run:
        click.echo(f"Dry run of {summary.file_name} ({summary.layout}): nothing was written.")
    else:
        click.echo(f"Imported {summary.file_name} ({summary.layout}) as import {summary.import_id}.")
    click.echo(f"  sha256 {summary.sha256}")
    click.echo(f"  file date {summary.file_date.isoformat()} ({_FILE_DATE_SOURCES[summary.file_date_source]})")
    counts = summary.counts
    lines = [("rows read", counts["rows"])]
    if summary.layout == "households":
        lines += [(f"households {kind}", counts[f"households_{kind}"])
                  for kind in ("created", "updated", "unchanged", "rejected")]
    else:
        lines += [(f"interventions {kind}", counts[f"interventions_{kind}"])
                  for kind in ("created", "updated", "unchanged")]
    lines.append(("rows rejected", counts["rows_rejected"]))
    for label, value in lines:
        click.echo(f"  {label:<24}{value:>9}")
    if summary.report_path:
        click.echo(f"  rejection report: {summary.report_path}")
    if summary.previous_import and summary.dry_run:
        click.echo(f"  (this file was imported before as import {summary.previous_import['id']})")


def _print_rejections(summary) -> None:
    for rejection in summary.rejections[:SHOWN_REJECTIONS]:
        click.echo(str(rejection), err=True)
    more = summary.rows_rejected - len({r.line for r in summary.rejections[:SHOWN_REJECTIONS]})
    if more > 0:
        hint = f"all are in {summary.report_path}" if summary.report_path else "--report PATH writes them all"
        click.echo(f"... and {more} more rejected row(s); {hint}", err=True)
