"""`konvergen projections ...`: run, inspect, rebuild and verify the read models."""

from __future__ import annotations

import os
import signal

import click
from tqdm import tqdm

from projections.runner import ProjectionRunner, build_engine, listener_factory_for
from projections.verify import verify as verify_views
from service.cli.context import open_konvergen

# --workers' ceiling. The default (one per CPU) is held under it too: click checks a
# default against the option's range like a typed value.
MAX_WORKERS = 64


@click.group()
def projections() -> None:
    """The read models (register, monitoring, follow-ups, audit trail) built from the events."""


@projections.command()
@click.option("--interval", default=1.0, show_default=True, type=click.FloatRange(0.05, 3600),
              help="Seconds between polls for new events (PostgreSQL also wakes on NOTIFY).")
@click.option("--once", is_flag=True, help="Catch up once and exit.")
def run(interval: float, once: bool) -> None:
    """Keep the projections caught up, as a worker process (KONVERGEN_PROJECTIONS=worker for the web)."""
    with open_konvergen() as konvergen:
        runner = ProjectionRunner(
            build_engine(konvergen), poll_interval=interval, listener_factory=listener_factory_for(konvergen)
        )
        if once:
            result = runner.catch_up()
            click.echo(f"applied {result.events} events; every projection is at notification {runner.position}")
            return
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: runner.stop())
        click.echo("projections running; Ctrl-C stops")
        runner.run_forever()


@projections.command()
def status() -> None:
    """Position and lag of each projection."""
    with open_konvergen() as konvergen:
        rows = build_engine(konvergen).status()
    click.echo(f"{'projection':<20} {'position':>10} {'head':>10} {'lag':>8} {'lag (s)':>9}  state")
    for row in rows:
        if row["stale"]:
            state = f"stale (built by {row['built_version'] or 'nothing'}, code is {row['version']})"
        elif row["last_error"]:
            state = f"failing: {row['last_error'].splitlines()[0]}"
        else:
            state = "ok"
        click.echo(
            f"{row['name']:<20} {row['position']:>10} {row['head']:>10} {row['lag_events']:>8} "
            f"{row['lag_seconds']:>9.1f}  {state}"
        )


@projections.command()
@click.argument("name", required=False)
@click.option("--workers", type=click.IntRange(1, MAX_WORKERS),
              default=lambda: min(os.cpu_count() or 1, MAX_WORKERS),
              show_default=f"one per CPU, at most {MAX_WORKERS}",
              help="Processes replaying sets of views side by side (SQLite files and PostgreSQL).")
def rebuild(name: str | None, workers: int) -> None:
    """Drop the views (all, or NAME) and replay every event into them."""
    with open_konvergen() as konvergen:
        engine = build_engine(konvergen)
        names = engine.names([name] if name else None)
        with tqdm(total=engine.log.head(), unit="event", unit_scale=True, desc="rebuild " + ", ".join(names)) as bar:
            result = engine.rebuild(
                names, workers=workers, on_progress=lambda position: bar.update(max(position - bar.n, 0))
            )
            bar.update(max(bar.total - bar.n, 0))
        click.echo(f"rebuilt {', '.join(names)} from {result.events} events")


@projections.command()
@click.argument("name", required=False)
def verify(name: str | None) -> None:
    """Replay into a scratch database and compare row for row with the live views."""
    with open_konvergen() as konvergen:
        engine = build_engine(konvergen)
        names = engine.names([name] if name else None)
        with tqdm(total=engine.log.head(), unit="event", unit_scale=True, desc="replay") as bar:
            report = verify_views(engine, names, on_progress=lambda position: bar.update(max(position - bar.n, 0)))
    for difference in report.differences:
        click.echo(difference.describe())
    checked = sum(report.rows_compared.values())
    if not report.ok:
        hidden = report.total - len(report.differences)
        more = f" ({hidden} more not shown)" if hidden else ""
        raise click.ClickException(f"{report.total} differences between the live views and a replay{more}")
    click.echo(f"{', '.join(names)}: {checked} rows identical to a replay of the events")
