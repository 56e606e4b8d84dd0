"""Follow-ups: scheduled for a date and a case worker, then rescheduled, completed or cancelled."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import InvalidState, InvalidValue, NotFound
from domain.household import CANCELLED, COMPLETED, OPEN

from domain_builders import TODAY, schedule


def complete(household, follow_up_id="f1", **overrides):
    command = {
        "follow_up_id": follow_up_id,
        "completed_on": date(2026, 11, 27),
        "outcome": "visited; children in school",
        "today": TODAY,
        "actor": "asep.pendamping",
    }
    command.update(overrides)
    household.complete_follow_up(**command)


def reschedule(household, follow_up_id="f1", **overrides):
    command = {
        "follow_up_id": follow_up_id,
        "due_on": date(2026, 12, 12),
        "assigned_to": None,
        "reason": "family away",
        "today": TODAY,
        "actor": "asep.pendamping",
    }
    command.update(overrides)
    household.reschedule_follow_up(**command)


def test_a_scheduled_follow_up_is_open_with_its_due_date_and_assignee(household):
    schedule(household)

    item = household.follow_ups["f1"]
    assert (item["status"], item["due_on"], item["assigned_to"], item["scheduled_by"]) == (
        OPEN, date(2026, 12, 5), "asep.pendamping", "supervisor",
    )


def test_a_follow_up_due_today_is_accepted_but_one_due_yesterday_is_refused(household):
    schedule(household, due_on=TODAY)
    with pytest.raises(InvalidValue, match="in the past") as refusal:
        schedule(household, "f2", due_on=date(2026, 11, 27))
    assert refusal.value.field == "due_on"


@pytest.mark.parametrize("field", ["assigned_to", "purpose"])
def test_a_follow_up_needs_an_assignee_and_a_purpose(household, field):
    with pytest.raises(InvalidValue) as refusal:
        schedule(household, **{field: ""})
    assert refusal.value.field == field


def test_the_same_follow_up_id_cannot_be_scheduled_twice(household):
    schedule(household)
    with pytest.raises(InvalidState, match="already exists"):
        schedule(household)


def test_a_rescheduled_follow_up_moves_its_date_and_may_change_its_assignee(household):
    schedule(household)
    reschedule(household, assigned_to="budi.pendamping")
    item = household.follow_ups["f1"]
    assert (item["due_on"], item["assigned_to"], item["status"]) == (date(2026, 12, 12), "budi.pendamping", OPEN)


def test_rescheduling_to_the_same_date_and_assignee_is_refused(household):
    schedule(household)
    with pytest.raises(InvalidValue, match="already the follow-up's due date"):
        reschedule(household, due_on=date(2026, 12, 5))


def test_rescheduling_into_the_past_is_refused(household):
    schedule(household)
    with pytest.raises(InvalidValue, match="in the past"):
        reschedule(household, due_on=date(2026, 11, 1))


def test_a_completed_follow_up_records_its_date_and_outcome(household):
    schedule(household)
    complete(household)
    item = household.follow_ups["f1"]
    assert (item["status"], item["completed_on"], item["outcome"]) == (
        COMPLETED, date(2026, 11, 27), "visited; children in school",
    )


def test_a_completed_follow_up_cannot_be_completed_again_rescheduled_or_cancelled(household):
    schedule(household)
    complete(household)
    with pytest.raises(InvalidState, match="already completed"):
        complete(household)
    with pytest.raises(InvalidState, match="already completed"):
        reschedule(household)
    with pytest.raises(InvalidState, match="already completed"):
        household.cancel_follow_up(follow_up_id="f1", reason="x", actor="a")


def test_a_completion_dated_in_the_future_is_refused(household):
    schedule(household)
    with pytest.raises(InvalidValue, match="in the future") as refusal:
        complete(household, completed_on=date(2026, 11, 29))
    assert refusal.value.field == "completed_on"


def test_a_completion_needs_an_outcome(household):
    schedule(household)
    with pytest.raises(InvalidValue) as refusal:
        complete(household, outcome="")
    assert refusal.value.field == "outcome"


def test_a_cancelled_follow_up_cannot_be_completed(household):
    schedule(household)
    household.cancel_follow_up(follow_up_id="f1", reason="household moved", actor="a")
    assert household.follow_ups["f1"]["status"] == CANCELLED
    with pytest.raises(InvalidState, match="already cancelled"):
        complete(household)


def test_an_unknown_follow_up_cannot_be_completed(household):
    with pytest.raises(NotFound):
        complete(household, follow_up_id="nope")
