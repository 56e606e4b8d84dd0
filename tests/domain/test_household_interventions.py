"""Interventions: planned, then delivered or cancelled, and either is final."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import InvalidState, InvalidValue, NotFound
from domain.household import CANCELLED, DELIVERED, PLANNED, Household

from domain_builders import TODAY, plan


def deliver(household, intervention_id="i1", **overrides):
    command = {
        "intervention_id": intervention_id,
        "delivered_on": date(2026, 11, 20),
        "value_idr": None,
        "notes": "",
        "today": TODAY,
        "actor": "officer.dinsos",
    }
    command.update(overrides)
    household.deliver_intervention(**command)


def cancel(household, intervention_id="i1", reason="no longer eligible"):
    household.cancel_intervention(intervention_id=intervention_id, reason=reason, actor="officer.dinsos")


def test_a_planned_intervention_is_recorded_with_its_programme_agency_and_value(household):
    plan(household)

    item = household.interventions["i1"]
    assert item["status"] == PLANNED
    assert (item["programme"], item["agency"], item["strategy"]) == ("pkh", "dinsos", "pengurangan_beban")
    assert (item["planned_on"], item["value_idr"], item["recorded_by"]) == (date(2026, 11, 1), 750_000, "officer.dinsos")


def test_an_intervention_may_be_planned_for_a_future_date(household):
    plan(household, planned_on=date(2027, 1, 15))
    assert household.interventions["i1"]["planned_on"] == date(2027, 1, 15)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"programme": "bansos_x"}, "programme"),
        ({"agency": "dinas_x"}, "agency"),
        ({"agency": "disperkim"}, "agency"),  # disperkim does not deliver PKH
        ({"strategy": "bagi_bagi"}, "strategy"),
        ({"value_idr": -1}, "value_idr"),
        ({"value_idr": 10.5}, "value_idr"),
        ({"value_idr": True}, "value_idr"),
        ({"planned_on": "2026-11-01"}, "planned_on"),
    ],
)
def test_an_intervention_with_an_invalid_value_is_refused_naming_the_field(household, overrides, field):
    with pytest.raises(InvalidValue) as refusal:
        plan(household, **overrides)
    assert refusal.value.field == field


def test_a_value_of_zero_rupiah_is_accepted(household):
    plan(household, value_idr=0)
    assert household.interventions["i1"]["value_idr"] == 0


def test_the_same_intervention_id_cannot_be_planned_twice(household):
    plan(household)
    with pytest.raises(InvalidState, match="already exists"):
        plan(household)


def test_a_delivery_records_the_date_and_may_correct_value_and_notes(household):
    plan(household)
    deliver(household, value_idr=600_000, notes="dipotong biaya")

    item = household.interventions["i1"]
    assert (item["status"], item["delivered_on"], item["value_idr"], item["notes"]) == (
        DELIVERED, date(2026, 11, 20), 600_000, "dipotong biaya",
    )


def test_a_delivery_without_a_value_keeps_the_planned_value(household):
    plan(household)
    deliver(household)
    assert household.interventions["i1"]["value_idr"] == 750_000


def test_a_delivery_dated_in_the_future_is_refused(household):
    plan(household)
    with pytest.raises(InvalidValue, match="in the future") as refusal:
        deliver(household, delivered_on=date(2026, 11, 29))
    assert refusal.value.field == "delivered_on"


def test_a_delivery_with_a_negative_value_is_refused(household):
    plan(household)
    with pytest.raises(InvalidValue, match="negative"):
        deliver(household, value_idr=-5)


def test_a_delivered_intervention_cannot_be_delivered_again_or_cancelled(household):
    plan(household)
    deliver(household)
    with pytest.raises(InvalidState, match="already delivered"):
        deliver(household)
    with pytest.raises(InvalidState, match="already delivered"):
        cancel(household)


def test_a_cancelled_intervention_cannot_be_delivered_or_cancelled_again(household):
    plan(household)
    cancel(household)
    assert household.interventions["i1"]["status"] == CANCELLED
    assert household.interventions["i1"]["cancelled_reason"] == "no longer eligible"
    with pytest.raises(InvalidState, match="already cancelled"):
        deliver(household)
    with pytest.raises(InvalidState, match="already cancelled"):
        cancel(household)


def test_a_cancellation_needs_a_reason(household):
    plan(household)
    with pytest.raises(InvalidValue) as refusal:
        cancel(household, reason="  ")
    assert refusal.value.field == "reason"


def test_delivering_or_cancelling_an_unknown_intervention_is_refused(household):
    with pytest.raises(NotFound):
        deliver(household, intervention_id="nope")
    with pytest.raises(NotFound):
        cancel(household, intervention_id="nope")


def test_every_intervention_event_names_the_acting_user(household):
    plan(household, "i1")
    plan(household, "i2")
    deliver(household, "i1")
    cancel(household, "i2")
    events = household.collect_events()
    assert [type(e) for e in events] == [
        Household.InterventionPlanned,
        Household.InterventionPlanned,
        Household.InterventionDelivered,
        Household.InterventionCancelled,
    ]
    assert {e.actor for e in events} == {"officer.dinsos"}
