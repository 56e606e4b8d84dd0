"""Every request names its user; scope decides what they see (404) and may change (403)."""

from __future__ import annotations

import pytest

from api_helpers import CILEUNYI_KULON, PADASUKA, WIFE, registration

PROBLEM_JSON = "application/problem+json"

# One change of each kind, with a valid body, for "may this user change it?" tests.
CHANGES = [
    ("categorisations", {"category": "miskin", "source": "field_verification", "effective_on": "2026-11-01", "reason": "kunjungan"}),
    ("members", WIFE),
    ("identification", {"head_name": "Asep S.", "reason": "ejaan"}),
    ("interventions", {"programme": "pkh", "agency": "dinsos", "planned_on": "2026-11-01"}),
    ("follow-ups", {"due_on": "2026-12-05", "assigned_to": "admin", "purpose": "kunjungan"}),
    ("closure", {"reason": "moved_away", "effective_on": "2026-11-01"}),
]


def assert_refused(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == PROBLEM_JSON
    return response.json


# -- authentication ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer kvg_not-a-real-token", "Basic YWRtaW46c2VjcmV0", "kvg_token-without-scheme"],
)
def test_a_request_without_a_valid_bearer_token_is_refused_with_401_and_records_nothing(api, anonymous, household, state, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    before = state(household)

    reads = [anonymous.get(f"/households/{household}", headers=headers), anonymous.get("/reference/regions", headers=headers)]
    write = anonymous.post(f"/households/{household}/categorisations", CHANGES[0][1], headers=headers)
    registration_attempt = anonymous.post("/households", registration(kk_number="3204050101200005"), headers=headers)

    for response in [*reads, write, registration_attempt]:
        assert_refused(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert state(household) == before


def test_the_openapi_document_and_health_check_need_no_token(anonymous):
    assert anonymous.get("/openapi.json").status_code == 200
    assert anonymous.get("/health").json == {"status": "ok"}


# -- case workers: their villages only ------------------------------------------------------


def test_a_case_worker_reads_and_changes_households_in_their_villages(make_client, household):
    worker = make_client("case_worker", villages=[CILEUNYI_KULON])

    assert worker.get(f"/households/{household}").status_code == 200
    response = worker.post(f"/households/{household}/members", WIFE)

    assert response.status_code == 200
    history = worker.get(f"/households/{household}/history").json
    assert history[-1]["actor"] == worker.username


def test_a_case_worker_outside_the_households_village_is_told_it_does_not_exist(make_client, household, state):
    outsider = make_client("case_worker", villages=[PADASUKA])
    before = state(household)

    assert assert_refused(outsider.get(f"/households/{household}"), 404)["code"] == "household_not_found"
    assert_refused(outsider.get(f"/households/{household}/history"), 404)
    for endpoint, body in CHANGES:
        assert_refused(outsider.post(f"/households/{household}/{endpoint}", body), 404)
    assert state(household) == before


def test_a_case_worker_may_not_register_a_household_outside_their_villages(make_client, konvergen, admin):
    outsider = make_client("case_worker", villages=[PADASUKA])

    problem = assert_refused(outsider.post("/households", registration()), 403)

    assert problem["code"] == "forbidden"
    with pytest.raises(Exception, match="not found"):
        konvergen.households.find_by_kk(admin, registration()["kk_number"])


def test_a_supervisor_of_another_kecamatan_is_told_the_household_does_not_exist(make_client, household):
    supervisor = make_client("supervisor", kecamatan="32.04.06")

    assert_refused(supervisor.get(f"/households/{household}"), 404)


def test_a_supervisor_of_the_households_kecamatan_may_read_and_change_it(make_client, household):
    supervisor = make_client("supervisor", kecamatan="32.04.05")

    assert supervisor.get(f"/households/{household}").status_code == 200
    assert supervisor.post(f"/households/{household}/members", WIFE).status_code == 200


# -- auditors: read everything, change nothing -----------------------------------------------


def test_an_auditor_reads_any_household_and_its_history(make_client, household):
    auditor = make_client("auditor")

    assert auditor.get(f"/households/{household}").status_code == 200
    assert auditor.get(f"/households/{household}/history").status_code == 200


@pytest.mark.parametrize(("endpoint", "body"), CHANGES)
def test_an_auditors_change_is_refused_with_403_and_records_nothing(make_client, household, state, endpoint, body):
    auditor = make_client("auditor")
    before = state(household)

    problem = assert_refused(auditor.post(f"/households/{household}/{endpoint}", body), 403)

    assert problem["code"] == "forbidden"
    assert state(household) == before


def test_an_auditor_may_not_register_a_household(make_client):
    auditor = make_client("auditor")

    assert_refused(auditor.post("/households", registration()), 403)


# -- agency officers: their agency's interventions, anywhere ---------------------------------


def test_an_agency_officer_plans_and_delivers_their_own_agencys_intervention_anywhere(make_client, household):
    officer = make_client("agency_officer", agency="dinsos")

    planned = officer.post(f"/households/{household}/interventions", {"programme": "pkh", "agency": "dinsos", "planned_on": "2026-11-01"})
    assert planned.status_code == 201
    delivered = officer.post(
        f"/households/{household}/interventions/{planned.json['intervention_id']}/delivery", {"delivered_on": "2026-11-20"}
    )

    assert delivered.status_code == 200
    (intervention,) = officer.get(f"/households/{household}").json["interventions"]
    assert (intervention["status"], intervention["recorded_by"]) == ("delivered", officer.username)


def test_an_agency_officer_may_not_plan_another_agencys_intervention(make_client, household, state):
    officer = make_client("agency_officer", agency="dinsos")
    before = state(household)

    response = officer.post(f"/households/{household}/interventions", {"programme": "pbi_jk", "agency": "dinkes", "planned_on": "2026-11-01"})

    assert "dinkes" in assert_refused(response, 403)["detail"]
    assert state(household) == before


def test_an_agency_officer_may_not_deliver_another_agencys_intervention(api, make_client, household, state):
    planned = api.post(f"/households/{household}/interventions", {"programme": "pbi_jk", "agency": "dinkes", "planned_on": "2026-11-01"})
    officer = make_client("agency_officer", agency="dinsos")
    before = state(household)

    response = officer.post(
        f"/households/{household}/interventions/{planned.json['intervention_id']}/delivery", {"delivered_on": "2026-11-20"}
    )

    assert_refused(response, 403)
    assert state(household) == before


@pytest.mark.parametrize(("endpoint", "body"), [change for change in CHANGES if change[0] != "interventions"])
def test_an_agency_officer_may_not_change_anything_but_interventions(make_client, household, state, endpoint, body):
    officer = make_client("agency_officer", agency="dinsos")
    before = state(household)

    assert_refused(officer.post(f"/households/{household}/{endpoint}", body), 403)
    assert state(household) == before
