"""A scheduler killed between writing, recording and sending, then restarted: every
reminder is recorded once and delivered once; none is lost."""

from __future__ import annotations

import multiprocessing
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from scheduler_helpers import QUICK, TODAY, CaseFileFollowUps, morning, people, register, schedule, sent_keys
from scheduler_processes import die_after_recording
from service.clock import FixedClock
from service.container import Konvergen
from service.scheduler import Scheduler
from service.scheduler.channels import InAppChannel
from service.scheduler.outbox import Outbox
from service.scheduler.tables import Notification, OutboxMessage, ReminderRecord


class Killed(BaseException):
    """Stands for the process dying: not an Exception, so nothing on the way catches it."""


def die(*_args, **_kwargs):
    raise Killed()


def one_overdue_follow_up(konvergen, clock):
    clock.move_to(morning(TODAY - timedelta(days=2)))
    household = register(konvergen, 1)
    schedule(konvergen, household, TODAY - timedelta(days=1))
    clock.move_to(morning(TODAY))
    return household


def remind_and_deliver(scheduler: Scheduler) -> dict:
    """A reminder pass and a delivery round (no digest: that is tested elsewhere)."""
    report = scheduler.run_reminders().as_dict()
    scheduler.deliver()
    return report


def counts(konvergen) -> tuple[int, int, int]:
    """(reminders written, outbox rows sent, in-app notifications)."""
    with konvergen.storage.engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(ReminderRecord)).scalar_one(),
            conn.execute(select(func.count()).where(OutboxMessage.status == "sent")).scalar_one(),
            conn.execute(select(func.count()).select_from(Notification)).scalar_one(),
        )


def test_killed_after_writing_the_outbox_and_before_recording_the_restart_records_and_sends_it_once(staff, clock, monkeypatch):
    household = one_overdue_follow_up(staff, clock)
    source = CaseFileFollowUps(staff, [household])
    crashing = Scheduler(staff, QUICK, source=source)
    monkeypatch.setattr(staff.households, "record_reminders", die)
    with pytest.raises(Killed):
        remind_and_deliver(crashing)
    assert sent_keys(staff, [household]) == []
    assert counts(staff) == (1, 0, 0)  # written, not recorded, so not delivered

    monkeypatch.undo()
    restarted = Scheduler(staff, QUICK, source=source)
    report = remind_and_deliver(restarted)
    remind_and_deliver(restarted)

    assert report["recorded"] == 1
    assert len(sent_keys(staff, [household])) == 1
    assert counts(staff) == (1, 1, 1)


def test_killed_after_recording_and_before_marking_it_recorded_the_restart_sends_it_without_recording_again(staff, clock, monkeypatch):
    household = one_overdue_follow_up(staff, clock)
    source = CaseFileFollowUps(staff, [household])
    settle = Outbox.settle

    def die_before_settling(self, recorded=(), void=()):
        if recorded:
            raise Killed()
        settle(self, recorded, void)

    monkeypatch.setattr(Outbox, "settle", die_before_settling)
    with pytest.raises(Killed):
        remind_and_deliver(Scheduler(staff, QUICK, source=source))
    assert len(sent_keys(staff, [household])) == 1
    assert counts(staff) == (1, 0, 0)

    monkeypatch.undo()
    report = remind_and_deliver(Scheduler(staff, QUICK, source=source))

    assert (report["recorded"], report["already_recorded"]) == (0, 1)
    assert len(sent_keys(staff, [household])) == 1
    assert counts(staff) == (1, 1, 1)


def test_killed_while_delivering_in_app_the_restart_delivers_it_exactly_once(staff, clock, monkeypatch):
    household = one_overdue_follow_up(staff, clock)
    source = CaseFileFollowUps(staff, [household])
    add = InAppChannel.add

    def add_then_die(self, conn, messages, now):
        add(self, conn, messages, now)
        raise Killed()

    monkeypatch.setattr(InAppChannel, "add", add_then_die)
    with pytest.raises(Killed):
        remind_and_deliver(Scheduler(staff, QUICK, source=source))
    assert counts(staff) == (1, 0, 0)  # the notification and the "sent" mark rolled back together

    monkeypatch.undo()
    remind_and_deliver(Scheduler(staff, QUICK, source=source))
    remind_and_deliver(Scheduler(staff, QUICK, source=source))
    assert counts(staff) == (1, 1, 1)


@pytest.mark.slow  # a real process, killed
def test_a_scheduler_process_killed_between_recording_and_marking_loses_and_repeats_nothing(database_url):
    at = morning(TODAY)
    setup_clock = FixedClock(morning(TODAY - timedelta(days=9)))
    konvergen = Konvergen(database_url, clock=setup_clock)
    people(konvergen)
    households = [register(konvergen, n) for n in range(1, 4)]
    for household in households:
        schedule(konvergen, household, TODAY - timedelta(days=8))  # overdue + escalation
    konvergen.close()

    context = multiprocessing.get_context("spawn")
    process = context.Process(target=die_after_recording, args=(database_url, at, households))
    process.start()
    process.join(60)
    assert process.exitcode == 9

    konvergen = Konvergen(database_url, clock=FixedClock(at))
    try:
        assert len(sent_keys(konvergen, households)) == 1  # it died right after the first
        scheduler = Scheduler(konvergen, QUICK, source=CaseFileFollowUps(konvergen, households))
        report = remind_and_deliver(scheduler)
        keys = sent_keys(konvergen, households)
        assert len(keys) == len(set(keys)) == 6
        assert (report["recorded"], report["already_recorded"]) == (5, 1)
        assert counts(konvergen) == (6, 6, 6)
    finally:
        konvergen.close()
