"""If-Match and conflicts: a change based on an old version is refused and records nothing."""

from __future__ import annotations

import pytest

from api_helpers import KK, WIFE, registration

PROBLEM_JSON = "application/problem+json"
CATEGORISATION = {"category": "miskin", "source": "field_verification", "effective_on": "2026-11-01", "reason": "kunjungan"}


@pytest.mark.parametrize("stale", ['"1"', 'W/"1"', "1", '"7"'])
def test_a_change_based_on_a_stale_version_is_refused_with_409_naming_the_current_version(api, household, state, stale):
    api.post(f"/households/{household}/members", WIFE)  # someone else's change: now version 2
    before = state(household)

    response = api.post(f"/households/{household}/categorisations", CATEGORISATION, headers={"If-Match": stale})

    assert response.status_code == 409
    assert response.content_type == PROBLEM_JSON
    assert response.json["code"] == "version_conflict"
    assert response.json["current_version"] == 2
    assert response.headers["ETag"] == '"2"'
    assert "version 2" in response.json["detail"]
    assert state(household) == before


def test_after_a_conflict_the_change_succeeds_when_based_on_the_current_etag(api, household):
    api.post(f"/households/{household}/members", WIFE)
    current = api.get(f"/households/{household}").headers["ETag"]

    response = api.post(f"/households/{household}/categorisations", CATEGORISATION, headers={"If-Match": current})

    assert response.status_code == 200
    assert response.headers["ETag"] == '"3"'


@pytest.mark.parametrize("malformed", ["abc", '"1", "2"', '"-1"', '"1.5"', 'W/1', '""'])
def test_a_malformed_if_match_is_refused_with_400_naming_the_header_and_records_nothing(api, household, state, malformed):
    before = state(household)

    response = api.post(f"/households/{household}/categorisations", CATEGORISATION, headers={"If-Match": malformed})

    assert response.status_code == 400
    assert response.content_type == PROBLEM_JSON
    assert "If-Match" in response.json["errors"]
    assert "If-Match" in response.json["detail"]
    assert state(household) == before


def test_a_second_registration_of_the_same_kk_is_refused_with_409_naming_the_existing_household(api, household, konvergen, admin):
    response = api.post("/households", registration(head={"nik": "3204054101900004", "name": "Iis", "sex": "P", "birth_date": "1990-01-01"}))

    assert response.status_code == 409
    assert response.content_type == PROBLEM_JSON
    assert response.json["code"] == "duplicate_kk"
    assert response.json["existing_id"] == household
    assert response.headers["Location"] == f"/api/v1/households/{household}"
    assert KK in response.json["detail"]
    assert konvergen.households.find_by_kk(admin, KK)["id"] == household
    assert konvergen.households.find_by_kk(admin, KK)["head"]["name"] == "Asep Sunandar"


def test_changing_to_a_kk_another_household_holds_is_refused_with_409_and_its_id(api, household, state):
    other_kk = "3204050101200003"
    other = api.post(
        "/households",
        registration(kk_number=other_kk, head={"nik": "3204054101900004", "name": "Iis", "sex": "P", "birth_date": "1990-01-01"}),
    ).json["id"]
    before = state(household)

    response = api.post(f"/households/{household}/kk-change", {"new_kk_number": other_kk, "reason": "correction"})

    assert response.status_code == 409
    assert response.json["existing_id"] == other
    assert state(household) == before
