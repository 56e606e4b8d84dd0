"""Code the scheduler tests run in separate processes (multiprocessing, spawn).

Each function opens its own Konvergen on the database URL it is given, as a second
scheduler process started by mistake, or one that gets killed, would.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import date, datetime

from scheduler_helpers import QUICK, CaseFileFollowUps
from service.clock import FixedClock
from service.container import Konvergen
from service.scheduler import Scheduler, SchedulerRunner


def open_scheduler(url: str, at: datetime, household_ids: list[str]) -> tuple[Konvergen, Scheduler]:
    konvergen = Konvergen(url, clock=FixedClock(at))
    return konvergen, Scheduler(konvergen, QUICK, source=CaseFileFollowUps(konvergen, household_ids))


def tick_together(url: str, at: datetime, household_ids: list[str], start, rounds: int) -> None:
    """Waits for the other process, then runs whole passes without any lease: only the
    stores' unique keys and the households' invariants stand between them."""
    konvergen, scheduler = open_scheduler(url, at, household_ids)
    try:
        start.wait(60)  # a Barrier: both processes go at once
        for _ in range(rounds):
            scheduler.tick()
    finally:
        konvergen.close()


def run_jobs_under_lease(url: str, at: datetime, household_ids: list[str], start, results, rounds: int) -> None:
    """Waits for the other process, then fires the reminder job ``rounds`` times as
    APScheduler would; reports how many runs found the lease theirs."""
    konvergen, scheduler = open_scheduler(url, at, household_ids)
    runner = SchedulerRunner(scheduler)
    ran = 0
    try:
        start.wait(60)  # a Barrier: both processes go at once
        for _ in range(rounds):
            if runner.run_job("reminders") is not None:
                ran += 1
        results.put((os.getpid(), ran))
    finally:
        konvergen.close()


def die_after_recording(url: str, at: datetime, household_ids: list[str]) -> None:
    """A pass that is killed (no clean-up at all) right after its first batch (of one
    reminder) is recorded on the household, before the outbox learns it was recorded."""
    konvergen = Konvergen(url, clock=FixedClock(at))
    scheduler = Scheduler(konvergen, replace(QUICK, batch_size=1), source=CaseFileFollowUps(konvergen, household_ids))
    record = konvergen.households.record_reminders

    def record_then_die(*args, **kwargs):
        record(*args, **kwargs)
        os._exit(9)

    konvergen.households.record_reminders = record_then_die
    scheduler.run_reminders()


def today_in(at: datetime) -> date:
    return FixedClock(at).today()
