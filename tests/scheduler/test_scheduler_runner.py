"""The lease and the APScheduler runner: one process runs the jobs, another stands by."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from scheduler_helpers import QUICK, TODAY, CaseFileFollowUps, morning, people, register, schedule
from service.clock import FixedClock
from service.container import Konvergen
from service.scheduler import Scheduler, SchedulerRunner, scheduler_status, start_scheduler
from service.scheduler.runner import Lease


@pytest.fixture
def file_konvergen(tmp_path):
    """A SQLite file: the runner's threads and APScheduler's job store share it."""
    konvergen = Konvergen(f"sqlite:///{tmp_path / 'konvergen.db'}", clock=FixedClock(morning(TODAY - timedelta(days=2))))
    people(konvergen)
    yield konvergen
    konvergen.close()


def wait_until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_lease_is_held_by_one_owner_until_it_expires_or_is_released(konvergen, clock):
    engine = konvergen.storage.engine
    first = Lease(engine, clock, seconds=60, owner="first")
    second = Lease(engine, clock, seconds=60, owner="second")
    assert first.acquire() and first.acquire()  # taking and renewing
    assert not second.acquire()
    assert first.holder()["owner"] == "first"

    clock.move_to(clock.now() + timedelta(seconds=61))  # the first stopped renewing
    assert second.acquire()
    assert not first.acquire()
    first.release()  # not the holder: changes nothing
    assert second.holder()["owner"] == "second"
    second.release()
    assert second.holder() is None
    assert first.acquire()


def test_the_runner_holding_the_lease_runs_the_jobs_and_a_second_takes_over_when_it_stops(file_konvergen):
    k = file_konvergen
    household = register(k, 1)
    schedule(k, household, TODAY - timedelta(days=1))
    k.clock.move_to(morning(TODAY))
    source = CaseFileFollowUps(k, [household])
    runners = [
        SchedulerRunner(Scheduler(k, QUICK, source=source), owner=name, poll_seconds=0.05).start()
        for name in ("first", "second")
    ]
    try:
        assert wait_until(lambda: any(r.running_jobs for r in runners))
        [holder] = [r for r in runners if r.running_jobs]
        [standby] = [r for r in runners if r is not holder]
        # The passes run at once on taking over: the overdue reminder is recorded and delivered.
        assert wait_until(lambda: holder.scheduler.notifications.unread_count("asep") == 1)
        assert not standby.running_jobs

        assert wait_until(lambda: _job(k, "reminders")["last_status"] == _job(k, "digest")["last_status"] == "ok")
        status = scheduler_status(k, QUICK)
        assert status["lease"]["owner"] == holder.key
        jobs = {job["id"]: job for job in status["jobs"]}
        assert {"reminders", "digest", "deliveries"} <= set(jobs)
        assert all(jobs[j]["next_run_at"] is not None for j in ("reminders", "digest", "deliveries"))
        assert jobs["reminders"]["last_summary"]["reminders"]["recorded"] == 1
        assert jobs["digest"]["last_summary"]["digests"]["digests"] == 1  # Saturday: this week's is owed
        assert status["outbox"]["deliveries"]["sent"] == 2  # the reminder, and Saturday's weekly digest

        holder.stop()
        assert wait_until(lambda: standby.running_jobs)
        assert scheduler_status(k, QUICK)["lease"]["owner"] == standby.key
    finally:
        for runner in runners:
            runner.stop()
    assert scheduler_status(k, QUICK)["lease"] is None
    assert runners[0].scheduler.notifications.unread_count("asep") == 1  # the takeover sent nothing twice


def _job(konvergen, job_id: str) -> dict:
    jobs = {job["id"]: job for job in scheduler_status(konvergen, QUICK)["jobs"]}
    return jobs.get(job_id) or {"last_status": None}


def test_a_job_fired_after_the_lease_was_lost_does_nothing(file_konvergen):
    k = file_konvergen
    household = register(k, 1)
    schedule(k, household, TODAY - timedelta(days=1))
    k.clock.move_to(morning(TODAY))
    runner = SchedulerRunner(Scheduler(k, QUICK, source=CaseFileFollowUps(k, [household])), owner="old")
    usurper = Lease(k.storage.engine, k.clock, seconds=60, owner="new")
    assert usurper.acquire()
    assert runner.run_job("reminders") is None
    assert runner.scheduler.notifications.unread_count("asep") == 0


def test_start_scheduler_runs_the_jobs_in_the_background_of_a_serving_process(file_konvergen):
    k = file_konvergen
    household = register(k, 1)
    schedule(k, household, TODAY - timedelta(days=1))
    k.clock.move_to(morning(TODAY))
    runner = start_scheduler(k, QUICK, source=CaseFileFollowUps(k, [household]))
    try:
        assert wait_until(lambda: runner.scheduler.notifications.unread_count("asep") == 1)
        assert scheduler_status(k, QUICK)["lease"]["owner"] == runner.key
    finally:
        runner.stop()
    assert not runner.running_jobs
    assert scheduler_status(k, QUICK)["lease"] is None
