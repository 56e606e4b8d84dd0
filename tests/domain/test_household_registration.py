"""Registering a household: the family card, its head, members, address and coordinates."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import DuplicateNIK, InvalidValue
from domain.household import ACTIVE, Household

from domain_builders import (
    HEAD_NIK,
    KK,
    OTHER_VILLAGE,
    VILLAGE,
    WIFE_NIK,
    address,
    child,
    head,
    register,
    wife,
)


def test_a_registered_household_holds_its_card_head_members_and_address():
    household = register(members=[wife(), child()])

    assert household.kk_number == KK
    assert household.status == ACTIVE
    assert household.head_nik == HEAD_NIK
    assert household.members[HEAD_NIK]["relationship"] == "kepala_keluarga"
    assert household.members[WIFE_NIK]["relationship"] == "istri"
    assert all(m["status"] == "present" for m in household.members.values())
    assert household.address == {"street": "Jl. Cileunyi No. 5", "rt": "003", "rw": "007", "village_code": VILLAGE}
    assert household.location == {"lat": -6.93, "lon": 107.72}
    assert household.previous_kk_numbers == []
    assert household.registered_by == "asep.pendamping"


def test_registration_records_one_registered_event_carrying_the_actor():
    household = register()
    events = household.collect_events()

    assert [type(e) for e in events] == [Household.Registered]
    assert events[0].actor == "asep.pendamping"
    assert events[0].kk_number == KK
    assert events[0].originator_version == 1


def test_registration_may_name_where_the_fact_came_from():
    event = register(source_ref="import:7:row:12").collect_events()[0]
    assert event.source_ref == "import:7:row:12"


@pytest.mark.parametrize("kk", ["320405010120000", "32040501012000011", "3204O50101200001", "0004050101200001"])
def test_a_household_with_a_malformed_kk_number_is_refused(kk):
    with pytest.raises(InvalidValue) as refusal:
        register(kk_number=kk)
    assert refusal.value.field == "kk_number"


def test_a_head_whose_nik_date_does_not_match_her_sex_is_refused():
    with pytest.raises(InvalidValue, match="does not match sex P") as refusal:
        register(head=head(sex="P"))
    assert refusal.value.field == "head.nik"


def test_a_member_whose_nik_date_is_not_a_real_date_is_refused_naming_the_member():
    with pytest.raises(InvalidValue, match="not a real date") as refusal:
        register(members=[wife(), child(nik="3204053106100003")])
    assert refusal.value.field == "members[1].nik"


def test_a_head_born_tomorrow_is_refused():
    with pytest.raises(InvalidValue, match="in the future") as refusal:
        register(head=head(birth_date=date(2026, 11, 29)))
    assert refusal.value.field == "head.birth_date"


def test_the_same_nik_twice_in_one_household_is_refused():
    with pytest.raises(DuplicateNIK) as refusal:
        register(members=[wife(), wife(name="Euis lagi")])
    assert refusal.value.field == "members[1].nik"


def test_a_member_with_the_head_s_nik_is_refused():
    with pytest.raises(DuplicateNIK):
        register(members=[child(nik=HEAD_NIK)])


def test_a_second_head_among_the_members_is_refused():
    with pytest.raises(InvalidValue, match="head is given separately"):
        register(members=[wife(relationship="kepala_keluarga")])


def test_a_member_without_a_known_relationship_is_refused():
    with pytest.raises(InvalidValue) as refusal:
        register(members=[wife(relationship="tetangga")])
    assert refusal.value.field == "members[0].relationship"


def test_members_that_are_not_a_list_are_refused():
    with pytest.raises(InvalidValue) as refusal:
        register(members={"nik": WIFE_NIK})
    assert refusal.value.field == "members"


@pytest.mark.parametrize("code", ["32.04.05", "32.04", "32.04.05.9999", "", None])
def test_an_address_in_a_village_that_does_not_exist_is_refused(code):
    with pytest.raises(InvalidValue, match="not a known village code") as refusal:
        register(address=address(village_code=code))
    assert refusal.value.field == "address.village_code"


def test_a_kelurahan_is_a_village_too():
    assert register(address=address(village_code=OTHER_VILLAGE)).address["village_code"] == OTHER_VILLAGE


@pytest.mark.parametrize("part", ["rt", "rw"])
@pytest.mark.parametrize("value", ["0", "1000", "a1", "", None, "-1"])
def test_rt_and_rw_must_be_numbers_from_1_to_999(part, value):
    with pytest.raises(InvalidValue, match="1 to 999") as refusal:
        register(address=address(**{part: value}))
    assert refusal.value.field == f"address.{part}"


@pytest.mark.parametrize(
    ("location", "field"),
    [
        ({"lat": 51.5, "lon": 107.7}, "location.lat"),
        ({"lat": -6.9, "lon": 2.3}, "location.lon"),
        ({"lat": "-6.9", "lon": 107.7}, "location.lat"),
        ({"lat": True, "lon": 107.7}, "location.lat"),
        ({"lat": float("nan"), "lon": 107.7}, "location.lat"),
        ([-6.9, 107.7], "location"),
    ],
)
def test_coordinates_outside_indonesia_or_not_numbers_are_refused(location, field):
    with pytest.raises(InvalidValue) as refusal:
        register(location=location)
    assert refusal.value.field == field


def test_coordinates_are_optional():
    assert register(location=None).location is None
