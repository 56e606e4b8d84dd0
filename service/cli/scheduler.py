"""`konvergen scheduler run|status|tick|retry-failed|email`: reminders and escalations.

``run`` is the production process (next to the web workers): it waits for the
database lease, then runs the jobs until stopped (Ctrl-C or SIGTERM). ``tick`` does one
pass now, for cron users and for trying the rules on a given day.
"""

from __future__ import annotations

import json
import signal
from datetime import date, datetime

import click

from service.cli.context import open_konvergen, shown_url
from service.scheduler import Scheduler, SchedulerConfigError, SchedulerRunner, load_config, scheduler_status
from service.scheduler.recipients import set_email
from service.scheduler.runner import Lease
from service.scheduler.sources import FollowUpViewMissing
from service.storage import database_url_from_env
from service.users import normal_username


def _config():
    try:
        return load_config()
    except SchedulerConfigError as error:
        raise click.ClickException(str(error)) from None


@click.group()
def scheduler() -> None:
    """Follow-up reminders, escalations and weekly digests, each sent once."""


@scheduler.command()
def run() -> None:
    """Run the jobs in this process (only one process at a time holds the lease)."""
    config = _config()
    with open_konvergen() as konvergen:
        runner = SchedulerRunner(Scheduler(konvergen, config))

        def stop(_signum, _frame):
            runner.stop()

        signal.signal(signal.SIGTERM, stop)
        click.echo(
            f"scheduler {runner.key} on {shown_url(database_url_from_env())}: "
            f"runs the jobs while it holds the lease (Ctrl-C stops)"
        )
        try:
            runner.run_forever()
        except KeyboardInterrupt:
            runner.stop()


@scheduler.command()
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), help="Apply the rules as on this date (WIB).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def tick(today: datetime | None, as_json: bool) -> None:
    """One reminder pass, digest and delivery round now, then exit."""
    config = _config()
    with open_konvergen() as konvergen:
        lease = Lease(konvergen.storage.engine, konvergen.clock, seconds=config.lease_seconds)
        if not lease.acquire():
            holder = lease.holder() or {}
            raise click.ClickException(
                f"the scheduler lease is held by {holder.get('owner')} until {_when(holder.get('expires_at'))}; "
                "that process sends the reminders"
            )
        try:
            report = Scheduler(konvergen, config).tick(today.date() if today else None)
        except FollowUpViewMissing as error:
            raise click.ClickException(str(error)) from None
        finally:
            lease.release()
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
        return
    reminders, digests, deliveries = report["reminders"], report["digests"], report["deliveries"]
    click.echo(
        f"{reminders['today']}: {reminders['open_follow_ups']} open follow-ups read, {reminders['due']} reminders due, "
        f"{reminders['enqueued']} new, {reminders['recorded']} recorded, {reminders['void']} no longer applied; "
        f"{digests['digests']} weekly digests; delivered {deliveries['sent']}, "
        f"retrying {deliveries['retried']}, failed {deliveries['failed']}"
    )


@scheduler.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(as_json: bool) -> None:
    """Jobs with their last and next runs, the lease holder, sent and failed counts."""
    config = _config()
    with open_konvergen() as konvergen:
        report = scheduler_status(konvergen, config)
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
        return
    lease = report["lease"]
    click.echo(
        f"lease: held by {lease['owner']} until {_when(lease['expires_at'])}" + ("" if lease["live"] else " (expired)")
        if lease
        else "lease: free (no scheduler is running)"
    )
    click.echo(f"{'job':<12} {'next run':<20} {'last run':<20} {'result':<8} runs")
    for job in report["jobs"]:
        click.echo(
            f"{job['id']:<12} {_when(job['next_run_at']):<20} {_when(job['last_started_at']):<20} "
            f"{job['last_status'] or '-':<8} {job['runs']}"
            + (f"  {job['last_error']}" if job["last_error"] else "")
        )
    deliveries = report["outbox"]["deliveries"]
    click.echo(
        f"deliveries: {deliveries['sent']} sent, {deliveries['pending']} pending "
        f"({deliveries['retrying']} retrying), {deliveries['failed']} failed"
    )
    for channel, counts in sorted(report["outbox"]["by_channel"].items()):
        click.echo(f"  {channel}: {counts['sent']} sent, {counts['pending']} pending, {counts['failed']} failed")
    for failure in report["recent_failures"]:
        click.echo(
            f"  ! #{failure['id']} {failure['channel']} to {failure['recipient']}: {failure['status']} after "
            f"{failure['attempts']} attempts: {failure['last_error']}"
        )


@scheduler.command("retry-failed")
def retry_failed() -> None:
    """Give deliveries that ran out of attempts another round (after fixing SMTP, say)."""
    config = _config()
    with open_konvergen() as konvergen:
        from service.scheduler.outbox import Outbox

        count = Outbox(konvergen.storage.engine, konvergen.clock, config).retry_failed()
    click.echo(f"{count} failed deliveries will be retried")


@scheduler.command()
@click.option("--username", required=True, help="The user whose reminders are emailed.")
@click.option("--email", help="Their address; leave out with --remove.")
@click.option("--remove", is_flag=True, help="Stop emailing this user.")
def email(username: str, email: str | None, remove: bool) -> None:
    """Set where a user's reminders are emailed (kept beside the users table)."""
    if bool(email) == remove:
        raise click.ClickException("give either --email ADDRESS or --remove")
    with open_konvergen() as konvergen:
        set_email(konvergen.storage.engine, normal_username(username), None if remove else email)
    click.echo(f"{username}: " + ("no email" if remove else f"reminders also go to {email}"))


def _when(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        from service.clock import WIB

        return value.astimezone(WIB).strftime("%Y-%m-%d %H:%M WIB")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
