"""Bad input gets a problem document naming what is wrong, never a 500, and changes nothing.

Since a refusal changes nothing, one service and one household serve every case in this
module (building a service per case would cost most of the run); each test still
compares the household's version and events before and after its own request.
"""

from __future__ import annotations

from uuid import uuid4

import pytest

from api_helpers import CHILD, HEAD, PADASUKA, PASSWORD, WIFE, ApiClient, admin_client, module_service, registration
from domain.kk_index import kk_index_id
from service.app import create_app

PROBLEM_JSON = "application/problem+json"
ONE_MIB = 1024 * 1024
FRESH_KK = "3204050101200077"  # never registered in this module


@pytest.fixture(scope="module")
def konvergen():
    with module_service() as service:
        yield service


@pytest.fixture(scope="module")
def api(konvergen):
    return admin_client(konvergen)


@pytest.fixture(scope="module")
def household(api):
    response = api.post("/households", registration())
    assert response.status_code == 201, response.json
    return response.json["id"]


def fresh_registration(**changes) -> dict:
    return {**registration(kk_number=FRESH_KK), **changes}


def assert_fresh_kk_unregistered(konvergen, admin) -> None:
    with pytest.raises(Exception, match="not found"):
        konvergen.households.find_by_kk(admin, FRESH_KK)


def assert_problem(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == PROBLEM_JSON
    body = response.json
    assert body["status"] == status
    assert body["title"]
    if field is not None:
        assert field in body["errors"], body
        assert all(isinstance(message, str) and message for message in body["errors"][field])
    return body


@pytest.fixture
def planned(api, household):
    """The household with one planned intervention and one open follow-up: (intervention, follow-up)."""
    intervention = api.post(
        f"/households/{household}/interventions", {"programme": "pkh", "agency": "dinsos", "planned_on": "2026-11-01"}
    ).json["intervention_id"]
    follow_up = api.post(
        f"/households/{household}/follow-ups", {"due_on": "2026-12-05", "assigned_to": "admin", "purpose": "kunjungan"}
    ).json["follow_up_id"]
    return intervention, follow_up


CATEGORISATION = {"category": "miskin", "desil": 3, "source": "field_verification", "effective_on": "2026-11-01", "reason": "kunjungan"}
INTERVENTION = {"programme": "pkh", "agency": "dinsos", "planned_on": "2026-11-01", "value_idr": 1000}


def with_(body: dict, **changes) -> dict:
    return {**body, **changes}


# -- schema refusals: 422 naming the field ---------------------------------------------

HOUSEHOLD_BODY_ERRORS = [
    ("categorisations", with_(CATEGORISATION, colour="red"), "colour"),
    ("categorisations", with_(CATEGORISATION, category="sangat_miskin"), "category"),
    ("categorisations", with_(CATEGORISATION, source="rumor"), "source"),
    ("categorisations", with_(CATEGORISATION, desil=0), "desil"),
    ("categorisations", with_(CATEGORISATION, desil=11), "desil"),
    ("categorisations", with_(CATEGORISATION, desil="3"), "desil"),
    ("categorisations", with_(CATEGORISATION, desil=2.5), "desil"),
    ("categorisations", with_(CATEGORISATION, effective_on="2026-13-01"), "effective_on"),
    ("categorisations", with_(CATEGORISATION, effective_on="yesterday"), "effective_on"),
    ("categorisations", with_(CATEGORISATION, effective_on="2026-11-01T10:00:00"), "effective_on"),
    ("categorisations", with_(CATEGORISATION, reason=""), "reason"),
    ("categorisations", with_(CATEGORISATION, reason="x" * 2001), "reason"),
    ("categorisations", {k: v for k, v in CATEGORISATION.items() if k != "category"}, "category"),
    ("interventions", with_(INTERVENTION, value_idr=1.5), "value_idr"),
    ("interventions", with_(INTERVENTION, value_idr="1000"), "value_idr"),
    ("interventions", with_(INTERVENTION, value_idr=True), "value_idr"),
    ("interventions", with_(INTERVENTION, value_idr=-1), "value_idr"),
    ("interventions", with_(INTERVENTION, value_idr=10**12 + 1), "value_idr"),
    ("interventions", with_(INTERVENTION, notes="tahap\x004"), "notes"),
    ("interventions", with_(INTERVENTION, strategy="bagi_bagi"), "strategy"),
    ("interventions", with_(INTERVENTION, notes="x" * 2001), "notes"),
    ("interventions", with_(INTERVENTION, programme=["pkh"]), "programme"),
    ("members", with_(WIFE, relationship="bos"), "relationship"),
    ("members", with_(WIFE, sex="M"), "sex"),
    ("members", with_(WIFE, name="x" * 201), "name"),
    ("members", with_(WIFE, birth_date=19850721), "birth_date"),
    ("identification", {"location": {"lat": "-6.9", "lon": 107.7}, "reason": "titik"}, "location.lat"),
    ("identification", {"address": {"rt": "1234"}, "reason": "rt"}, "address.rt"),
    ("identification", {"address": {"kelurahan": "x"}, "reason": "rt"}, "address.kelurahan"),
    ("kk-change", {"new_kk_number": "3204050101200002", "reason": "lost"}, "reason"),
    ("follow-ups", {"due_on": "2026-12-05", "assigned_to": "", "purpose": "kunjungan"}, "assigned_to"),
    ("graduation", {"effective_on": "2026-11-01"}, "reason"),
    ("closure", {"reason": "bored", "effective_on": "2026-11-01"}, "reason"),
    ("reopening", {"reason": "x", "by": "me"}, "by"),
]


@pytest.mark.parametrize(("endpoint", "body", "field"), HOUSEHOLD_BODY_ERRORS)
def test_an_invalid_field_is_refused_with_422_naming_it_and_nothing_is_recorded(api, household, state, endpoint, body, field):
    before = state(household)

    response = api.post(f"/households/{household}/{endpoint}", body)

    problem = assert_problem(response, 422, field)
    assert field in problem["detail"]
    assert state(household) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (fresh_registration(extra="x"), "extra"),
        (fresh_registration(head=dict(HEAD, religion="x")), "head.religion"),
        (fresh_registration(head=dict(HEAD, sex="laki-laki")), "head.sex"),
        (fresh_registration(head=dict(HEAD, name="Asep\x00")), "head.name"),
        (fresh_registration(location={"lat": float("nan"), "lon": 107.7}), "location.lat"),
        (fresh_registration(members=[WIFE, dict(CHILD, birth_date="05-01-2010")]), "members[1].birth_date"),
        (fresh_registration(address={"rt": "3", "rw": "7"}), "address.village_code"),
        (fresh_registration(location={"lat": -6.9}), "location.lon"),
        (fresh_registration(kk_number=3204050101200001), "kk_number"),
        ([fresh_registration()], "_schema"),
    ],
)
def test_an_invalid_registration_is_refused_with_422_naming_the_nested_field_and_registers_nothing(api, konvergen, admin, body, field):
    response = api.post("/households", body)

    assert_problem(response, 422, field)
    assert_fresh_kk_unregistered(konvergen, admin)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kk_number": "320405010120000"}, "kk_number"),
        ({"kk_number": "9904050101200001"}, "kk_number"),
        ({"head": dict(HEAD, nik="3204053203800001")}, "head.nik"),
        ({"head": dict(HEAD, sex="P")}, "head.nik"),
        ({"head": dict(HEAD, birth_date="2027-01-01")}, "head.birth_date"),
        ({"address": {"rt": "3", "rw": "7", "village_code": "32.04.99.9999"}}, "address.village_code"),
        ({"location": {"lat": 40.0, "lon": 107.7}}, "location.lat"),
        ({"members": [WIFE, dict(CHILD, nik=WIFE["nik"], sex="P")]}, "members[1].nik"),
    ],
)
def test_a_registration_breaking_a_domain_rule_is_refused_with_422_naming_the_field(api, konvergen, admin, changes, field):
    response = api.post("/households", fresh_registration(**changes))

    assert_problem(response, 422, field)
    assert_fresh_kk_unregistered(konvergen, admin)


@pytest.mark.parametrize(
    ("endpoint", "body", "field"),
    [
        ("interventions", with_(INTERVENTION, programme="bansos_fiktif"), "programme"),
        ("interventions", with_(INTERVENTION, agency="dinkes"), "agency"),
        ("interventions", with_(INTERVENTION, delivered_on="2026-12-01"), "delivered_on"),
        ("categorisations", with_(CATEGORISATION, effective_on="2026-12-01"), "effective_on"),
        ("follow-ups", {"due_on": "2026-11-01", "assigned_to": "admin", "purpose": "kunjungan"}, "due_on"),
        ("follow-ups", {"due_on": "2026-12-05", "assigned_to": "nobody", "purpose": "kunjungan"}, "assigned_to"),
        ("members", with_(WIFE, nik=HEAD["nik"], sex="L"), "nik"),
        ("identification", {"head_name": HEAD["name"], "reason": "sama"}, "changes"),
    ],
)
def test_a_change_breaking_a_domain_rule_is_refused_with_422_naming_the_field_and_records_nothing(api, household, state, endpoint, body, field):
    before = state(household)

    response = api.post(f"/households/{household}/{endpoint}", body)

    assert_problem(response, 422, field)
    assert state(household) == before


# -- transport refusals: 400, 413, 415 -------------------------------------------------


def test_a_malformed_json_body_is_refused_with_400_and_records_nothing(api, household, state):
    before = state(household)

    response = api.post(
        f"/households/{household}/categorisations", data='{"category": "miskin",', headers={"Content-Type": "application/json"}
    )

    problem = assert_problem(response, 400)
    assert "JSON" in problem["detail"]
    assert state(household) == before


def test_a_body_that_is_not_json_is_refused_with_415_and_records_nothing(api, household, state):
    before = state(household)

    response = api.post(
        f"/households/{household}/categorisations", data={"category": "miskin"}, content_type="application/x-www-form-urlencoded"
    )

    assert_problem(response, 415)
    assert state(household) == before


def test_a_body_over_one_mebibyte_is_refused_with_413_and_records_nothing(api, household, state):
    before = state(household)
    body = '{"reason": "' + "x" * ONE_MIB + '"}'

    response = api.post(f"/households/{household}/reopening", data=body, headers={"Content-Type": "application/json"})

    assert_problem(response, 413)
    assert state(household) == before


def test_an_empty_json_body_is_refused_with_422_naming_the_required_fields(api, household, state):
    before = state(household)

    response = api.post(f"/households/{household}/graduation", data="", headers={"Content-Type": "application/json"})

    problem = assert_problem(response, 422, "effective_on")
    assert "reason" in problem["errors"]
    assert state(household) == before


# -- unknown ids: 404 ------------------------------------------------------------------


@pytest.mark.parametrize("household_id", [lambda: str(uuid4()), lambda: "not-a-uuid", lambda: "1"])
def test_an_unknown_or_malformed_household_id_answers_404_to_reads_and_writes(api, household, state, household_id):
    missing = household_id()
    before = state(household)

    assert_problem(api.get(f"/households/{missing}"), 404)
    assert_problem(api.get(f"/households/{missing}/history"), 404)
    assert_problem(api.post(f"/households/{missing}/categorisations", CATEGORISATION), 404)
    assert state(household) == before


def test_the_id_of_a_family_card_index_is_not_a_household_and_answers_404(api, household):
    index_id = kk_index_id(registration()["kk_number"])

    assert_problem(api.get(f"/households/{index_id}"), 404)
    assert_problem(api.post(f"/households/{index_id}/categorisations", CATEGORISATION), 404)


def test_a_registration_id_that_names_no_household_answers_404_to_a_change(api):
    response = api.post(f"/households/{uuid4()}/categorisations", CATEGORISATION)

    problem = assert_problem(response, 404)
    assert problem["code"] == "household_not_found"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("interventions/{unknown}/delivery", {"delivered_on": "2026-11-20"}),
        ("interventions/{unknown}/cancellation", {"reason": "ganda"}),
        ("follow-ups/{unknown}/completion", {"completed_on": "2026-11-20", "outcome": "ok"}),
        ("follow-ups/{unknown}/rescheduling", {"due_on": "2026-12-20", "reason": "nanti"}),
        ("follow-ups/{unknown}/cancellation", {"reason": "batal"}),
        ("members/{unknown}/correction", {"name": "Siapa", "reason": "?"}),
        ("members/{unknown}/departure", {"reason": "moved", "left_on": "2026-11-01"}),
    ],
)
def test_an_unknown_intervention_follow_up_or_member_answers_404_and_records_nothing(api, household, planned, state, path, body):
    before = state(household)

    response = api.post(f"/households/{household}/" + path.format(unknown="3204050000000000"), body)

    problem = assert_problem(response, 404)
    assert problem["code"] == "not_found"
    assert state(household) == before


def test_an_unknown_api_path_answers_a_404_problem(api):
    assert_problem(api.get("/nothing-here"), 404)


def test_a_method_the_resource_does_not_have_answers_405(api, household):
    assert_problem(api.client.delete(f"/api/v1/households/{household}", headers=api.headers()), 405)


# -- state refusals: 409 ----------------------------------------------------------------


def test_a_second_delivery_of_the_same_intervention_is_refused_with_409_and_records_nothing(api, household, planned, state):
    intervention, _ = planned
    first = api.post(f"/households/{household}/interventions/{intervention}/delivery", {"delivered_on": "2026-11-20"})
    assert first.status_code == 200
    before = state(household)

    second = api.post(f"/households/{household}/interventions/{intervention}/delivery", {"delivered_on": "2026-11-21"})

    problem = assert_problem(second, 409)
    assert problem["code"] == "invalid_state"
    assert "delivered" in problem["detail"]
    assert state(household) == before


@pytest.mark.parametrize(
    ("path", "body", "why"),
    [
        (f"members/{HEAD['nik']}/departure", {"reason": "moved", "left_on": "2026-11-01"}, "head"),
        ("graduation", {"effective_on": "2026-11-01", "reason": "mandiri"}, "once categorised miskin ekstrem"),
        ("reopening", {"reason": "salah"}, "only a closed household can be reopened"),
    ],
    ids=["the head of household departs", "a household never miskin ekstrem graduates", "an open household is reopened"],
)
def test_a_change_the_households_state_does_not_allow_is_a_409_naming_why(api, household, state, path, body, why):
    before = state(household)

    response = api.post(f"/households/{household}/{path}", body)

    problem = assert_problem(response, 409)
    assert why in problem["detail"]
    assert state(household) == before


# -- refusals of a follow-up, intervention or household in the wrong state -----------------

_registered = iter(range(100, 200))


@pytest.fixture
def own_household(api):
    """A household of this test alone, for refusals that need a change recorded first."""
    response = api.post("/households", registration(kk_number=f"3204050101200{next(_registered)}"))
    assert response.status_code == 201, response.json
    return response.json["id"]


def follow_up_of(api, household_id: str) -> str:
    response = api.post(
        f"/households/{household_id}/follow-ups", {"due_on": "2026-12-05", "assigned_to": "admin", "purpose": "kunjungan"}
    )
    assert response.status_code == 201, response.json
    return response.json["follow_up_id"]


FOLLOW_UP_CHANGES = {
    "completion": {"completed_on": "2026-11-20", "outcome": "dikunjungi"},
    "cancellation": {"reason": "batal"},
    "rescheduling": {"due_on": "2026-12-20", "reason": "nanti"},
}


@pytest.mark.parametrize("ending", ["completion", "cancellation"])
@pytest.mark.parametrize("change", sorted(FOLLOW_UP_CHANGES))
def test_a_follow_up_already_completed_or_cancelled_refuses_every_change_with_409(api, own_household, state, ending, change):
    follow_up = follow_up_of(api, own_household)
    ended = api.post(f"/households/{own_household}/follow-ups/{follow_up}/{ending}", FOLLOW_UP_CHANGES[ending])
    assert ended.status_code == 200, ended.json
    before = state(own_household)

    response = api.post(f"/households/{own_household}/follow-ups/{follow_up}/{change}", FOLLOW_UP_CHANGES[change])

    problem = assert_problem(response, 409)
    assert problem["code"] == "invalid_state"
    assert f"follow-up {follow_up} is already" in problem["detail"]
    assert state(own_household) == before


@pytest.mark.parametrize(
    ("change", "body", "field"),
    [
        ("completion", {"completed_on": "2026-11-20"}, "outcome"),
        ("completion", {"completed_on": "kemarin", "outcome": "ok"}, "completed_on"),
        ("cancellation", {}, "reason"),
        ("cancellation", {"reason": "batal", "by": "me"}, "by"),
        ("rescheduling", {"reason": "nanti"}, "due_on"),
        ("rescheduling", {"due_on": "2026-12-20", "reason": "nanti", "assigned_to": ""}, "assigned_to"),
    ],
)
def test_a_follow_up_change_with_a_bad_body_is_refused_with_422_naming_the_field(api, household, planned, state, change, body, field):
    _, follow_up = planned
    before = state(household)

    response = api.post(f"/households/{household}/follow-ups/{follow_up}/{change}", body)

    problem = assert_problem(response, 422, field)
    assert field in problem["detail"]
    assert state(household) == before


@pytest.mark.parametrize("change", sorted(FOLLOW_UP_CHANGES))
def test_a_case_worker_of_another_village_is_told_the_follow_up_does_not_exist(konvergen, api, household, planned, state, change):
    _, follow_up = planned
    outsider = user_client(konvergen, "case_worker", villages=[PADASUKA])
    before = state(household)

    response = outsider.post(f"/households/{household}/follow-ups/{follow_up}/{change}", FOLLOW_UP_CHANGES[change])

    assert_problem(response, 404)
    assert state(household) == before


@pytest.mark.parametrize("change", sorted(FOLLOW_UP_CHANGES))
def test_an_agency_officer_who_sees_the_household_may_not_change_its_follow_up_which_is_403(konvergen, household, planned, state, change):
    _, follow_up = planned
    officer = user_client(konvergen, "agency_officer", agency="dinsos")
    before = state(household)

    response = officer.post(f"/households/{household}/follow-ups/{follow_up}/{change}", FOLLOW_UP_CHANGES[change])

    problem = assert_problem(response, 403)
    assert problem["code"] == "forbidden"
    assert state(household) == before


def test_a_delivered_intervention_cannot_be_cancelled_which_is_a_409(api, own_household, state):
    intervention = api.post(f"/households/{own_household}/interventions", INTERVENTION).json["intervention_id"]
    assert api.post(f"/households/{own_household}/interventions/{intervention}/delivery", {"delivered_on": "2026-11-20"}).status_code == 200
    before = state(own_household)

    response = api.post(f"/households/{own_household}/interventions/{intervention}/cancellation", {"reason": "ganda"})

    problem = assert_problem(response, 409)
    assert problem["detail"] == f"intervention {intervention} is already delivered; that is final"
    assert state(own_household) == before


def test_an_agency_officer_may_not_cancel_another_agencys_intervention_which_is_a_403(konvergen, household, planned, state):
    intervention, _ = planned  # planned for dinsos
    officer = user_client(konvergen, "agency_officer", agency="dinkes")
    before = state(household)

    response = officer.post(f"/households/{household}/interventions/{intervention}/cancellation", {"reason": "ganda"})

    problem = assert_problem(response, 403)
    assert "dinkes" in problem["detail"] and "dinsos" in problem["detail"]
    assert state(household) == before


def test_a_member_correction_giving_only_what_is_recorded_is_refused_with_422_nothing_to_correct(api, household, state):
    before = state(household)

    response = api.post(f"/households/{household}/members/{HEAD['nik']}/correction", {"name": HEAD["name"], "reason": "sama"})

    problem = assert_problem(response, 422, "changes")
    assert "nothing to correct" in problem["detail"]
    assert state(household) == before


def test_a_household_cannot_graduate_twice_which_is_a_409(api, own_household, state):
    extreme = with_(CATEGORISATION, category="miskin_ekstrem", desil=1, effective_on="2026-10-01")
    assert api.post(f"/households/{own_household}/categorisations", extreme).status_code == 200
    graduation = {"effective_on": "2026-11-01", "reason": "mandiri"}
    assert api.post(f"/households/{own_household}/graduation", graduation).status_code == 200
    before = state(own_household)

    response = api.post(f"/households/{own_household}/graduation", graduation)

    problem = assert_problem(response, 409)
    assert problem["detail"] == "the household has already graduated"
    assert state(own_household) == before


def test_a_closed_household_cannot_be_closed_again_which_is_a_409(api, own_household, state):
    closure = {"reason": "moved_away", "effective_on": "2026-11-01"}
    assert api.post(f"/households/{own_household}/closure", closure).status_code == 200
    before = state(own_household)

    response = api.post(f"/households/{own_household}/closure", closure)

    problem = assert_problem(response, 409)
    assert "closed" in problem["detail"]
    assert state(own_household) == before


@pytest.mark.parametrize(
    ("role", "scope", "status"),
    [
        ("case_worker", {"villages": [PADASUKA]}, 404),
        ("supervisor", {"kecamatan": "32.04.06"}, 404),
        ("auditor", {}, 403),
        ("agency_officer", {"agency": "dinsos"}, 403),
    ],
)
def test_a_kk_change_by_a_user_who_may_not_make_it_is_refused_and_records_nothing(konvergen, household, state, role, scope, status):
    user = user_client(konvergen, role, **scope)
    before = state(household)

    response = user.post(f"/households/{household}/kk-change", {"new_kk_number": "3204050101200002", "reason": "reissue"})

    assert_problem(response, status)
    assert state(household) == before


@pytest.mark.parametrize("as_of", ["yesterday", "2026-13-01", "2026-11-01T25:00", "x" * 65, ""])
def test_a_summary_comparison_at_an_unreadable_instant_is_refused_with_422_naming_as_of(api, as_of):
    response = api.get("/audit/summary-comparison", query_string={"as_of": as_of})

    problem = assert_problem(response, 422, "as_of")
    assert "as_of" in problem["detail"]


_users = iter(range(1, 1000))


def user_client(konvergen, role: str, **scope) -> ApiClient:
    """A client for a new user of ``role`` in this module's service (names never repeat)."""
    username = f"{role.replace('_', '-')}-{next(_users)}"
    konvergen.users.create_user(username=username, password=PASSWORD, role=role, **scope)
    return ApiClient(create_app(konvergen, {"TESTING": True}).test_client(), konvergen.users.issue_token(username), username)
