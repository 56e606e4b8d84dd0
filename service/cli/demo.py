"""`konvergen demo`: deterministic demo data for Kabupaten Bandung, and its logins."""

from __future__ import annotations

import time

import click
from tqdm import tqdm

from service.cli.context import open_konvergen
from service.demo import (
    DEFAULT_HOUSEHOLDS,
    DEFAULT_SEED,
    LOGINS_FILENAME,
    DemoRefused,
    DemoResult,
    generate_demo,
    has_households,
    instance_folder,
)

ROLE_ACCOUNTS = 5  # the first logins: one per role; the rest are the kecamatan TKSK


@click.command()
@click.option("--households", "count", default=DEFAULT_HOUSEHOLDS, show_default=True,
              type=click.IntRange(min=1), help="How many households to create.")
@click.option("--seed", default=DEFAULT_SEED, show_default=True, type=int,
              help="Same seed, same households (names, NIKs, KK numbers, dates relative to today).")
@click.option("--if-empty", is_flag=True,
              help="When the database already has households, load nothing, show the saved "
              "logins and succeed (what `make run` uses).")
def demo(count: int, seed: int, if_empty: bool) -> None:
    """Load demo households and one demo user per role into an EMPTY database.

    Refuses a database that already has households: demo data must never mix with
    real case files. Logins (random passwords) are printed and saved, readable only by
    you, in demo-logins.txt in the instance folder.
    """
    with open_konvergen() as konvergen:
        logins_path = instance_folder(konvergen.storage) / LOGINS_FILENAME
        if if_empty and has_households(konvergen):
            click.echo("The database already has households; no demo data loaded.")
            if logins_path.exists():
                click.echo(f"Demo logins from {logins_path}:")
                click.echo(logins_path.read_text(encoding="utf-8").rstrip())
            return
        started = time.perf_counter()
        try:
            with tqdm(total=count, unit="household", desc="Demo", disable=None) as bar:
                result = generate_demo(
                    konvergen, households=count, seed=seed, progress=bar.update, logins_path=logins_path
                )
        except DemoRefused as refusal:
            raise click.ClickException(str(refusal)) from None
        elapsed = time.perf_counter() - started
    _report(result, elapsed)
    click.echo(f"\nDemo logins (saved in {logins_path}, readable only by you):")
    width = max(len(login.username) for login in result.logins)
    for login in result.logins[:ROLE_ACCOUNTS]:
        click.echo(f"  {login.username:<{width}}  {login.password}  {login.role}: {login.scope}")
    others = len(result.logins) - ROLE_ACCOUNTS
    if others > 0:
        click.echo(f"  ...and {others} kecamatan case workers (TKSK), listed in the file.")


def _report(result: DemoResult, elapsed: float) -> None:
    click.echo(
        f"Loaded {result.households} households ({result.members} people) in {result.villages} villages "
        f"in {elapsed:.1f} s ({result.households / max(elapsed, 1e-9):.0f} households/s), seed {result.seed}."
    )
    click.echo(
        f"Interventions: {result.interventions_delivered} delivered, {result.interventions_planned} planned, "
        f"{result.interventions_cancelled} cancelled. Follow-ups: {result.follow_ups_open} open, "
        f"{result.follow_ups_overdue} overdue, {result.follow_ups_completed} completed, "
        f"{result.follow_ups_cancelled} cancelled. {result.graduations} graduated, {result.closures} closed."
    )
