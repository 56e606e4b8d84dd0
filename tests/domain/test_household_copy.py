"""A copy of a household (what the aggregate cache hands each command) is fully independent."""

from __future__ import annotations

import copy
from datetime import date, datetime
from uuid import UUID

from domain.household import Household

from domain_builders import register, state
from test_household_events import full_history

IMMUTABLE_LEAVES = (str, int, float, bool, type(None), date, datetime, UUID, Household.Event)


def containers(value, path="household"):
    """Every dict and list reachable from ``value``, with where it was found."""
    if isinstance(value, dict):
        yield path, value
        for key, item in value.items():
            yield from containers(item, f"{path}.{key}")
    elif isinstance(value, list):
        yield path, value
        for index, item in enumerate(value):
            yield from containers(item, f"{path}[{index}]")
    else:
        assert isinstance(value, IMMUTABLE_LEAVES), f"{path} is a mutable {type(value).__name__}"


def test_a_copied_household_equals_the_original_and_shares_no_container_with_it():
    household = register()
    full_history(household)
    household.collect_events()

    duplicate = copy.deepcopy(household)

    assert type(duplicate) is Household
    assert state(duplicate) == state(household)
    original_state, duplicate_state = state(household), state(duplicate)
    originals = {id(c) for _, c in containers(original_state)}
    shared = [path for path, c in containers(duplicate_state) if id(c) in originals]
    assert shared == []


def test_changing_a_copy_leaves_the_original_alone():
    household = register()
    household.collect_events()
    duplicate = copy.deepcopy(household)

    duplicate.correct_member(nik=household.head_nik, changes={"name": "Budi"}, reason="x", today=date(2026, 11, 28), actor="a")

    assert household.members[household.head_nik]["name"] == "Asep Sunandar"
    assert household.version == 1 and duplicate.version == 2
