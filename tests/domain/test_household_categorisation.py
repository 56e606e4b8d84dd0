"""Categorisation: category, desil, source, effective date; the current one is the latest effective."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidValue
from domain.household import CATEGORIES

from domain_builders import TODAY, categorise, register


def test_a_categorisation_records_who_said_what_when_and_why(household):
    categorise(household, category="miskin", desil=2, source="field_verification", reason="visit")

    (entry,) = household.categorisations
    assert entry == {
        "category": "miskin",
        "desil": 2,
        "source": "field_verification",
        "effective_on": date(2026, 3, 1),
        "reason": "visit",
        "recorded_by": "admin",
        "version": 2,
    }
    assert household.current_categorisation == entry


def test_a_household_never_categorised_has_no_current_category(household):
    assert household.current_categorisation is None


@pytest.mark.parametrize("desil", [0, 11, -1, 2.5, "3", True])
def test_a_desil_outside_1_to_10_is_refused(household, desil):
    with pytest.raises(InvalidValue, match="1 to 10") as refusal:
        categorise(household, desil=desil)
    assert refusal.value.field == "desil"


@pytest.mark.parametrize("desil", [1, 10, None])
def test_desil_1_to_10_or_none_is_accepted(household, desil):
    categorise(household, desil=desil)
    assert household.current_categorisation["desil"] == desil


@pytest.mark.parametrize(("field", "value"), [("category", "kaya"), ("source", "gossip")])
def test_an_unknown_category_or_source_is_refused(household, field, value):
    with pytest.raises(InvalidValue) as refusal:
        categorise(household, **{field: value})
    assert refusal.value.field == field


def test_a_categorisation_effective_in_the_future_is_refused(household):
    with pytest.raises(InvalidValue, match="in the future") as refusal:
        categorise(household, effective_on=TODAY + timedelta(days=1))
    assert refusal.value.field == "effective_on"


def test_a_categorisation_without_a_reason_is_refused(household):
    with pytest.raises(InvalidValue) as refusal:
        categorise(household, reason="")
    assert refusal.value.field == "reason"


def test_a_late_entry_with_an_older_effective_date_does_not_override_the_current_category(household):
    categorise(household, category="rentan", effective_on=date(2026, 9, 1))
    categorise(household, category="miskin_ekstrem", effective_on=date(2026, 3, 1), reason="late P3KE import")

    assert household.current_categorisation["category"] == "rentan"
    assert [c["category"] for c in household.categorisations] == ["rentan", "miskin_ekstrem"]


def test_among_categorisations_effective_the_same_day_the_last_recorded_wins(household):
    categorise(household, category="miskin", effective_on=date(2026, 9, 1))
    categorise(household, category="rentan", effective_on=date(2026, 9, 1))
    assert household.current_categorisation["category"] == "rentan"


@given(
    entries=st.lists(
        st.tuples(st.sampled_from(CATEGORIES), st.integers(min_value=0, max_value=30)), min_size=1, max_size=12
    )
)
def test_the_current_category_is_the_latest_effective_and_among_equals_the_last_recorded(entries):
    household = register()
    for category, days_ago in entries:
        categorise(household, category=category, effective_on=TODAY - timedelta(days=days_ago))

    latest = min(days_ago for _, days_ago in entries)
    expected = [category for category, days_ago in entries if days_ago == latest][-1]
    assert household.current_categorisation["category"] == expected
    assert household.current_categorisation["effective_on"] == TODAY - timedelta(days=latest)
