"""A few API calls against the real stores: a fresh SQLite file and PostgreSQL."""

from __future__ import annotations

import pytest

from api_helpers import KK, WIFE, ApiClient, registration
from service.app import create_app
from service.container import Konvergen


@pytest.fixture
def service(database_url, clock):
    konvergen = Konvergen(database_url, clock=clock)
    yield konvergen
    konvergen.close()


def client_for(konvergen: Konvergen, username: str) -> ApiClient:
    return ApiClient(create_app(konvergen, {"TESTING": True}).test_client(), konvergen.users.issue_token(username), username)


def test_a_household_registered_and_helped_through_the_api_is_read_back_after_a_restart(service, database_url, clock):
    service.users.create_user(username="operator", password="correct horse battery", role="admin")
    api = client_for(service, "operator")

    household = api.post("/households", registration()).json["id"]
    assert api.post(f"/households/{household}/members", WIFE, headers={"If-Match": '"1"'}).headers["ETag"] == '"2"'
    intervention = api.post(
        f"/households/{household}/interventions", {"programme": "pkh", "agency": "dinsos", "planned_on": "2026-11-01", "value_idr": 750000}
    ).json["intervention_id"]
    delivered = api.post(f"/households/{household}/interventions/{intervention}/delivery", {"delivered_on": "2026-11-20"})
    assert delivered.status_code == 200
    again = api.post(f"/households/{household}/interventions/{intervention}/delivery", {"delivered_on": "2026-11-21"})
    assert again.status_code == 409
    duplicate = api.post("/households", registration())
    assert (duplicate.status_code, duplicate.json["existing_id"]) == (409, household)

    restarted = Konvergen(database_url, clock=clock)
    try:
        body = client_for(restarted, "operator").get(f"/households/{household}")
        history = client_for(restarted, "operator").get(f"/households/{household}/history").json
    finally:
        restarted.close()

    assert body.status_code == 200
    assert body.headers["ETag"] == '"4"'
    assert body.json["kk_number"] == KK
    assert [m["nik"] for m in body.json["members"]][1] == WIFE["nik"]
    (item,) = body.json["interventions"]
    assert (item["id"], item["status"], item["delivered_on"], item["value_idr"]) == (intervention, "delivered", "2026-11-20", 750000)
    assert [(e["version"], e["type"], e["actor"]) for e in history] == [
        (1, "Registered", "operator"),
        (2, "MemberAdded", "operator"),
        (3, "InterventionPlanned", "operator"),
        (4, "InterventionDelivered", "operator"),
    ]
