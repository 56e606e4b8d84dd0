"""Household.ReminderSent: the household's own invariant is the last word on a reminder."""

from __future__ import annotations

from datetime import timedelta

import pytest
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import IntegrityError

from domain.errors import InvalidState, InvalidValue
from scheduler_helpers import ADMIN, TODAY, register, schedule
from service.households import Households


def reminder(household, follow_up, kind="reminder_before", due_on=None, **changes) -> dict:
    item = {"household_id": household, "kind": kind, "follow_up_id": follow_up,
            "due_on": due_on or TODAY + timedelta(days=1), "recipients": ["asep"], "channels": ["in_app"]}
    item.update(changes)
    return item


def test_a_household_refuses_a_reminder_twice_for_a_closed_follow_up_or_a_date_it_no_longer_has(staff):
    household_id = register(staff, 1)
    follow_up = schedule(staff, household_id, TODAY + timedelta(days=1))
    household = staff.households._load(household_id)
    household.record_reminder(kind="reminder_before", follow_up_id=follow_up, due_on=TODAY + timedelta(days=1),
                              recipients=["asep"], channels=["in_app"], actor="system")
    with pytest.raises(InvalidState, match="was already sent"):
        household.record_reminder(kind="reminder_before", follow_up_id=follow_up, due_on=TODAY + timedelta(days=1),
                                  recipients=["asep"], channels=["in_app"], actor="system")
    with pytest.raises(InvalidState, match="is now due on 2026-11-29, not 2026-11-30"):
        household.record_reminder(kind="reminder_due", follow_up_id=follow_up, due_on=TODAY + timedelta(days=2),
                                  recipients=["asep"], channels=["in_app"], actor="system")
    with pytest.raises(InvalidValue, match="kind: must be one of"):
        household.record_reminder(kind="nagging", follow_up_id=follow_up, due_on=TODAY + timedelta(days=1),
                                  recipients=["asep"], channels=["in_app"], actor="system")
    with pytest.raises(InvalidValue, match="channels: must be some of"):
        household.record_reminder(kind="reminder_due", follow_up_id=follow_up, due_on=TODAY + timedelta(days=1),
                                  recipients=["asep"], channels=["pigeon"], actor="system")
    with pytest.raises(InvalidValue, match="recipients: must name at least one user"):
        household.record_reminder(kind="reminder_due", follow_up_id=follow_up, due_on=TODAY + timedelta(days=1),
                                  recipients=[], channels=["in_app"], actor="system")


def test_a_batch_records_what_applies_and_answers_why_the_rest_did_not(staff):
    first, second = register(staff, 1), register(staff, 2)
    open_one = schedule(staff, first, TODAY + timedelta(days=1))
    done = schedule(staff, second, TODAY + timedelta(days=1))
    staff.households.complete_follow_up(ADMIN, second, done, completed_on=TODAY, outcome="visited")
    staff.households.record_reminder(**reminder(first, open_one, kind="reminder_due"))

    outcomes = staff.households.record_reminders([
        reminder(first, open_one),
        reminder(first, open_one, kind="reminder_due"),
        reminder(second, done),
        reminder("not-a-household", "x"),
    ])

    assert [(o["outcome"], o["reason"]) for o in outcomes] == [
        ("recorded", None),
        ("already_recorded", None),
        ("refused", f"follow-up {done} is already completed"),
        ("refused", "household not-a-household not found"),
    ]
    kinds = [e["data"]["kind"] for e in staff.households.history(ADMIN, first) if e["type"] == "ReminderSent"]
    assert kinds == ["reminder_due", "reminder_before"]


def test_a_batch_that_meets_a_concurrent_write_records_each_reminder_on_its_own(staff, monkeypatch):
    household = register(staff, 1)
    follow_ups = [schedule(staff, household, TODAY + timedelta(days=1)) for _ in range(3)]
    save = Households.save
    calls = []

    def save_losing_the_first_race(self, *aggregates, **kwargs):
        calls.append(len(aggregates))
        if len(calls) == 1:
            raise IntegrityError("another process wrote this household first")
        return save(self, *aggregates, **kwargs)

    monkeypatch.setattr(Households, "save", save_losing_the_first_race)
    outcomes = staff.households.record_reminders([reminder(household, f) for f in follow_ups])

    assert [o["outcome"] for o in outcomes] == ["recorded"] * 3
    assert len(calls) == 4  # the failed batch, then one save per reminder
    assert len([e for e in staff.households.history(ADMIN, household) if e["type"] == "ReminderSent"]) == 3


def test_a_household_snapshotted_with_many_reminders_still_knows_every_one(staff):
    household = register(staff, 1)
    follow_ups = [schedule(staff, household, TODAY + timedelta(days=1)) for _ in range(30)]
    outcomes = staff.households.record_reminders([reminder(household, f) for f in follow_ups])
    assert {o["outcome"] for o in outcomes} == {"recorded"}
    assert staff.households.get_household(ADMIN, household)["version"] == 61  # past the snapshot at 50

    again = staff.households.record_reminders([reminder(household, f) for f in follow_ups])
    assert {o["outcome"] for o in again} == {"already_recorded"}


def test_a_snapshot_taken_before_reminders_existed_loads_with_none_sent(staff):
    household_id = register(staff, 1)
    follow_up = schedule(staff, household_id, TODAY + timedelta(days=1))
    snapshot = Snapshot.take(staff.households._load(household_id))
    old_state = {k: v for k, v in snapshot.state.items() if k not in ("reminders_sent", "class_version")}
    old = Snapshot(originator_id=snapshot.originator_id, originator_version=snapshot.originator_version,
                   timestamp=snapshot.timestamp, topic=snapshot.topic, state=old_state)

    restored = old.mutate(None)

    assert restored.reminders_sent == {}
    restored.record_reminder(kind="reminder_before", follow_up_id=follow_up, due_on=TODAY + timedelta(days=1),
                             recipients=["asep"], channels=["in_app"], actor="system")
    assert restored.has_reminder("reminder_before", follow_up, TODAY + timedelta(days=1))
