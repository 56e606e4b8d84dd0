"""Every household endpoint's success path: status, headers, exact answer, effect on the read."""

from __future__ import annotations

from uuid import UUID

import pytest

from api_helpers import CHILD, CILEUNYI_KULON, CILEUNYI_WETAN, HEAD, KK, WIFE, registration

TODAY = "2026-11-28"  # the fixed clock, in WIB


def written(response, status: int, version: int, household_id: str, **sub_ids) -> dict:
    """Asserts a change's answer: status, ETag, exactly id + version (+ the new sub-id)."""
    assert response.status_code == status, response.json
    assert response.content_type == "application/json"
    assert response.headers["ETag"] == f'"{version}"'
    expected = {"id": household_id, "version": version}
    for name in sub_ids:
        expected[name] = response.json.get(name)
        assert isinstance(expected[name], str) and expected[name]
    assert response.json == expected
    return response.json


def read(api, household_id: str) -> dict:
    response = api.get(f"/households/{household_id}")
    assert response.status_code == 200, response.json
    return response.json


def plan(api, household_id: str, **changes):
    body = {"programme": "pkh", "agency": "dinsos", "planned_on": "2026-11-01", "value_idr": 750000, "notes": "tahap 4"}
    body.update(changes)
    return api.post(f"/households/{household_id}/interventions", body)


def schedule(api, household_id: str, **changes):
    body = {"due_on": "2026-12-05", "assigned_to": "admin", "purpose": "cek kondisi rumah"}
    body.update(changes)
    return api.post(f"/households/{household_id}/follow-ups", body)


# -- registration and reading ---------------------------------------------------------


def test_registering_a_household_answers_201_with_its_location_etag_id_and_version(api):
    response = api.post("/households", registration(members=[WIFE]))

    assert response.status_code == 201
    household_id = response.json["id"]
    assert UUID(household_id)
    assert response.json == {"id": household_id, "version": 1}
    assert response.headers["Location"] == f"/api/v1/households/{household_id}"
    assert response.headers["ETag"] == '"1"'


def test_reading_a_household_returns_every_contract_field_with_its_version_as_etag(api):
    household_id = api.post("/households", registration(members=[CHILD, WIFE])).json["id"]

    response = api.get(f"/households/{household_id}")

    assert response.status_code == 200
    assert response.headers["ETag"] == '"1"'
    body = response.json
    assert body["id"] == household_id
    assert body["version"] == 1
    assert body["kk_number"] == KK
    assert body["previous_kk_numbers"] == []
    assert body["status"] == "active"
    assert body["head"] == HEAD
    assert body["members"] == [
        dict(HEAD, relationship="kepala_keluarga", status="present"),
        dict(WIFE, status="present"),
        dict(CHILD, status="present"),
    ]
    assert body["address"] == {
        "street": "Jl. Cileunyi No. 5",
        "rt": "003",
        "rw": "007",
        "village_code": CILEUNYI_KULON,
        "village_name": "Cileunyi Kulon",
        "kecamatan_code": "32.04.05",
        "kecamatan_name": "Cileunyi",
    }
    assert body["location"] == {"lat": -6.93, "lon": 107.75}
    assert body["category"] is None
    assert body["categorisations"] == []
    assert body["interventions"] == []
    assert body["follow_ups"] == []
    assert body["graduation"] is None
    assert body["closure"] is None
    assert body["registered_by"] == "admin"


def test_a_household_may_be_registered_without_coordinates(api):
    household_id = api.post("/households", registration(location=None)).json["id"]

    assert read(api, household_id)["location"] is None


def test_the_history_lists_every_event_with_version_type_time_actor_and_iso_dates(api, household):
    api.post(
        f"/households/{household}/categorisations",
        {"category": "miskin_ekstrem", "desil": 1, "source": "p3ke_dtsen_import", "effective_on": "2026-03-01", "reason": "P3KE 2026"},
    )

    response = api.get(f"/households/{household}/history")

    assert response.status_code == 200
    registered, categorised = response.json
    assert registered["version"] == 1
    assert registered["type"] == "Registered"
    assert registered["actor"] == "admin"
    assert registered["recorded_at"].startswith(TODAY)
    assert registered["data"]["kk_number"] == KK
    assert registered["data"]["head"] == HEAD
    assert registered["data"]["address"]["village_code"] == CILEUNYI_KULON
    assert [change["text"] for change in categorised["changes"]] == [
        "category (none) -> miskin_ekstrem",
        "desil (none) -> 1",
        "category source (none) -> p3ke_dtsen_import",
        "category effective (none) -> 2026-03-01",
    ]
    assert categorised["summary"] == "Categorised miskin_ekstrem, desil 1 by p3ke_dtsen_import, effective 2026-03-01: P3KE 2026"
    assert categorised["effective_on"] == "2026-03-01"
    assert {k: categorised[k] for k in ("version", "type", "actor", "actor_role", "source_ref", "data")} == {
        "version": 2,
        "type": "Categorised",
        "actor": "admin",
        "actor_role": "admin",
        "source_ref": None,
        "data": {
            "category": "miskin_ekstrem",
            "desil": 1,
            "source": "p3ke_dtsen_import",
            "effective_on": "2026-03-01",
            "reason": "P3KE 2026",
        },
    }


# -- identification and members -------------------------------------------------------


def test_adding_a_member_answers_the_new_version_and_the_member_appears_present(api, household):
    response = api.post(f"/households/{household}/members", dict(WIFE, joined_on="2026-01-10"))

    written(response, 200, 2, household)
    assert dict(WIFE, status="present") in read(api, household)["members"]


def test_correcting_a_members_details_by_nik_changes_only_the_given_fields(api, household):
    api.post(f"/households/{household}/members", WIFE)

    response = api.post(
        f"/households/{household}/members/{WIFE['nik']}/correction",
        {"name": "Euis Komariyah", "reason": "ejaan sesuai KTP"},
    )

    written(response, 200, 3, household)
    wife = next(m for m in read(api, household)["members"] if m["nik"] == WIFE["nik"])
    assert wife == dict(WIFE, name="Euis Komariyah", status="present")


def test_a_members_nik_itself_can_be_corrected(api, household):
    api.post(f"/households/{household}/members", CHILD)
    corrected_nik = "3204050501100009"

    response = api.post(
        f"/households/{household}/members/{CHILD['nik']}/correction",
        {"nik": corrected_nik, "reason": "salah ketik NIK"},
    )

    written(response, 200, 3, household)
    niks = [m["nik"] for m in read(api, household)["members"]]
    assert corrected_nik in niks and CHILD["nik"] not in niks


def test_recording_a_departure_marks_the_member_as_left_with_reason_and_date(api, household):
    api.post(f"/households/{household}/members", CHILD)

    response = api.post(
        f"/households/{household}/members/{CHILD['nik']}/departure",
        {"reason": "moved", "left_on": "2026-10-01", "note": "kos di Jatinangor"},
    )

    written(response, 200, 3, household)
    child = next(m for m in read(api, household)["members"] if m["nik"] == CHILD["nik"])
    assert child == dict(CHILD, status="left", left_reason="moved", left_on="2026-10-01")


def test_correcting_identification_changes_only_the_given_address_parts_and_the_heads_name(api, household):
    response = api.post(
        f"/households/{household}/identification",
        {"address": {"rt": "4", "village_code": CILEUNYI_WETAN}, "head_name": "Asep Sunandar Saputra", "reason": "verifikasi lapangan"},
    )

    written(response, 200, 2, household)
    body = read(api, household)
    assert body["address"]["rt"] == "004"
    assert body["address"]["rw"] == "007"
    assert body["address"]["street"] == "Jl. Cileunyi No. 5"
    assert body["address"]["village_code"] == CILEUNYI_WETAN
    assert body["address"]["village_name"] == "Cileunyi Wetan"
    assert body["head"]["name"] == "Asep Sunandar Saputra"
    assert body["location"] == {"lat": -6.93, "lon": 107.75}


def test_an_identification_correction_with_location_null_removes_the_coordinates(api, household):
    response = api.post(f"/households/{household}/identification", {"location": None, "reason": "titik salah"})

    written(response, 200, 2, household)
    assert read(api, household)["location"] is None


def test_changing_the_kk_keeps_the_old_number_and_keeps_it_reserved_for_the_household(api, household):
    new_kk = "3204050101200002"

    response = api.post(
        f"/households/{household}/kk-change",
        {"new_kk_number": new_kk, "reason": "reissue", "effective_on": "2026-11-01"},
    )

    written(response, 200, 2, household)
    body = read(api, household)
    assert body["kk_number"] == new_kk
    assert body["previous_kk_numbers"] == [KK]
    again = api.post("/households", registration(kk_number=KK))
    assert again.status_code == 409
    assert again.json["existing_id"] == household


# -- categorisation -------------------------------------------------------------------


def test_categorising_makes_the_latest_effective_categorisation_the_current_category(api, household):
    later = {"category": "miskin", "desil": 2, "source": "field_verification", "effective_on": "2026-09-01", "reason": "kunjungan"}
    earlier = {"category": "miskin_ekstrem", "desil": None, "source": "p3ke_dtsen_import", "effective_on": "2026-03-01", "reason": "P3KE"}

    written(api.post(f"/households/{household}/categorisations", later), 200, 2, household)
    written(api.post(f"/households/{household}/categorisations", earlier), 200, 3, household)

    body = read(api, household)
    assert body["category"] == dict(later, recorded_by="admin", version=2)
    assert body["categorisations"] == [dict(later, recorded_by="admin", version=2), dict(earlier, recorded_by="admin", version=3)]


# -- interventions --------------------------------------------------------------------


def test_planning_an_intervention_answers_201_with_its_id_and_the_programmes_strategy_is_used(api, household):
    response = plan(api, household)

    answer = written(response, 201, 2, household, intervention_id=True)
    (intervention,) = read(api, household)["interventions"]
    assert intervention == {
        "id": answer["intervention_id"],
        "status": "planned",
        "programme": "pkh",
        "agency": "dinsos",
        "strategy": "pengurangan_beban",
        "planned_on": "2026-11-01",
        "delivered_on": None,
        "value_idr": 750000,
        "notes": "tahap 4",
        "cancelled_reason": None,
        "recorded_by": "admin",
    }


def test_an_intervention_with_delivered_on_is_recorded_planned_and_delivered_at_once(api, household):
    response = plan(api, household, delivered_on="2026-11-20")

    answer = written(response, 201, 3, household, intervention_id=True)
    (intervention,) = read(api, household)["interventions"]
    assert intervention["id"] == answer["intervention_id"]
    assert intervention["status"] == "delivered"
    assert intervention["delivered_on"] == "2026-11-20"


def test_delivering_an_intervention_records_the_date_value_and_notes(api, household):
    intervention_id = plan(api, household).json["intervention_id"]

    response = api.post(
        f"/households/{household}/interventions/{intervention_id}/delivery",
        {"delivered_on": "2026-11-20", "value_idr": 700000, "notes": "diterima ibu"},
    )

    written(response, 200, 3, household)
    (intervention,) = read(api, household)["interventions"]
    assert (intervention["status"], intervention["delivered_on"], intervention["value_idr"], intervention["notes"]) == (
        "delivered",
        "2026-11-20",
        700000,
        "diterima ibu",
    )


def test_cancelling_an_intervention_records_why(api, household):
    intervention_id = plan(api, household).json["intervention_id"]

    response = api.post(f"/households/{household}/interventions/{intervention_id}/cancellation", {"reason": "ganda"})

    written(response, 200, 3, household)
    (intervention,) = read(api, household)["interventions"]
    assert (intervention["status"], intervention["cancelled_reason"]) == ("cancelled", "ganda")


# -- follow-ups -----------------------------------------------------------------------


def test_scheduling_a_follow_up_answers_201_with_its_id_and_it_is_open_with_its_due_date(api, household):
    response = schedule(api, household)

    answer = written(response, 201, 2, household, follow_up_id=True)
    (follow_up,) = read(api, household)["follow_ups"]
    assert follow_up == {
        "id": answer["follow_up_id"],
        "status": "open",
        "due_on": "2026-12-05",
        "assigned_to": "admin",
        "purpose": "cek kondisi rumah",
        "completed_on": None,
        "outcome": None,
        "cancelled_reason": None,
        "scheduled_by": "admin",
    }


def test_rescheduling_a_follow_up_moves_its_due_date_and_may_reassign_it(api, household, make_client):
    make_client("case_worker", "pendamping", villages=[CILEUNYI_KULON])
    follow_up_id = schedule(api, household).json["follow_up_id"]

    response = api.post(
        f"/households/{household}/follow-ups/{follow_up_id}/rescheduling",
        {"due_on": "2026-12-12", "assigned_to": "pendamping", "reason": "keluarga sedang ke luar kota"},
    )

    written(response, 200, 3, household)
    (follow_up,) = read(api, household)["follow_ups"]
    assert (follow_up["due_on"], follow_up["assigned_to"], follow_up["status"]) == ("2026-12-12", "pendamping", "open")


def test_completing_a_follow_up_records_the_date_and_outcome(api, household):
    follow_up_id = schedule(api, household).json["follow_up_id"]

    response = api.post(
        f"/households/{household}/follow-ups/{follow_up_id}/completion",
        {"completed_on": TODAY, "outcome": "rumah sudah diperbaiki"},
    )

    written(response, 200, 3, household)
    (follow_up,) = read(api, household)["follow_ups"]
    assert (follow_up["status"], follow_up["completed_on"], follow_up["outcome"]) == ("completed", TODAY, "rumah sudah diperbaiki")


def test_cancelling_a_follow_up_records_why(api, household):
    follow_up_id = schedule(api, household).json["follow_up_id"]

    response = api.post(f"/households/{household}/follow-ups/{follow_up_id}/cancellation", {"reason": "sudah pindah"})

    written(response, 200, 3, household)
    (follow_up,) = read(api, household)["follow_ups"]
    assert (follow_up["status"], follow_up["cancelled_reason"]) == ("cancelled", "sudah pindah")


# -- lifecycle ------------------------------------------------------------------------


def test_a_household_once_extremely_poor_can_graduate(api, household):
    api.post(
        f"/households/{household}/categorisations",
        {"category": "miskin_ekstrem", "source": "p3ke_dtsen_import", "effective_on": "2026-03-01", "reason": "P3KE"},
    )

    response = api.post(f"/households/{household}/graduation", {"effective_on": "2026-11-15", "reason": "usaha berjalan"})

    written(response, 200, 3, household)
    body = read(api, household)
    assert body["status"] == "graduated"
    assert body["graduation"] == {"effective_on": "2026-11-15", "reason": "usaha berjalan"}


def test_closing_a_household_as_a_duplicate_refuses_further_changes_until_it_is_reopened(api, household):
    response = api.post(
        f"/households/{household}/closure",
        {"reason": "duplicate", "duplicate_of": "3204050101200009", "effective_on": "2026-11-20", "note": "KK ganda"},
    )

    written(response, 200, 2, household)
    body = read(api, household)
    assert body["status"] == "closed"
    assert body["closure"] == {"reason": "duplicate", "duplicate_of": "3204050101200009", "effective_on": "2026-11-20", "note": "KK ganda"}
    refused = plan(api, household)
    assert refused.status_code == 409
    assert refused.json["code"] == "household_closed"

    reopened = api.post(f"/households/{household}/reopening", {"reason": "bukan duplikat"})

    written(reopened, 200, 3, household)
    body = read(api, household)
    assert (body["status"], body["closure"]) == ("active", None)


@pytest.mark.parametrize("if_match", ['"1"', 'W/"1"', "1", "*"])
def test_a_change_based_on_the_current_version_is_accepted_in_every_if_match_form(api, household, if_match):
    response = api.post(
        f"/households/{household}/members", WIFE, headers={"If-Match": if_match}
    )

    written(response, 200, 2, household)


def test_every_change_waits_until_the_projections_reach_its_position_before_answering(api, household, konvergen, monkeypatch):
    positions = []
    monkeypatch.setattr(konvergen, "wait_for", lambda position, timeout=2.0: positions.append(position) or True)

    api.post(f"/households/{household}/members", WIFE)
    plan(api, household)
    api.post("/households", registration(kk_number="3204050101200002"))

    assert len(positions) == 3
    assert all(isinstance(position, int) for position in positions)
    assert positions == sorted(set(positions))
