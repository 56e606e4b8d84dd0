"""Every use case through the service layer: plain data in and out, one event per command."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import InvalidState, InvalidValue
from service.errors import HouseholdNotFound

from service_helpers import ADMIN, KK, assert_simple, head, plan, register


def test_every_use_case_answers_with_plain_data_and_moves_the_version_by_one(households, pendamping):
    results = []
    registered = register(households)
    hid = registered["id"]
    results.append(registered)

    def step(result):
        assert_simple(result)
        assert result["id"] == hid
        assert result["version"] == results[-1]["version"] + 1
        assert result["position"] > results[-1]["position"]
        results.append(result)
        return result

    step(households.add_member(ADMIN, hid, member={
        "nik": "3204055506850002", "name": "Euis", "sex": "P", "birth_date": date(1985, 6, 15), "relationship": "istri"}))
    step(households.correct_member(ADMIN, hid, "3204055506850002", changes={"name": "Euis Kurniasih"}, reason="KTP"))
    step(households.correct_identification(ADMIN, hid, head_name="Asep S.", reason="visit"))
    step(households.change_kk(ADMIN, hid, new_kk_number="3204050202210002", reason="reissue", effective_on=None))
    step(households.categorise(ADMIN, hid, category="miskin_ekstrem", desil=1, source="p3ke_dtsen_import",
                               effective_on=date(2026, 3, 1), reason="P3KE"))
    planned = step(plan(households, ADMIN, hid))
    assert isinstance(planned["intervention_id"], str)
    step(households.deliver_intervention(ADMIN, hid, planned["intervention_id"], delivered_on=date(2026, 11, 20)))
    other = step(plan(households, ADMIN, hid, programme="rtlh", agency="disperkim"))
    assert other["intervention_id"] != planned["intervention_id"]
    step(households.cancel_intervention(ADMIN, hid, other["intervention_id"], reason="double"))
    scheduled = step(households.schedule_follow_up(ADMIN, hid, due_on=date(2026, 12, 5), assigned_to=pendamping, purpose="visit"))
    fid = scheduled["follow_up_id"]
    step(households.reschedule_follow_up(ADMIN, hid, fid, due_on=date(2026, 12, 10), reason="away"))
    step(households.complete_follow_up(ADMIN, hid, fid, completed_on=date(2026, 11, 28), outcome="ok"))
    second = step(households.schedule_follow_up(ADMIN, hid, due_on=date(2026, 12, 5), assigned_to=pendamping, purpose="check"))
    step(households.cancel_follow_up(ADMIN, hid, second["follow_up_id"], reason="not needed"))
    step(households.record_member_left(ADMIN, hid, "3204055506850002", reason="moved", left_on=date(2026, 11, 1)))
    step(households.graduate(ADMIN, hid, effective_on=date(2026, 11, 28), reason="income"))
    step(households.close_household(ADMIN, hid, reason="moved_away", effective_on=date(2026, 11, 28)))
    step(households.reopen_household(ADMIN, hid, reason="came back"))

    household = households.get_household(ADMIN, hid)
    assert_simple(household)
    assert household["version"] == results[-1]["version"] == len(results) == 19
    assert household["kk_number"] == "3204050202210002"
    assert household["previous_kk_numbers"] == [KK]
    assert household["status"] == "graduated"
    assert household["category"]["category"] == "miskin_ekstrem"
    assert {i["status"] for i in household["interventions"]} == {"delivered", "cancelled"}
    assert {f["status"] for f in household["follow_ups"]} == {"completed", "cancelled"}

    history = households.history(ADMIN, hid)
    assert_simple(history)
    assert [e["version"] for e in history] == list(range(1, 20))
    assert history[0]["type"] == "Registered"
    assert {e["actor"] for e in history} == {"admin"}
    assert households.current_version(ADMIN, hid) == 19


def test_a_household_read_names_its_village_and_kecamatan(households, household_id):
    household = households.get_household(ADMIN, household_id)
    assert household["address"]["village_name"] == "Cileunyi Kulon"
    assert (household["address"]["kecamatan_code"], household["address"]["kecamatan_name"]) == ("32.04.05", "Cileunyi")
    assert household["head"] == {**head(), "name": "Asep Sunandar"}
    assert household["members"][0]["relationship"] == "kepala_keluarga"


def test_an_old_version_of_a_household_can_be_read(households, household_id):
    households.categorise(ADMIN, household_id, category="miskin", desil=3, source="field_verification",
                          effective_on=date(2026, 3, 1), reason="visit")
    assert households.get_household(ADMIN, household_id, version=1)["category"] is None
    assert households.get_household(ADMIN, household_id)["category"]["category"] == "miskin"


def test_a_household_is_found_by_its_family_card(households, household_id):
    assert households.find_by_kk(ADMIN, KK)["id"] == household_id
    with pytest.raises(HouseholdNotFound):
        households.find_by_kk(ADMIN, "3204059999999999")


@pytest.mark.parametrize("unknown", ["not-a-uuid", "6f1c1a8e-4a55-4e8a-9b7a-000000000000", ""])
def test_an_unknown_household_id_is_not_found(households, unknown):
    with pytest.raises(HouseholdNotFound):
        households.get_household(ADMIN, unknown)
    with pytest.raises(HouseholdNotFound):
        households.categorise(ADMIN, unknown, category="miskin", desil=None, source="field_verification",
                              effective_on=date(2026, 3, 1), reason="x")


def test_the_kk_index_is_not_a_household(households, household_id):
    from domain.kk_index import kk_index_id

    with pytest.raises(HouseholdNotFound):
        households.get_household(ADMIN, kk_index_id(KK))


def test_an_intervention_recorded_as_delivered_at_once_is_planned_and_delivered_in_one_command(households, household_id):
    result = plan(households, ADMIN, household_id, delivered_on=date(2026, 11, 2))
    assert result["version"] == 3
    (item,) = households.get_household(ADMIN, household_id)["interventions"]
    assert (item["status"], item["delivered_on"]) == ("delivered", date(2026, 11, 2))


def test_the_strategy_defaults_to_the_programme_s_own(households, household_id):
    plan(households, ADMIN, household_id, programme="rtlh", agency="disperkim")
    (item,) = households.get_household(ADMIN, household_id)["interventions"]
    assert item["strategy"] == "penurunan_kantong_kemiskinan"


def test_a_follow_up_must_be_assigned_to_an_existing_user(households, household_id, pendamping):
    with pytest.raises(InvalidValue, match="no user budi") as refusal:
        households.schedule_follow_up(ADMIN, household_id, due_on=date(2026, 12, 5), assigned_to="budi", purpose="visit")
    assert refusal.value.field == "assigned_to"
    fid = households.schedule_follow_up(ADMIN, household_id, due_on=date(2026, 12, 5), assigned_to=pendamping, purpose="visit")["follow_up_id"]
    with pytest.raises(InvalidValue, match="no user budi"):
        households.reschedule_follow_up(ADMIN, household_id, fid, due_on=date(2026, 12, 9), assigned_to="budi", reason="x")
    assert households.current_version(ADMIN, household_id) == 2


def test_a_domain_refusal_through_the_service_records_nothing(households, household_id):
    iid = plan(households, ADMIN, household_id)["intervention_id"]
    households.deliver_intervention(ADMIN, household_id, iid, delivered_on=date(2026, 11, 20))
    with pytest.raises(InvalidState, match="already delivered"):
        households.deliver_intervention(ADMIN, household_id, iid, delivered_on=date(2026, 11, 21))
    with pytest.raises(InvalidValue, match="in the future"):
        households.categorise(ADMIN, household_id, category="miskin", desil=None, source="field_verification",
                              effective_on=date(2026, 11, 29), reason="x")
    assert households.current_version(ADMIN, household_id) == 3
    assert len(list(households.events.get(households._load(household_id).id))) == 3


def test_today_comes_from_the_service_clock(households, household_id, clock):
    from datetime import datetime, timezone

    with pytest.raises(InvalidValue, match="in the future"):
        households.categorise(ADMIN, household_id, category="miskin", desil=None, source="field_verification",
                              effective_on=date(2026, 12, 1), reason="x")
    clock.move_to(datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc))
    households.categorise(ADMIN, household_id, category="miskin", desil=None, source="field_verification",
                          effective_on=date(2026, 12, 1), reason="x")


def test_a_reminder_already_recorded_is_said_so_and_writes_nothing(households, pendamping, monkeypatch):
    hid = register(households)["id"]
    follow_up = households.schedule_follow_up(
        ADMIN, hid, due_on=date(2026, 12, 5), assigned_to=pendamping, purpose="Kunjungan rumah"
    )["follow_up_id"]
    reminder = {"kind": "reminder_due", "follow_up_id": follow_up, "due_on": date(2026, 12, 5),
                "recipients": [pendamping], "channels": ["in_app"]}
    first = households.record_reminder(hid, **reminder)
    writes = []
    monkeypatch.setattr(households.recorder, "insert_events", lambda *a, **k: writes.append(a) or [])

    again = households.record_reminder(hid, **reminder)

    assert (first["recorded"], again["recorded"]) == (True, False)
    assert again["version"] == first["version"] and again["position"] is None
    assert writes == []
