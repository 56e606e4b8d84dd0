"""The pure rules: given today and open follow-ups, which reminders are owed."""

from __future__ import annotations

from datetime import date, timedelta

from service.scheduler.config import SchedulerConfig
from service.scheduler.rules import (
    BEFORE,
    DIGEST,
    DUE,
    ESCALATION,
    OVERDUE,
    OpenFollowUp,
    digests_due,
    kinds_due,
    latest_due_date_of_interest,
    reminders_due,
)

TODAY = date(2026, 11, 25)  # a Wednesday
DEFAULTS = SchedulerConfig()


def follow_up(name: str, due_on: date, *, worker: str = "asep", kecamatan: str = "32.04.05") -> OpenFollowUp:
    return OpenFollowUp("h-" + name, name, due_on, worker, kecamatan + ".2001", kecamatan, "visit")


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


def test_with_the_defaults_each_kind_is_owed_on_its_day():
    assert kinds_due(TODAY, days(1), DEFAULTS) == [BEFORE]
    assert kinds_due(TODAY, days(0), DEFAULTS) == [DUE]
    assert kinds_due(TODAY, days(-1), DEFAULTS) == [OVERDUE]
    assert kinds_due(TODAY, days(-6), DEFAULTS) == [OVERDUE]
    assert kinds_due(TODAY, days(-7), DEFAULTS) == [OVERDUE, ESCALATION]
    assert kinds_due(TODAY, days(2), DEFAULTS) == []


def test_the_due_set_for_a_day_names_each_follow_up_and_kind_with_its_key():
    rows = [follow_up("tomorrow", days(1)), follow_up("today", days(0)), follow_up("late1", days(-1)),
            follow_up("late8", days(-8)), follow_up("later", days(5))]
    due = {(d.kind, d.follow_up.follow_up_id) for d in reminders_due(TODAY, rows, DEFAULTS)}
    assert due == {(BEFORE, "tomorrow"), (DUE, "today"), (OVERDUE, "late1"), (OVERDUE, "late8"), (ESCALATION, "late8")}
    keys = {d.key for d in reminders_due(TODAY, rows, DEFAULTS)}
    assert (ESCALATION, "late8", days(-8)) in keys


def test_a_reminder_window_lets_a_pass_missed_yesterday_still_send_what_is_owed():
    three_days_ahead = SchedulerConfig(remind_days_before=3)
    assert [kinds_due(days(n), days(3), three_days_ahead) for n in range(4)] == [[BEFORE], [BEFORE], [BEFORE], [DUE]]


def test_the_due_date_reminder_is_not_sent_late_the_overdue_one_takes_its_place():
    assert kinds_due(days(1), TODAY, DEFAULTS) == [OVERDUE]


def test_rules_can_be_switched_off_and_escalation_moved():
    quiet = SchedulerConfig(remind_days_before=0, remind_on_due_date=False, remind_when_overdue=False, escalate_after_days=3)
    assert kinds_due(TODAY, days(1), quiet) == []
    assert kinds_due(TODAY, days(0), quiet) == []
    assert kinds_due(TODAY, days(-2), quiet) == []
    assert kinds_due(TODAY, days(-3), quiet) == [ESCALATION]


def test_the_read_model_is_asked_only_for_follow_ups_that_can_owe_something():
    assert latest_due_date_of_interest(TODAY, DEFAULTS) == days(1)
    assert latest_due_date_of_interest(TODAY, SchedulerConfig(remind_days_before=4)) == days(4)


def test_the_weekly_digest_lists_each_kecamatan_s_overdue_visits_by_worker_for_each_supervisor():
    rows = [
        follow_up("a", days(-1), worker="asep"),
        follow_up("b", days(-9), worker="asep"),
        follow_up("c", days(-2), worker="dewi"),
        follow_up("not-yet", days(0), worker="dewi"),
        follow_up("far", days(-3), worker="euis", kecamatan="32.04.06"),
    ]
    supervisors = {"32.04.05": ["kasi.a", "kasi.b"], "32.04.06": ["kasi.c"], "32.04.07": ["kasi.idle"]}
    digests = digests_due(TODAY, rows, supervisors, DEFAULTS)
    assert [(d.supervisor, d.kecamatan_code, d.overdue_count) for d in digests] == [
        ("kasi.a", "32.04.05", 3), ("kasi.b", "32.04.05", 3), ("kasi.c", "32.04.06", 1)
    ]
    by_worker = {w: [f.follow_up_id for f in items] for w, items in digests[0].overdue_by_worker}
    assert by_worker == {"asep": ["b", "a"], "dewi": ["c"]}
    assert digests[0].key == (DIGEST, "kasi.a", date(2026, 11, 23))  # the Monday of that week


def test_the_digest_is_owed_from_its_weekday_to_the_end_of_the_week_only():
    rows = [follow_up("a", date(2026, 11, 1))]
    friday = SchedulerConfig(digest_weekday="fri")
    owed = {day: bool(digests_due(day, rows, {"32.04.05": ["kasi"]}, friday)) for day in (date(2026, 11, d) for d in range(23, 30))}
    assert [owed[d] for d in sorted(owed)] == [False, False, False, False, True, True, True]
