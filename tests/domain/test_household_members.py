"""Who belongs to the household, where it lives, and which family card it holds."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import DuplicateNIK, InvalidState, InvalidValue, NotFound
from domain.household import Household

from domain_builders import (
    CHILD_NIK,
    HEAD_NIK,
    KK,
    OTHER_KK,
    OTHER_VILLAGE,
    REGIONS,
    TODAY,
    WIFE_NIK,
    child,
)


def add_child(household, **overrides):
    command = {"member": child(), "joined_on": date(2010, 7, 1), "today": TODAY, "actor": "asep.pendamping"}
    command.update(overrides)
    household.add_member(**command)


def leave(household, **overrides):
    command = {"nik": WIFE_NIK, "reason": "moved", "left_on": date(2026, 10, 1), "today": TODAY, "actor": "asep.pendamping"}
    command.update(overrides)
    household.record_member_left(**command)


def change_kk(household, **overrides):
    command = {"new_kk_number": OTHER_KK, "reason": "pecah_kk", "effective_on": date(2026, 10, 1), "today": TODAY, "actor": "admin"}
    command.update(overrides)
    household.change_kk(**command)


# -- members -------------------------------------------------------------------


def test_a_member_added_is_present_with_their_relationship(household):
    add_child(household)

    assert household.members[CHILD_NIK]["relationship"] == "anak"
    assert household.members[CHILD_NIK]["status"] == "present"
    (event,) = household.collect_events()
    assert isinstance(event, Household.MemberAdded)
    assert event.actor == "asep.pendamping"
    assert event.joined_on == date(2010, 7, 1)


def test_a_nik_already_in_the_household_cannot_be_added_again(household):
    with pytest.raises(DuplicateNIK):
        add_child(household, member=child(nik=WIFE_NIK, sex="P"))


def test_a_second_head_cannot_be_added(household):
    with pytest.raises(InvalidValue, match="one head"):
        add_child(household, member=child(relationship="kepala_keluarga"))


def test_a_member_who_joins_in_the_future_is_refused(household):
    with pytest.raises(InvalidValue, match="in the future") as refusal:
        add_child(household, joined_on=date(2027, 1, 1))
    assert refusal.value.field == "joined_on"


def test_a_member_born_in_the_future_is_refused(household):
    with pytest.raises(InvalidValue, match="in the future") as refusal:
        add_child(household, member=child(birth_date=date(2026, 12, 1)))
    assert refusal.value.field == "member.birth_date"


def test_a_member_s_details_are_corrected_and_only_the_difference_recorded(household):
    household.correct_member(
        nik=WIFE_NIK, changes={"name": "Euis  Kurniasih", "birth_date": date(1985, 6, 16)},
        reason="KTP checked", today=TODAY, actor="asep.pendamping",
    )

    (event,) = household.collect_events()
    assert event.changes == {"birth_date": date(1985, 6, 16)}
    assert household.members[WIFE_NIK]["birth_date"] == date(1985, 6, 16)


def test_correcting_a_nik_moves_the_member_to_the_new_number(household):
    household.correct_member(
        nik=HEAD_NIK, changes={"nik": "3204051203800009"}, reason="typo", today=TODAY, actor="admin"
    )

    assert HEAD_NIK not in household.members
    assert household.head_nik == "3204051203800009"
    assert household.members["3204051203800009"]["relationship"] == "kepala_keluarga"


def test_a_correction_to_a_nik_that_another_member_holds_is_refused(household):
    add_child(household)
    with pytest.raises(DuplicateNIK):
        household.correct_member(nik=CHILD_NIK, changes={"nik": HEAD_NIK}, reason="typo", today=TODAY, actor="admin")


def test_a_correction_that_makes_the_nik_disagree_with_sex_is_refused(household):
    with pytest.raises(InvalidValue, match="does not match sex"):
        household.correct_member(nik=WIFE_NIK, changes={"sex": "L"}, reason="typo", today=TODAY, actor="admin")


def test_a_correction_that_changes_nothing_is_refused(household):
    with pytest.raises(InvalidValue, match="nothing to correct"):
        household.correct_member(nik=WIFE_NIK, changes={"name": "Euis Kurniasih"}, reason="x", today=TODAY, actor="admin")


def test_a_correction_of_a_field_that_is_not_a_member_detail_is_refused(household):
    with pytest.raises(InvalidValue, match="cannot be corrected here") as refusal:
        household.correct_member(nik=WIFE_NIK, changes={"status": "left"}, reason="x", today=TODAY, actor="admin")
    assert refusal.value.field == "status"


def test_the_head_stays_the_head_through_a_correction(household):
    with pytest.raises(InvalidValue, match="stays kepala_keluarga"):
        household.correct_member(nik=HEAD_NIK, changes={"relationship": "anak"}, reason="x", today=TODAY, actor="admin")


def test_correcting_someone_who_is_not_a_member_is_refused(household):
    with pytest.raises(NotFound):
        household.correct_member(nik=CHILD_NIK, changes={"name": "X"}, reason="x", today=TODAY, actor="admin")


def test_a_member_who_left_keeps_their_record_with_the_reason_and_date(household):
    leave(household, reason="married_out")

    member = household.members[WIFE_NIK]
    assert (member["status"], member["left_reason"], member["left_on"]) == ("left", "married_out", date(2026, 10, 1))


def test_a_member_who_left_and_comes_back_is_added_again_and_present(household):
    leave(household, reason="moved")
    wife = dict(household.members[WIFE_NIK])

    add_child(household, member=child(nik=WIFE_NIK, name=wife["name"], sex="P", birth_date=date(1985, 6, 15),
                                      relationship="istri"), joined_on=date(2026, 11, 1))

    member = household.members[WIFE_NIK]
    assert (member["status"], member["relationship"]) == ("present", "istri")
    assert "left_reason" not in member
    assert [type(e).__name__ for e in household.collect_events()][-2:] == ["MemberLeft", "MemberAdded"]


def test_a_member_who_came_back_can_leave_again(household):
    leave(household)
    add_child(household, member=child(nik=WIFE_NIK, sex="P", birth_date=date(1985, 6, 15), relationship="istri"))

    leave(household, reason="married_out", left_on=date(2026, 11, 20))

    assert household.members[WIFE_NIK]["left_reason"] == "married_out"


def test_a_member_cannot_leave_twice(household):
    leave(household)
    with pytest.raises(InvalidState, match="already left"):
        leave(household)


def test_a_departure_in_the_future_is_refused(household):
    with pytest.raises(InvalidValue, match="in the future") as refusal:
        leave(household, left_on=date(2026, 11, 29))
    assert refusal.value.field == "left_on"


def test_a_departure_for_an_unknown_reason_is_refused(household):
    with pytest.raises(InvalidValue) as refusal:
        leave(household, reason="holiday")
    assert refusal.value.field == "reason"


def test_the_head_cannot_leave_the_case_file(household):
    with pytest.raises(InvalidState, match="head of household cannot leave"):
        leave(household, nik=HEAD_NIK)


def test_someone_who_is_not_a_member_cannot_leave(household):
    with pytest.raises(NotFound):
        leave(household, nik=CHILD_NIK)


# -- identification ------------------------------------------------------------


def test_an_address_correction_records_the_new_address_and_the_reason(household):
    household.correct_identification(
        address={"village_code": OTHER_VILLAGE, "rt": "12"}, reason="moved within the kabupaten",
        regions=REGIONS, actor="admin",
    )

    assert household.address["village_code"] == OTHER_VILLAGE
    assert household.address["rt"] == "012"
    assert household.address["rw"] == "007"  # untouched parts stay
    (event,) = household.collect_events()
    assert event.reason == "moved within the kabupaten"
    assert set(event.changes) == {"address"}


def test_an_address_correction_to_an_unknown_village_is_refused(household):
    with pytest.raises(InvalidValue, match="not a known village"):
        household.correct_identification(address={"village_code": "32.04.99.2001"}, reason="x", regions=REGIONS, actor="a")


def test_the_head_s_name_and_coordinates_can_be_corrected(household):
    household.correct_identification(
        head_name="Asep  Sunandar Saputra", location={"lat": -7.0, "lon": 107.6}, reason="field visit",
        regions=REGIONS, actor="admin",
    )
    assert household.members[HEAD_NIK]["name"] == "Asep Sunandar Saputra"
    assert household.location == {"lat": -7.0, "lon": 107.6}


def test_coordinates_can_be_cleared(household):
    household.correct_identification(clear_location=True, reason="wrong pin", regions=REGIONS, actor="admin")
    assert household.location is None


def test_an_identification_correction_without_a_reason_is_refused(household):
    with pytest.raises(InvalidValue) as refusal:
        household.correct_identification(head_name="Budi", reason=" ", regions=REGIONS, actor="admin")
    assert refusal.value.field == "reason"


def test_an_identification_correction_that_changes_nothing_is_refused(household):
    with pytest.raises(InvalidValue, match="nothing to correct"):
        household.correct_identification(address={"rt": "003"}, reason="x", regions=REGIONS, actor="admin")


# -- family card ---------------------------------------------------------------


def test_a_kk_change_keeps_the_old_number_in_previous_kk_numbers(household):
    change_kk(household)

    assert household.kk_number == OTHER_KK
    assert household.previous_kk_numbers == [KK]
    (event,) = household.collect_events()
    assert (event.old_kk_number, event.new_kk_number, event.actor) == (KK, OTHER_KK, "admin")


def test_successive_kk_changes_keep_every_old_number_in_order(household):
    change_kk(household)
    change_kk(household, new_kk_number="3204050303220003", reason="reissue")
    assert household.previous_kk_numbers == [KK, OTHER_KK]


def test_a_kk_change_to_the_current_number_is_refused(household):
    with pytest.raises(InvalidValue, match="current KK"):
        change_kk(household, new_kk_number=KK)


def test_a_kk_change_to_a_malformed_number_is_refused(household):
    with pytest.raises(InvalidValue) as refusal:
        change_kk(household, new_kk_number="123")
    assert refusal.value.field == "new_kk_number"


def test_a_kk_change_effective_in_the_future_is_refused(household):
    with pytest.raises(InvalidValue, match="in the future") as refusal:
        change_kk(household, effective_on=date(2026, 12, 1))
    assert refusal.value.field == "effective_on"


def test_a_kk_change_for_an_unknown_reason_is_refused(household):
    with pytest.raises(InvalidValue) as refusal:
        change_kk(household, reason="whim")
    assert refusal.value.field == "reason"
