"""Two scheduler processes started by mistake, at once, on SQLite and PostgreSQL:
every reminder is recorded once and delivered once."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from scheduler_helpers import FAR_VILLAGE, TODAY, morning, people, register, schedule, sent_keys
from scheduler_processes import run_jobs_under_lease, tick_together
from service.clock import FixedClock
from service.container import Konvergen
from service.scheduler.tables import Notification, OutboxMessage, ReminderRecord

HOUSEHOLDS = 8
pytestmark = pytest.mark.slow  # real processes: a few seconds each


def households_with_overdue_visits(url: str) -> list[str]:
    """Each household owes an overdue reminder and an escalation today."""
    konvergen = Konvergen(url, clock=FixedClock(morning(TODAY - timedelta(days=9))))
    try:
        people(konvergen)
        households = [register(konvergen, n, village=FAR_VILLAGE if n % 2 else "32.04.05.2001") for n in range(HOUSEHOLDS)]
        for household in households:
            schedule(konvergen, household, TODAY - timedelta(days=8))
        from service.scheduler.tables import ensure_tables

        ensure_tables(konvergen.storage.engine)
        return households
    finally:
        konvergen.close()


def run_two(target, *args) -> None:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    processes = [context.Process(target=target, args=(*args[:3], start, *args[3:])) for _ in range(2)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
    assert [p.exitcode for p in processes] == [0, 0]


def assert_each_reminder_once(url: str, households: list[str]) -> None:
    konvergen = Konvergen(url, clock=FixedClock(morning(TODAY)))
    try:
        keys = sent_keys(konvergen, households)
        assert Counter(kind for kind, _f, _d in keys) == {"reminder_overdue": HOUSEHOLDS, "escalation": HOUSEHOLDS}
        assert len(set(keys)) == len(keys)
        with konvergen.storage.engine.connect() as conn:
            reminders = conn.execute(
                select(func.count()).where(ReminderRecord.kind != "weekly_digest", ReminderRecord.state == "recorded")
            ).scalar_one()
            per_outbox_row = conn.execute(
                select(func.count(), func.count(func.distinct(Notification.outbox_id))).select_from(Notification)
            ).one()
            sent = conn.execute(select(func.count()).where(OutboxMessage.status == "sent")).scalar_one()
        assert reminders == 2 * HOUSEHOLDS
        assert per_outbox_row[0] == per_outbox_row[1] == sent
    finally:
        konvergen.close()


def test_two_processes_ticking_at_once_without_a_lease_still_send_each_reminder_once(database_url):
    households = households_with_overdue_visits(database_url)
    run_two(tick_together, database_url, morning(TODAY), households, 2)
    assert_each_reminder_once(database_url, households)


def test_two_processes_under_the_lease_one_runs_the_jobs_and_the_other_stands_by(database_url):
    households = households_with_overdue_visits(database_url)
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    run_two(run_jobs_under_lease, database_url, morning(TODAY), households, results, 2)
    ran = sorted(results.get(timeout=5)[1] for _ in range(2))
    assert ran == [0, 2]
    assert_each_reminder_once(database_url, households)
