"""The views through the JSON API: every endpoint answers within the reader's scope."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from argon2 import PasswordHasher

from projection_builders import CILEUNYI, CILEUNYI_KULON, CILEUNYI_WETAN, PADASUKA, Cases
from projections.runner import start_projections

PASSWORD = "correct horse battery"
ENDPOINTS = ("/households", "/monitoring/summary", "/follow-ups", "/audit/events", "/projections/status")


class Reader:
    def __init__(self, client, token: str):
        self.client = client
        self.token = token

    def get(self, path: str, **query):
        return self.client.get(f"/api/v1{path}", query_string=query, headers={"Authorization": f"Bearer {self.token}"})


@pytest.fixture(scope="module")
def service():
    """One service for the module: three households in two kecamatan, one user per role."""
    from service.app import create_app
    from service.clock import FixedClock
    from service.container import Konvergen

    with pytest.MonkeyPatch.context() as patch:
        # These tests are about scope, not about argon2's cost.
        patch.setattr("service.users._hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        konvergen = Konvergen("memory://", clock=FixedClock(datetime(2026, 11, 28, 3, 0, tzinfo=timezone.utc)))
        start_projections(konvergen)
        cases = Cases(konvergen)
        households = {}
        for name, village in (("Kulon", CILEUNYI_KULON), ("Wetan", CILEUNYI_WETAN), ("Padasuka", PADASUKA)):
            household = households[name] = cases.register(name=f"Warga {name}", village=village)
            cases.categorise(household, "miskin_ekstrem")
            cases.plan(household, "pkh", "dinsos", delivered_on=date(2026, 11, 20))
            cases.schedule(household, due_on=date(2026, 12, 5), assignee=f"pendamping.{name.lower()}")
        app = create_app(konvergen, {"TESTING": True})
        users = {
            "admin": {"role": "admin"},
            "pendamping": {"role": "case_worker", "villages": [CILEUNYI_KULON]},
            "camat": {"role": "supervisor", "kecamatan": CILEUNYI},
            "auditor": {"role": "auditor"},
            "dinsos": {"role": "agency_officer", "agency": "dinsos"},
        }
        readers = {}
        for username, scope in users.items():
            konvergen.users.create_user(username=username, password=PASSWORD, **scope)
            readers[username] = Reader(app.test_client(), konvergen.users.issue_token(username))
        konvergen.wait_for(konvergen.households.recorder.max_notification_id())
        yield {"konvergen": konvergen, "households": households, "readers": readers, "app": app}
        konvergen.close()


@pytest.fixture(scope="module")
def readers(service):
    return service["readers"]


@pytest.fixture(scope="module")
def households(service):
    return service["households"]


def names(response) -> list[str]:
    assert response.status_code == 200, response.json
    return sorted(item["head_name"] for item in response.json["items"])


@pytest.mark.parametrize(
    "reader, visible",
    [
        ("pendamping", ["Warga Kulon"]),
        ("camat", ["Warga Kulon", "Warga Wetan"]),
        ("auditor", ["Warga Kulon", "Warga Padasuka", "Warga Wetan"]),
        ("dinsos", ["Warga Kulon", "Warga Padasuka", "Warga Wetan"]),
        ("admin", ["Warga Kulon", "Warga Padasuka", "Warga Wetan"]),
    ],
)
def test_the_register_lists_only_households_in_the_readers_scope(readers, reader, visible):
    assert names(readers[reader].get("/households")) == visible
    assert names(readers[reader].get("/households", q="warga")) == visible
    assert names(readers[reader].get("/households", kecamatan="32.04.06")) == [n for n in visible if n == "Warga Padasuka"]


def test_a_register_row_carries_iso_dates_and_the_derived_overdue_flag(readers, households):
    [row] = readers["admin"].get("/households", q="Warga Kulon").json["items"]

    assert row["id"] == households["Kulon"]
    assert row["next_follow_up_on"] == "2026-12-05"
    assert row["has_overdue_follow_up"] is False
    assert (row["delivered_interventions"], row["delivering_agencies"]) == (1, 1)
    assert row["village_name"] == "Cileunyi Kulon"


@pytest.mark.parametrize("reader, households, persons", [("pendamping", 1, 2), ("camat", 2, 4), ("admin", 3, 6)])
def test_monitoring_counts_only_the_readers_area(readers, reader, households, persons):
    summary = readers[reader].get("/monitoring/summary")

    assert summary.status_code == 200, summary.json
    assert summary.json["totals"] == {"households": households, "persons": persons}
    assert summary.json["progress"]["baseline_extreme"] == households
    assert sum(i["interventions"] for i in summary.json["interventions"]) == households
    assert summary.json["convergence"]["reached_by_agencies"]["1"] == households


def test_a_supervisor_asking_for_another_kecamatan_sees_no_numbers_from_it(readers):
    summary = readers["camat"].get("/monitoring/summary", kecamatan="32.04.06").json

    assert summary["totals"] == {"households": 0, "persons": 0}
    assert summary["interventions"] == []


@pytest.mark.parametrize("reader, visible", [("pendamping", 1), ("camat", 2), ("auditor", 3)])
def test_follow_ups_are_listed_within_the_readers_scope(readers, reader, visible):
    response = readers[reader].get("/follow-ups", status="due-soon")

    assert response.status_code == 200, response.json
    assert len(response.json["items"]) == visible
    assert readers[reader].get("/follow-ups", status="overdue").json["items"] == []


def test_follow_ups_filter_by_assignee(readers):
    [item] = readers["admin"].get("/follow-ups", assignee="pendamping.wetan").json["items"]

    assert (item["village_code"], item["due_on"], item["overdue"]) == (CILEUNYI_WETAN, "2026-12-05", False)


@pytest.mark.parametrize("reader, visible", [("pendamping", 1), ("camat", 2), ("auditor", 3)])
def test_the_audit_trail_shows_only_events_of_households_in_scope(readers, households, reader, visible):
    response = readers[reader].get("/audit/events", event_type="Registered")

    assert response.status_code == 200, response.json
    assert len(response.json["items"]) == visible
    assert {item["household_id"] for item in response.json["items"]} <= set(households.values())


def test_the_audit_trail_filters_by_household_and_actor(readers, households):
    trail = readers["auditor"].get("/audit/events", household_id=households["Wetan"]).json["items"]

    assert [item["event_type"] for item in trail] == [
        "FollowUpScheduled", "InterventionDelivered", "InterventionPlanned", "Categorised", "Registered"
    ]
    assert readers["auditor"].get("/audit/events", actor="nobody").json["items"] == []


@pytest.mark.parametrize("reader", ["pendamping", "camat", "auditor", "dinsos"])
def test_the_projections_status_is_refused_to_anyone_but_administrators(readers, reader):
    response = readers[reader].get("/projections/status")

    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"


def test_administrators_see_each_projections_position_and_lag(readers, service):
    response = readers["admin"].get("/projections/status")

    assert response.status_code == 200
    head = service["konvergen"].households.recorder.max_notification_id()
    assert {row["name"]: (row["position"], row["lag_events"], row["stale"]) for row in response.json} == {
        name: (head, 0, False) for name in ("household_register", "monitoring", "follow_ups", "audit_trail")
    }


@pytest.mark.parametrize(
    "path, query, field",
    [
        ("/households", {"kecamatn": "32.04.05"}, "kecamatn"),
        ("/households", {"desil": "11"}, "desil"),
        ("/households", {"cursor": "bm90LWEtY3Vyc29y"}, "cursor"),
        ("/households", {"village": "32.04.99.9999"}, "village"),
        ("/monitoring/summary", {"kecamatan": "99.99"}, "kecamatan"),
        ("/follow-ups", {"status": "late"}, "status"),
        ("/audit/events", {"event_type": "Deleted"}, "event_type"),
        ("/audit/events", {"since": "yesterday"}, "since"),
    ],
)
def test_bad_filters_are_refused_with_422_naming_the_field(readers, path, query, field):
    response = readers["admin"].get(path, **query)

    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    assert field in response.json["errors"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_view_requires_a_token(service, path):
    response = service["app"].test_client().get(f"/api/v1{path}")

    assert response.status_code == 401


def test_a_household_registered_through_the_api_is_listed_on_the_very_next_request(service):
    admin = service["readers"]["admin"]
    body = {
        "kk_number": "3204050101209999",
        "head": {"nik": "3204051203809999", "name": "Baru Daftar", "sex": "L", "birth_date": "1980-03-12"},
        "address": {"street": "Jl. Baru", "rt": "1", "rw": "2", "village_code": CILEUNYI_KULON},
    }
    created = admin.client.post("/api/v1/households", json=body, headers={"Authorization": f"Bearer {admin.token}"})
    assert created.status_code == 201, created.json

    assert [item["id"] for item in admin.get("/households", q="Baru Daftar").json["items"]] == [created.json["id"]]
