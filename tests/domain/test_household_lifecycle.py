"""Graduation, closure and reopening: a closed household refuses every change but reopening."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import HouseholdClosed, InvalidState, InvalidValue
from domain.household import ACTIVE, CLOSED, GRADUATED

from domain_builders import (
    OTHER_KK,
    REGIONS,
    TODAY,
    WIFE_NIK,
    categorise,
    child,
    close,
    plan,
    schedule,
)


def graduate(household, **overrides):
    command = {"effective_on": date(2026, 11, 1), "reason": "income above the line", "today": TODAY, "actor": "admin"}
    command.update(overrides)
    household.graduate(**command)


def reopen(household, reason="closed by mistake"):
    household.reopen(reason=reason, actor="admin")


def test_a_household_once_categorised_miskin_ekstrem_can_graduate(household):
    categorise(household, category="miskin_ekstrem")
    categorise(household, category="rentan", effective_on=date(2026, 10, 1))
    graduate(household)

    assert household.status == GRADUATED
    assert household.graduation == {"effective_on": date(2026, 11, 1), "reason": "income above the line"}


def test_a_household_never_categorised_miskin_ekstrem_cannot_graduate(household):
    categorise(household, category="miskin")
    with pytest.raises(InvalidState, match="miskin ekstrem"):
        graduate(household)


def test_a_household_with_no_categorisation_cannot_graduate(household):
    with pytest.raises(InvalidState, match="miskin ekstrem"):
        graduate(household)


def test_a_household_cannot_graduate_twice(household):
    categorise(household)
    graduate(household)
    with pytest.raises(InvalidState, match="already graduated"):
        graduate(household)


def test_a_graduated_household_categorised_miskin_ekstrem_again_later_is_active_again(household):
    categorise(household)
    graduate(household, effective_on=date(2026, 10, 1))

    categorise(household, category="miskin_ekstrem", effective_on=date(2026, 11, 20), reason="P3KE 2026 Q4")

    assert household.status == ACTIVE
    assert household.graduation["effective_on"] == date(2026, 10, 1)  # what happened stays on record


def test_a_household_that_fell_back_can_graduate_again(household):
    categorise(household)
    graduate(household, effective_on=date(2026, 10, 1))
    categorise(household, category="miskin_ekstrem", effective_on=date(2026, 11, 1))

    graduate(household, effective_on=date(2026, 11, 25), reason="verified again")

    assert household.status == GRADUATED
    assert household.graduation["effective_on"] == date(2026, 11, 25)


@pytest.mark.parametrize(
    "category, effective_on",
    [
        ("miskin", date(2026, 11, 20)),  # poor, but no longer extremely poor
        ("miskin_ekstrem", date(2026, 9, 1)),  # a late entry about the time before the graduation
        ("miskin_ekstrem", date(2026, 10, 1)),  # the graduation's own day: it took effect that day
    ],
    ids=["not-extreme", "before-graduation", "same-day"],
)
def test_a_graduated_household_stays_graduated_unless_extremely_poor_again_after_it(household, category, effective_on):
    categorise(household)
    graduate(household, effective_on=date(2026, 10, 1))

    categorise(household, category=category, effective_on=effective_on)

    assert household.status == GRADUATED


def test_an_extreme_categorisation_that_is_not_the_current_one_does_not_undo_a_graduation(household):
    categorise(household)
    graduate(household, effective_on=date(2026, 10, 1))
    categorise(household, category="rentan", effective_on=date(2026, 11, 20))

    categorise(household, category="miskin_ekstrem", effective_on=date(2026, 11, 10))  # a late entry

    assert household.status == GRADUATED


def test_a_graduation_effective_in_the_future_is_refused(household):
    categorise(household)
    with pytest.raises(InvalidValue, match="in the future") as refusal:
        graduate(household, effective_on=date(2026, 12, 1))
    assert refusal.value.field == "effective_on"


def test_a_closed_household_records_why_and_when(household):
    close(household, reason="all_deceased", note="per surat kematian")
    assert household.status == CLOSED
    assert household.closure == {
        "reason": "all_deceased", "duplicate_of": None, "effective_on": date(2026, 11, 1), "note": "per surat kematian",
    }


def test_closing_as_a_duplicate_names_the_other_family_card(household):
    close(household, reason="duplicate", duplicate_of=OTHER_KK)
    assert household.closure["duplicate_of"] == OTHER_KK


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"reason": "duplicate", "duplicate_of": None}, "duplicate_of"),
        ({"reason": "duplicate", "duplicate_of": "3204050101200001"}, "duplicate_of"),  # itself
        ({"reason": "moved_away", "duplicate_of": OTHER_KK}, "duplicate_of"),
        ({"reason": "bored"}, "reason"),
        ({"effective_on": date(2026, 11, 29)}, "effective_on"),
    ],
)
def test_a_closure_with_invalid_details_is_refused(household, overrides, field):
    with pytest.raises(InvalidValue) as refusal:
        close(household, **overrides)
    assert refusal.value.field == field


def closed_household_commands(household):
    """Every command but reopening, each as a zero-argument callable."""
    return {
        "change_kk": lambda: household.change_kk(new_kk_number=OTHER_KK, reason="reissue", effective_on=None, today=TODAY, actor="a"),
        "correct_identification": lambda: household.correct_identification(head_name="Budi", reason="x", regions=REGIONS, actor="a"),
        "add_member": lambda: household.add_member(member=child(), joined_on=None, today=TODAY, actor="a"),
        "correct_member": lambda: household.correct_member(nik=WIFE_NIK, changes={"name": "Euis K"}, reason="x", today=TODAY, actor="a"),
        "record_member_left": lambda: household.record_member_left(nik=WIFE_NIK, reason="moved", left_on=TODAY, today=TODAY, actor="a"),
        "categorise": lambda: categorise(household),
        "plan_intervention": lambda: plan(household, "i2"),
        "deliver_intervention": lambda: household.deliver_intervention(intervention_id="i1", delivered_on=TODAY, value_idr=None, notes="", today=TODAY, actor="a"),
        "cancel_intervention": lambda: household.cancel_intervention(intervention_id="i1", reason="x", actor="a"),
        "schedule_follow_up": lambda: schedule(household, "f2"),
        "reschedule_follow_up": lambda: household.reschedule_follow_up(follow_up_id="f1", due_on=date(2026, 12, 20), assigned_to=None, reason="x", today=TODAY, actor="a"),
        "complete_follow_up": lambda: household.complete_follow_up(follow_up_id="f1", completed_on=TODAY, outcome="x", today=TODAY, actor="a"),
        "cancel_follow_up": lambda: household.cancel_follow_up(follow_up_id="f1", reason="x", actor="a"),
        "graduate": lambda: graduate(household),
        "close": lambda: close(household),
    }


@pytest.mark.parametrize("command", sorted(closed_household_commands(None)))
def test_a_closed_household_refuses_every_change_but_reopening(household, command):
    categorise(household)
    plan(household, "i1")
    schedule(household, "f1")
    close(household)
    household.collect_events()
    version = household.version

    with pytest.raises(HouseholdClosed, match="closed"):
        closed_household_commands(household)[command]()

    assert household.version == version
    assert household.collect_events() == []


def test_reopening_returns_an_active_household_to_active(household):
    close(household)
    reopen(household)
    assert household.status == ACTIVE
    assert household.closure is None


def test_reopening_returns_a_graduated_household_to_graduated(household):
    categorise(household)
    graduate(household)
    close(household)
    reopen(household)
    assert household.status == GRADUATED
    assert household.graduation is not None


def test_a_reopened_household_accepts_changes_again(household):
    close(household)
    reopen(household)
    plan(household)
    assert "i1" in household.interventions


def test_only_a_closed_household_can_be_reopened(household):
    with pytest.raises(InvalidState, match="only a closed household"):
        reopen(household)


def test_reopening_needs_a_reason(household):
    close(household)
    with pytest.raises(InvalidValue) as refusal:
        reopen(household, reason="")
    assert refusal.value.field == "reason"
