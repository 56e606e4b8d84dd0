"""`konvergen audit ...`: verify the hash chains and seals, seal finished days, export for
auditors, chain a store written before tamper evidence, and the two-basis report."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import click

from domain.errors import InvalidValue
from service.access import SYSTEM_ACTOR
from service.audit import audit_for
from service.audit.history import parse_instant
from service.cli.context import acting_user, open_konvergen
from service.clock import WIB
from service.exporting.tables import TableFormatError, check_table_path

LISTED = 20


@click.group()
def audit() -> None:
    """Tamper evidence and reports for auditors."""


def _actor(konvergen, username: str | None):
    return acting_user(konvergen, username) if username else SYSTEM_ACTOR


def _print_verification(result) -> None:
    click.echo(
        f"Checked {result.events_checked:,} events of {result.households_checked:,} aggregates "
        f"and {result.seals_checked} seals"
        + (f" (sealed through {result.sealed_through})." if result.sealed_through else "; nothing is sealed yet.")
    )
    if result.last_seal_hash:
        click.echo(f"Last seal hash: {result.last_seal_hash}  (write it down; a later check must reach it)")
    if result.unsealed_events:
        click.echo(f"{result.unsealed_events:,} events are chained but not sealed yet (today's, or since the last seal).")
    if result.backfilled_links:
        click.echo(f"{result.backfilled_links:,} links were added by a backfill (events recorded before tamper evidence).")


def _fail_with_problems(result) -> None:
    for problem in result.problems[:LISTED]:
        click.echo(f"BROKEN [{problem.kind}] {problem.message}", err=True)
    if result.problem_count > LISTED:
        click.echo(f"... {result.problem_count - LISTED} more problems", err=True)
    first = result.first_problem
    raise click.ClickException(f"{result.problem_count} problem(s); the first broken link: {first.message}")


@audit.command("verify")
@click.option("--username", envvar="KONVERGEN_USERNAME", help="Record the check as this auditor or administrator.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes checking ranges of the log side by side (from 300,000 events; idle cores help).")
def verify_command(username, workers) -> None:
    """Recompute every chain and seal; name the first broken link (exit 1 if any).

    When the record is sound, every finished day is sealed as well.
    """
    with open_konvergen() as konvergen:
        result = audit_for(konvergen).integrity.verify(_actor(konvergen, username), workers=workers)
    _print_verification(result)
    if not result.ok:
        _fail_with_problems(result)
    click.echo("OK: every event and seal recomputes; no broken link.")


@audit.command("seal")
def seal_command() -> None:
    """Seal every finished day (WIB) after verifying the record (refused if it is broken)."""
    with open_konvergen() as konvergen:
        result, seals = audit_for(konvergen).integrity.seal(SYSTEM_ACTOR)
    if not result.ok:
        _fail_with_problems(result)
    for seal in seals:
        click.echo(f"Sealed {seal.period}: {seal.count:,} events up to notification {seal.last_id}, seal {seal.seal_hash}")
    if not seals:
        click.echo("Nothing to seal: every finished day is sealed already.")


@audit.command("backfill")
def backfill_command() -> None:
    """Chain events recorded before tamper evidence was enabled (once, after upgrading)."""
    with open_konvergen() as konvergen:
        count = audit_for(konvergen).integrity.backfill(SYSTEM_ACTOR)
    click.echo(f"Chained {count:,} events that had no link." if count else "Every event is chained already.")


def _start(value: str | None, option: str) -> datetime | None:
    """A bare date starts at its midnight (WIB); anything else is an ISO 8601 instant."""
    if not value:
        return None
    if len(value.strip()) == 10:
        return datetime.combine(_day(value, option), time(), WIB)
    return parse_instant(value, option)


def _end(value: str | None, option: str) -> datetime | None:
    """A bare date includes the whole day (WIB)."""
    if not value:
        return None
    if len(value.strip()) == 10:
        return datetime.combine(_day(value, option) + timedelta(days=1), time(), WIB)
    return parse_instant(value, option)


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidValue(option, "must be a date (YYYY-MM-DD) or an ISO 8601 date-time") from None


@audit.command("export")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="A new (or empty) directory to write into.")
@click.option("--household", help="Only this household's events (its id).")
@click.option("--from", "since", metavar="DATE|DATETIME", help="Events recorded from then (a date: from its start, WIB).")
@click.option("--to", "until", metavar="DATE|DATETIME", help="Events recorded before then (a date: through its end, WIB).")
@click.option("--username", required=True, envvar="KONVERGEN_USERNAME", show_envvar=True,
              help="The auditor or administrator exporting; the access log records them.")
def export_command(out, household, since, until, username) -> None:
    """Write events, chain and seals for checking with sha256sum (README: "For auditors")."""
    with open_konvergen() as konvergen:
        actor = acting_user(konvergen, username)
        start, end = _start(since, "from"), _end(until, "to")
        if start and end and start >= end:
            raise click.ClickException("--from must be before --to")
        try:
            result, checked = audit_for(konvergen).integrity.export(
                actor, out, household_id=household, since=start, until=end
            )
        except FileExistsError as error:
            raise click.ClickException(f"--out {out}: {error}") from None
    click.echo(f"Wrote {result.events:,} events of {result.households:,} aggregates and {result.seals} seal lists to {out}.")
    if result.unsealed_events:
        click.echo(f"{result.unsealed_events:,} of them are not sealed yet.")
    if not checked.ok:
        click.echo(f"WARNING: verification found {checked.problem_count} problem(s): {checked.first_problem.message}", err=True)
    click.echo(f"manifest.json sha256: {result.manifest_sha256}")


@audit.command("report")
@click.option("--as-of", "as_of", required=True, metavar="DATE|DATETIME", help="The past date (a date: its end, WIB).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The .csv or .xlsx file to write.")
@click.option("--username", required=True, envvar="KONVERGEN_USERNAME", show_envvar=True,
              help="Report what this user may see (their role and area).")
def report_command(as_of, out, username) -> None:
    """The monitoring summary as recorded by a date and as effective by it, side by side."""
    try:
        fmt = check_table_path(out)
    except TableFormatError as error:
        raise click.ClickException(f"--out {error}") from None
    with open_konvergen() as konvergen:
        content, _media_type, _name = audit_for(konvergen).reports.export_comparison(
            acting_user(konvergen, username), as_of, fmt
        )
    out.write_bytes(content)
    click.echo(f"Wrote the summary as of {as_of}, as recorded and as effective, to {out}.")
