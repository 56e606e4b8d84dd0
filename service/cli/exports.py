"""`konvergen export households|interventions|monitoring|audit-trail`: CSV or XLSX,
of what the user may see (their role and area)."""

from __future__ import annotations

from pathlib import Path

import click

from projections.audit_trail import event_types
from projections.runner import ProjectionRunner, build_engine
from service.cli.context import acting_user, open_konvergen
from service.exporting import FORMATS, TableFormatError, check_table_path, export_households, export_interventions
from service.exporting.views import MONITORING_TABLES, export_audit_trail, export_monitoring

REGISTER_EXPORTS = {"households": export_households, "interventions": export_interventions}
VIEW_EXPORTS = ("monitoring", "audit-trail")
WHEN = click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"])


@click.command("export")
@click.argument("what", type=click.Choice([*REGISTER_EXPORTS, *VIEW_EXPORTS]))
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Default: the suffix of --out.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=str),
              help="The file to write.")
@click.option("--username", required=True, envvar="KONVERGEN_USERNAME", show_envvar=True,
              help="Export what this user may see (their role and area).")
@click.option("--table", "tables", multiple=True, type=click.Choice(MONITORING_TABLES),
              help="monitoring: which table (repeatable). Default: all, one worksheet each (XLSX only).")
@click.option("--kecamatan", help="monitoring: only this kecamatan (32.04.05).")
@click.option("--village", help="monitoring: only this village (32.04.05.2001).")
@click.option("--by", "by", help="audit-trail: only what this username did.")
@click.option("--household", "household_id", help="audit-trail: only this household id.")
@click.option("--event-type", type=click.Choice(event_types()), help="audit-trail: only this kind of event.")
@click.option("--since", type=WHEN, help="audit-trail: recorded at or after (UTC; 2026-06-30 or 2026-06-30T08:00).")
@click.option("--until", type=WHEN, help="audit-trail: recorded before (UTC).")
def export_command(what, fmt, out, username, tables, kecamatan, village, by, household_id, event_type, since,
                   until) -> None:
    """Export households (one row per member, in the import layout), interventions,
    the monitoring tables or the audit trail (newest first)."""
    suffix = Path(out).suffix.lstrip(".").lower()
    fmt = fmt or suffix
    if fmt not in FORMATS:
        raise click.ClickException(f"--out {out}: give --format csv or xlsx, or a .csv or .xlsx file name")
    if suffix and suffix != fmt:
        raise click.ClickException(f"--out {out} does not end in .{fmt}")
    if what == "monitoring" and fmt == "csv" and len(tables) != 1:
        raise click.ClickException(f"a CSV holds one monitoring table: add --table ({'|'.join(MONITORING_TABLES)}), "
                                   "or write .xlsx for all of them")
    try:
        check_table_path(out, fmt)
    except TableFormatError as error:
        raise click.ClickException(str(error)) from None
    with open_konvergen() as konvergen:
        actor = acting_user(konvergen, username)
        if what in REGISTER_EXPORTS:
            written = REGISTER_EXPORTS[what](konvergen, actor, out, fmt)
            click.echo(f"Wrote {written['rows']} row(s) for {written['households']} household(s) to {out}.")
            return
        ProjectionRunner(build_engine(konvergen)).catch_up()  # the views hold every event recorded so far
        if what == "monitoring":
            counts = export_monitoring(konvergen, actor, out, fmt, tables=tables or MONITORING_TABLES,
                                       kecamatan=kecamatan, village=village)
            shown = ", ".join(f"{name} {count} row(s)" for name, count in counts.items())
            click.echo(f"Wrote the monitoring tables ({shown}) to {out}.")
            return
        written = export_audit_trail(konvergen, actor, out, fmt, by=by, household_id=household_id,
                                     event_type=event_type, since=since, until=until)
        click.echo(f"Wrote {written['events']} audit-trail event(s) to {out}.")
