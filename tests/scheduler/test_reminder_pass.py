"""Reminder passes over simulated days: the exact reminders, each once, on the household."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from scheduler_helpers import (
    ADMIN,
    FAR_VILLAGE,
    QUICK,
    TODAY,
    CaseFileFollowUps,
    morning,
    register,
    reminder_events,
    schedule,
    sent_keys,
)
from service.access import SYSTEM_ACTOR, Actor
from service.errors import Forbidden
from service.households import household_dict
from service.scheduler import Scheduler
from service.scheduler.tables import ReminderRecord


def day(n: int):
    return TODAY + timedelta(days=n)


def test_thirteen_simulated_days_send_exactly_the_owed_reminders_and_escalations_each_once(staff, clock):
    k = staff
    clock.move_to(morning(day(-10)))
    near, far = register(k, 1), register(k, 2, village=FAR_VILLAGE)
    names = {
        schedule(k, near, day(1)): "tomorrow",
        schedule(k, near, day(0)): "today",
        schedule(k, near, day(-1)): "late1",
        schedule(k, far, day(-8), assigned_to="euis"): "late8",
        schedule(k, near, day(1)): "moved",
        schedule(k, near, day(0)): "done",
    }
    ids = {name: fid for fid, name in names.items()}
    clock.move_to(morning(day(-1)))
    k.households.complete_follow_up(ADMIN, near, ids["done"], completed_on=day(-1), outcome="visited early")
    scheduler = Scheduler(k, QUICK, source=CaseFileFollowUps(k, [near, far]))

    seen: list = []
    by_day = {}
    for n in range(13):
        clock.move_to(morning(day(n)))
        scheduler.run_reminders()
        scheduler.run_reminders()  # a second pass the same day changes nothing
        scheduler.deliver()
        keys = sent_keys(k, [near, far])
        by_day[n] = sorted((kind, names[fid]) for kind, fid, _due in Counter(keys) - Counter(seen))
        seen = keys
        if n == 0:
            k.households.reschedule_follow_up(ADMIN, near, ids["moved"], due_on=day(5), reason="family away")
        if n == 2:
            k.households.complete_follow_up(ADMIN, near, ids["late1"], completed_on=day(2), outcome="visited")

    assert by_day == {
        0: [("escalation", "late8"), ("reminder_before", "moved"), ("reminder_before", "tomorrow"),
            ("reminder_due", "today"), ("reminder_overdue", "late1"), ("reminder_overdue", "late8")],
        1: [("reminder_due", "tomorrow"), ("reminder_overdue", "today")],
        2: [("reminder_overdue", "tomorrow")],
        3: [],
        4: [("reminder_before", "moved")],
        5: [("reminder_due", "moved")],
        6: [("reminder_overdue", "moved")],
        7: [("escalation", "today")],
        8: [("escalation", "tomorrow")],
        9: [], 10: [], 11: [],
        12: [("escalation", "moved")],
    }
    assert len(seen) == len(set(seen)) == 15
    # The moved follow-up was reminded for both dates, each once, and never for its old due date itself.
    assert {(kind, due) for kind, fid, due in seen if fid == ids["moved"]} == {
        ("reminder_before", day(1)), ("reminder_before", day(5)), ("reminder_due", day(5)),
        ("reminder_overdue", day(5)), ("escalation", day(5)),
    }
    notifications = scheduler.notifications
    assert notifications.unread_count("asep") == 10
    assert notifications.unread_count("euis") == 1
    assert notifications.unread_count("kasi.cimenyan") == 1  # late8's escalation, in the far kecamatan
    assert notifications.unread_count("kasi.cileunyi") == 3


def test_a_reminder_event_names_kind_follow_up_due_date_recipients_and_channels_and_the_scheduler_as_actor(staff, clock):
    k = staff
    clock.move_to(morning(day(-9)))
    household = register(k, 1)
    follow_up = schedule(k, household, day(-8))
    clock.move_to(morning(day(0)))
    Scheduler(k, QUICK, source=CaseFileFollowUps(k, [household])).run_reminders()

    history = k.households.history(ADMIN, household)
    reminders = sorted((e for e in history if e["type"] == "ReminderSent"), key=lambda e: e["data"]["kind"])
    assert [(e["actor"], e["data"]["kind"], e["data"]["recipients"], e["data"]["channels"]) for e in reminders] == [
        ("system", "escalation", ["kasi.cileunyi"], ["in_app"]),
        ("system", "reminder_overdue", ["asep"], ["in_app"]),
    ]
    assert {e["data"]["follow_up_id"] for e in reminders} == {follow_up}
    assert {e["data"]["due_on"] for e in reminders} == {day(-8)}
    assert household_dict(k.households._load(household), k.regions)["follow_ups"][0]["status"] == "open"
    assert k.households.get_household(ADMIN, household)["version"] == history[-1]["version"]


def test_a_read_model_that_still_shows_the_old_due_date_produces_no_reminder_for_it(staff, clock):
    k = staff
    household = register(k, 1)
    follow_up = schedule(k, household, day(1))
    source = CaseFileFollowUps(k, [household])
    source.freeze()  # the view will keep showing the follow-up due tomorrow
    k.households.reschedule_follow_up(ADMIN, household, follow_up, due_on=day(20), reason="moved")
    scheduler = Scheduler(k, QUICK, source=source)

    report = scheduler.run_reminders(day(0))
    scheduler.deliver()

    assert (report.enqueued, report.recorded, report.void) == (1, 0, 1)
    assert reminder_events(k, household) == []
    assert scheduler.notifications.unread_count("asep") == 0
    with k.storage.engine.connect() as conn:
        state, note = conn.execute(select(ReminderRecord.state, ReminderRecord.note)).one()
    assert state == "void" and "is now due on 2026-12-18" in note

    # Moved back to tomorrow: the reminder for that date applies again, and goes once.
    k.households.reschedule_follow_up(ADMIN, household, follow_up, due_on=day(1), reason="back after all")
    source.frozen = None
    assert scheduler.run_reminders(day(0)).recorded == 1
    assert scheduler.run_reminders(day(0)).enqueued == 0
    scheduler.deliver()
    assert [e["kind"] for e in reminder_events(k, household)] == ["reminder_before"]
    assert scheduler.notifications.unread_count("asep") == 1


def test_completed_cancelled_and_closed_follow_ups_get_nothing_even_from_a_stale_view(staff, clock):
    k = staff
    clock.move_to(morning(day(-3)))
    completed_in, cancelled_in, closed = register(k, 1), register(k, 2), register(k, 3)
    completed = schedule(k, completed_in, day(-1))
    cancelled = schedule(k, cancelled_in, day(-1))
    schedule(k, closed, day(-1))
    source = CaseFileFollowUps(k, [completed_in, cancelled_in, closed])
    clock.move_to(morning(day(0)))
    source.freeze()
    k.households.complete_follow_up(ADMIN, completed_in, completed, completed_on=day(0), outcome="ok")
    k.households.cancel_follow_up(ADMIN, cancelled_in, cancelled, reason="not needed")
    k.households.close_household(ADMIN, closed, reason="moved_away", effective_on=day(0))
    scheduler = Scheduler(k, QUICK, source=source)

    report = scheduler.run_reminders()
    scheduler.deliver()

    assert (report.enqueued, report.void, report.recorded) == (3, 3, 0)
    assert sent_keys(k, [completed_in, cancelled_in, closed]) == []
    assert scheduler.notifications.unread_count("asep") == 0


def test_an_escalation_in_a_kecamatan_without_a_supervisor_goes_to_the_administrators(konvergen, clock):
    k = konvergen
    k.users.create_user(username="asep", password="rahasia-sekali", role="case_worker", villages=["32.04.05.2001"])
    k.users.create_user(username="bappeda", password="rahasia-sekali", role="admin")
    clock.move_to(morning(day(-9)))
    household = register(k, 1)
    schedule(k, household, day(-8))
    clock.move_to(morning(day(0)))
    scheduler = Scheduler(k, QUICK, source=CaseFileFollowUps(k, [household]))

    scheduler.run_reminders()
    scheduler.deliver()

    escalation = [e for e in reminder_events(k, household) if e["kind"] == "escalation"]
    assert [e["recipients"] for e in escalation] == [["bappeda"]]
    assert [n["kind"] for n in scheduler.notifications.list_notifications("bappeda")] == ["escalation"]


def test_only_the_scheduler_records_reminders(staff, clock):
    household = register(staff, 1)
    follow_up = schedule(staff, household, day(1))
    with pytest.raises(Forbidden):
        staff.households.record_reminder(
            household, kind="reminder_before", follow_up_id=follow_up, due_on=day(1), recipients=["asep"],
            channels=["in_app"], actor=Actor(username="admin", role="admin"),
        )
    first = staff.households.record_reminder(
        household, kind="reminder_before", follow_up_id=follow_up, due_on=day(1), recipients=["asep"], channels=["in_app"],
        actor=SYSTEM_ACTOR,
    )
    again = staff.households.record_reminder(
        household, kind="reminder_before", follow_up_id=follow_up, due_on=day(1), recipients=["asep"], channels=["in_app"],
    )
    assert (first["recorded"], again["recorded"]) == (True, False)
    assert again["version"] == first["version"]


def test_the_weekly_digest_goes_once_a_week_to_each_supervisor_listing_overdue_visits_by_worker(staff, clock):
    k = staff
    monday = day(2)  # 2026-11-30
    clock.move_to(morning(monday - timedelta(days=12)))
    near, far = register(k, 1), register(k, 2, village=FAR_VILLAGE)
    schedule(k, near, monday - timedelta(days=3))
    schedule(k, near, monday - timedelta(days=10))
    schedule(k, far, monday - timedelta(days=1), assigned_to="euis")
    schedule(k, near, monday + timedelta(days=3))  # not overdue
    scheduler = Scheduler(k, QUICK, source=CaseFileFollowUps(k, [near, far]))

    sent = []
    for n in range(9):  # Monday to the next Tuesday
        clock.move_to(morning(monday + timedelta(days=n)))
        sent.append(scheduler.run_digests().digests)
        scheduler.deliver()

    assert sent == [2, 0, 0, 0, 0, 0, 0, 2, 0]
    digests = scheduler.notifications.list_notifications("kasi.cileunyi")
    assert [d["kind"] for d in digests] == ["weekly_digest", "weekly_digest"]
    assert digests[-1]["title"] == "Ringkasan mingguan: 2 kunjungan terlambat di Kecamatan Cileunyi"
    assert digests[-1]["body"] == "- asep: 2 kunjungan terlambat (paling lama sejak 2026-11-20)"
    assert scheduler.notifications.list_notifications("kasi.cimenyan")[-1]["body"].startswith("- euis: 1 kunjungan")


def test_reminders_speak_the_recipient_s_language(staff, clock):
    k = staff
    k.users.set_language("asep", "en")
    household = register(k, 1)
    schedule(k, household, day(1), purpose="Check the roof")
    scheduler = Scheduler(k, QUICK, source=CaseFileFollowUps(k, [household]))
    scheduler.run_reminders()
    scheduler.deliver()
    [notification] = scheduler.notifications.list_notifications("asep")
    assert notification["title"] == "Visit due 2026-11-29: Check the roof"
    assert notification["body"] == "A visit to a household in Cileunyi Kulon is due on 2026-11-29. Purpose: Check the roof."
