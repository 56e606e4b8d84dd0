"""`konvergen scheduler run|tick|status|email|retry-failed` on a SQLite file."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from click.testing import CliRunner

from projections.runner import build_engine
from scheduler_helpers import people, register, schedule
from service.cli.scheduler import scheduler
from service.clock import Clock
from service.container import Konvergen
from service.scheduler import load_config, scheduler_status
from service.scheduler.recipients import email_of
from service.scheduler.runner import Lease

RUN_SECONDS = 60  # generous: other test runs may share the machine


@pytest.fixture
def database(tmp_path, monkeypatch):
    """A database with one follow-up due tomorrow (by the wall clock) and a built view."""
    url = f"sqlite:///{tmp_path / 'konvergen.db'}"
    monkeypatch.setenv("KONVERGEN_DATABASE_URL", url)
    for name in ("KONVERGEN_SCHEDULER_CONFIG", "KONVERGEN_SMTP_HOST", "KONVERGEN_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    konvergen = Konvergen(url)
    people(konvergen)
    household = register(konvergen, 1)
    schedule(konvergen, household, Clock().today() + timedelta(days=1))
    view = build_engine(konvergen)
    view.prepare()
    view.catch_up()
    yield konvergen
    konvergen.close()


def invoke(*args: str):
    return CliRunner().invoke(scheduler, list(args), catch_exceptions=False)


def test_tick_applies_the_rules_as_on_the_given_day_and_a_second_tick_sends_nothing_more(database):
    ten_days_on = (Clock().today() + timedelta(days=10)).isoformat()
    first = invoke("tick", "--today", ten_days_on)
    assert first.exit_code == 0, first.output
    assert "2 reminders due, 2 new, 2 recorded" in first.output
    digests, delivered = map(int, re.search(r"(\d+) weekly digests; delivered (\d+),", first.output).groups())
    assert delivered == 2 + digests  # the overdue reminder, the escalation (and the digest on its days)

    again = invoke("tick", "--today", ten_days_on, "--json")
    report = json.loads(again.output)
    assert (report["reminders"]["due"], report["reminders"]["enqueued"], report["deliveries"]["sent"]) == (2, 0, 0)


def test_status_shows_jobs_the_lease_and_sent_and_failed_counts(database):
    invoke("tick")
    result = invoke("status")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "lease: free (no scheduler is running)"
    assert lines[1].split() == ["job", "next", "run", "last", "run", "result", "runs"]
    assert [line.split()[0] for line in lines[2:5]] == ["reminders", "digest", "deliveries"]
    assert "deliveries: 1 sent, 0 pending (0 retrying), 0 failed" in result.output
    as_json = json.loads(invoke("status", "--json").output)
    assert as_json["outbox"]["deliveries"]["sent"] == 1


def test_tick_refuses_while_a_running_scheduler_holds_the_lease(database):
    assert Lease(database.storage.engine, database.clock, seconds=300, owner="host:123:abc").acquire()
    result = CliRunner().invoke(scheduler, ["tick"])
    assert result.exit_code == 1
    assert "Error: the scheduler lease is held by host:123:abc until" in result.output
    assert "that process sends the reminders" in result.output


def test_a_bad_setting_stops_the_command_with_one_line(database, monkeypatch):
    monkeypatch.setenv("KONVERGEN_SCHEDULER_ESCALATE_AFTER_DAYS", "never")
    result = CliRunner().invoke(scheduler, ["status"])
    assert result.exit_code == 1
    assert result.output == "Error: KONVERGEN_SCHEDULER_ESCALATE_AFTER_DAYS: 'never' is not a whole number\n"


def test_email_addresses_are_set_checked_and_removed(database):
    assert invoke("email", "--username", "asep", "--email", "asep@desa.example").exit_code == 0
    assert email_of(database.storage.engine, "asep") == "asep@desa.example"
    bad = CliRunner().invoke(scheduler, ["email", "--username", "asep", "--email", "not-an-address"])
    assert (bad.exit_code, bad.output) == (1, "Error: email: 'not-an-address' is not an email address\n")
    unknown = CliRunner().invoke(scheduler, ["email", "--username", "nobody", "--email", "x@y.example"])
    assert (unknown.exit_code, unknown.output) == (1, "Error: username: no user nobody\n")
    assert invoke("email", "--username", "asep", "--remove").exit_code == 0
    assert email_of(database.storage.engine, "asep") is None


def test_retry_failed_says_how_many_deliveries_go_again(database):
    result = invoke("retry-failed")
    assert (result.exit_code, result.output) == (0, "0 failed deliveries will be retried\n")


def _reminders_ran(konvergen: Konvergen, process: subprocess.Popen) -> bool:
    """Polls until the running scheduler has finished a reminder pass (or has exited)."""
    deadline = time.monotonic() + RUN_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        job = next(j for j in scheduler_status(konvergen, load_config())["jobs"] if j["id"] == "reminders")
        if job["last_finished_at"] is not None:
            return True
        time.sleep(0.2)
    return False


def test_run_takes_the_lease_runs_the_reminders_at_once_and_on_sigterm_releases_the_lease_and_exits_zero(
    database, tmp_path
):
    process = subprocess.Popen(
        [sys.executable, "-c", "from service.cli import main; main()", "scheduler", "run"],
        env=dict(os.environ), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        ran = _reminders_ran(database, process)
        held = scheduler_status(database, load_config())["lease"]
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=RUN_SECONDS)[0].decode()

    assert ran, output
    assert held is not None and held["live"], output
    assert process.returncode == 0, output
    assert f"scheduler {held['owner']} on sqlite:///{tmp_path / 'konvergen.db'}: runs the jobs" in output
    status = scheduler_status(database, load_config())
    assert status["lease"] is None  # released, not left to expire
    reminders = next(j for j in status["jobs"] if j["id"] == "reminders")
    assert (reminders["runs"], reminders["last_status"]) == (1, "ok")
    assert status["outbox"]["deliveries"]["sent"] == 1  # the reminder due tomorrow, as one tick sends
