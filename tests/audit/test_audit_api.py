"""The auditors' JSON API on a SQLite-backed service: roles, scope, answers, refusals."""

from __future__ import annotations

import csv
import io

import pytest

from audit_helpers import CILEUNYI, CILEUNYI_KULON, PADASUKA, Forger, categorise, days_later, plan, register
from service.app import create_app

PASSWORD = "correct horse battery"


class Client:
    def __init__(self, client, token: str, username: str):
        self.client, self.token, self.username = client, token, username

    def get(self, path: str, **query):
        return self.client.get(f"/api/v1{path}", query_string=query, headers={"Authorization": f"Bearer {self.token}"})


@pytest.fixture
def make_client(sqlite_store):
    app = create_app(sqlite_store, {"TESTING": True})

    def make(role: str, username: str | None = None, **scope) -> Client:
        username = username or role.replace("_", "-")
        sqlite_store.users.create_user(username=username, password=PASSWORD, role=role, display_name=username.title(), **scope)
        return Client(app.test_client(), sqlite_store.users.issue_token(username), username)

    return make


@pytest.fixture
def auditor(make_client):
    return make_client("auditor", "inspektorat")


@pytest.fixture
def household(sqlite_store, clock):
    households = sqlite_store.households
    household_id = register(households, 1)
    categorise(households, household_id, desil=3)
    days_later(clock, 1)
    categorise(households, household_id, desil=1)
    plan(households, household_id, delivered_on=clock.today())
    days_later(clock, 1)
    return household_id


def assert_problem(response, status: int, field: str | None = None):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    if field:
        assert field in response.json["errors"], response.json


def test_an_auditor_verifies_the_records_and_is_told_the_first_broken_link(sqlite_store, auditor, household):
    sound = auditor.get("/audit/verification")
    assert sound.status_code == 200
    assert sound.json["ok"] is True and sound.json["events_checked"] == 6 and sound.json["first_problem"] is None
    assert sound.json["sealed_through"] == "2026-11-29" and sound.json["last_seal_hash"]
    Forger(sqlite_store).delete(household, 3)
    broken = auditor.get("/audit/verification").json
    assert broken["ok"] is False and broken["problem_count"] == 1
    assert (broken["first_problem"]["kind"], broken["first_problem"]["household_id"], broken["first_problem"]["version"]) == (
        "missing_event", household, 3,
    )


def test_a_verification_that_fails_seals_nothing(sqlite_store, auditor, household, clock):
    Forger(sqlite_store).delete(household, 3)
    days_later(clock, 3)
    assert auditor.get("/audit/verification").json["ok"] is False
    assert auditor.get("/audit/seals").json == []


@pytest.mark.parametrize("role, scope", [("case_worker", {"villages": [CILEUNYI_KULON]}), ("agency_officer", {"agency": "dinsos"}), ("supervisor", {"kecamatan": CILEUNYI})])
def test_only_auditors_and_administrators_run_the_verification_or_read_the_access_log(make_client, household, role, scope):
    client = make_client(role, **scope)
    assert_problem(client.get("/audit/verification"), 403)
    assert_problem(client.get("/audit/seals"), 403)
    assert_problem(client.get("/audit/access-log"), 403)


def test_the_seals_list_every_sealed_day_linked_to_the_one_before(auditor, household):
    auditor.get("/audit/verification")
    seals = auditor.get("/audit/seals").json
    assert [s["period"] for s in seals] == ["2026-11-28", "2026-11-29"]
    assert seals[1]["prev_seal_hash"] == seals[0]["seal_hash"]


def test_the_access_log_shows_who_read_which_household_when_newest_first(make_client, auditor, household):
    supervisor = make_client("supervisor", "kasi", kecamatan=CILEUNYI)
    worker = make_client("case_worker", "asep", villages=[CILEUNYI_KULON])
    between = {"from": "2026-11-28", "to": "2026-11-29"}
    auditor.get(f"/households/{household}/diff", **between)
    supervisor.get(f"/households/{household}/diff", **between)
    worker.get(f"/households/{household}/diff", **between)
    supervisor.get(f"/households/{household}", as_of="2026-11-28")
    log = auditor.get("/audit/access-log").json
    assert [(e["username"], e["role"], e["action"]) for e in log["entries"]] == [
        ("kasi", "supervisor", "state_as_of"), ("kasi", "supervisor", "diff"), ("inspektorat", "auditor", "diff"),
    ]
    assert all(e["household_id"] == household for e in log["entries"])
    assert log["entries"][0]["at"] == "2026-11-30T03:00:00+00:00"
    only = auditor.get("/audit/access-log", username="kasi", action="diff", limit=1).json
    assert [(e["username"], e["action"]) for e in only["entries"]] == [("kasi", "diff")]
    assert only["next_before_id"] is None


def test_the_access_log_pages_backwards_by_id(auditor, household):
    for _ in range(3):
        auditor.get(f"/households/{household}", as_of="2026-11-29")
    first = auditor.get("/audit/access-log", limit=2).json
    assert len(first["entries"]) == 2 and first["next_before_id"] == first["entries"][-1]["id"]
    rest = auditor.get("/audit/access-log", limit=2, before_id=first["next_before_id"]).json
    assert len(rest["entries"]) == 1 and rest["next_before_id"] is None


@pytest.mark.parametrize("query, field", [({"action": "deleted"}, "action"), ({"limit": 0}, "limit"), ({"since": "kemarin"}, "since"), ({"colour": "red"}, "colour")])
def test_a_bad_access_log_filter_is_refused_naming_it(auditor, query, field):
    assert_problem(auditor.get("/audit/access-log", **query), 422, field)


def test_a_household_read_as_of_an_instant_is_its_state_as_recorded_then(auditor, household):
    response = auditor.get(f"/households/{household}", as_of="2026-11-28T23:59:59+07:00")
    assert response.status_code == 200 and "ETag" not in response.headers
    body = response.json
    assert (body["as_of_version"], body["current_version"], body["version"]) == (2, 5, 2)
    assert body["category"]["desil"] == 3 and body["interventions"] == []
    assert body["as_of"] == "2026-11-28T23:59:59+07:00"
    current = auditor.get(f"/households/{household}")
    assert current.json["version"] == 5 and current.headers["ETag"] == '"5"'


def test_a_household_read_as_of_an_unreadable_or_too_early_instant_is_refused(auditor, household):
    assert_problem(auditor.get(f"/households/{household}", as_of="30/06/2025"), 422, "as_of")
    assert_problem(auditor.get(f"/households/{household}", as_of="2026-11-01"), 404)


def test_a_household_outside_the_readers_scope_has_no_past_states_or_diffs(make_client, sqlite_store, household):
    far = register(sqlite_store.households, 2, village=PADASUKA)
    worker = make_client("case_worker", "asep", villages=[CILEUNYI_KULON])
    assert_problem(worker.get(f"/households/{far}", as_of="2026-11-30"), 404)
    assert_problem(worker.get(f"/households/{far}/diff", **{"from": "2026-11-28", "to": "2026-11-30"}), 404)


def test_a_diff_between_two_instants_names_each_changed_field(auditor, household):
    diff = auditor.get(f"/households/{household}/diff", **{"from": "2026-11-28", "to": "2026-11-29"}).json
    assert (diff["from_version"], diff["to_version"]) == (2, 5)
    assert diff["from"] == "2026-11-28T23:59:59.999999+07:00"
    assert "desil 3 -> 1" in [c["text"] for c in diff["changes"]]
    assert [e["version"] for e in diff["events"]] == [3, 4, 5]


def test_a_diff_without_both_instants_is_refused_naming_the_missing_one(auditor, household):
    assert_problem(auditor.get(f"/households/{household}/diff", **{"from": "2026-11-28"}), 422, "to")
    assert_problem(auditor.get(f"/households/{household}/diff", **{"from": "2026-11-30", "to": "2026-11-28"}), 422, "from")


def test_the_past_summary_and_the_side_by_side_comparison(auditor, sqlite_store, household, clock):
    # A delivery of 27 November recorded late, on the 30th.
    plan(sqlite_store.households, household, programme="rtlh", agency="disperkim", delivered_on=clock.today().replace(day=27))
    recorded = auditor.get("/audit/summary", as_of="2026-11-28", basis="recorded").json
    effective = auditor.get("/audit/summary", as_of="2026-11-28", basis="effective").json
    assert [i["programme"] for i in recorded["interventions"]] == []
    assert [i["programme"] for i in effective["interventions"]] == ["rtlh"]
    assert recorded["basis"] == "recorded" and recorded["totals"]["households"] == 1
    comparison = auditor.get("/audit/summary-comparison", as_of="2026-11-28").json
    assert {(d["section"], d["item"]) for d in comparison["differences"]} >= {("interventions", "rtlh / disperkim / delivered")}
    download = auditor.get("/audit/summary-comparison", as_of="2026-11-28", format="csv")
    assert download.mimetype == "text/csv"
    assert download.headers["Content-Disposition"] == 'attachment; filename="konvergen-summary-2026-11-28.csv"'
    assert ["interventions", "rtlh / disperkim / delivered", "0", "1", "1"] in list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    xlsx = auditor.get("/audit/summary-comparison", as_of="2026-11-28", format="xlsx")
    assert xlsx.mimetype.endswith("spreadsheetml.sheet") and xlsx.data[:2] == b"PK"


@pytest.mark.parametrize("query, field", [
    ({"as_of": "2026-11-28", "basis": "planned"}, "basis"), ({"basis": "recorded"}, "as_of"),
    ({"as_of": "besok", "basis": "recorded"}, "as_of"), ({"as_of": "2026-11-28", "basis": "recorded", "kecamatan": "99"}, "kecamatan"),
    ({"as_of": "2026-11-28", "basis": "recorded", "kecamatan": ""}, "kecamatan"),
    ({"as_of": "2026-11-28", "basis": "recorded", "village": "x" * 41}, "village"),
])
def test_a_past_summary_with_a_bad_parameter_is_refused_naming_it(auditor, query, field):
    assert_problem(auditor.get("/audit/summary", **query), 422, field)


@pytest.mark.parametrize("query, field", [
    ({"as_of": "2026-11-28", "format": "pdf"}, "format"), ({"as_of": "2026-11-28", "kecamatan": ""}, "kecamatan"),
    ({"format": "csv"}, "as_of"),
])
def test_a_comparison_with_a_bad_parameter_is_refused_naming_it(auditor, query, field):
    assert_problem(auditor.get("/audit/summary-comparison", **query), 422, field)


def test_a_verification_the_chain_changed_under_is_a_conflict_to_try_again(auditor, monkeypatch):
    from service.audit import integrity
    from service.audit.verification import ChainChangedDuringVerification

    def raced(*args, **kwargs):
        raise ChainChangedDuringVerification("notification 7 was chained after this verification began; verify again")

    monkeypatch.setattr(integrity, "verify", raced)
    response = auditor.get("/audit/verification")
    assert_problem(response, 409)
    assert "verify again" in response.json["detail"]
    documented = auditor.client.get("/api/v1/openapi.json").json["paths"]["/api/v1/audit/verification"]["get"]
    assert "409" in documented["responses"]


def test_the_audit_routes_are_in_the_openapi_document(auditor):
    paths = auditor.client.get("/api/v1/openapi.json").json["paths"]
    for path in ("/api/v1/audit/verification", "/api/v1/audit/seals", "/api/v1/audit/access-log", "/api/v1/audit/summary",
                 "/api/v1/audit/summary-comparison", "/api/v1/households/{household_id}/diff"):
        assert "get" in paths[path], path


def test_the_monitoring_summary_answers_for_a_past_date_on_either_basis(auditor, sqlite_store, household, clock):
    plan(sqlite_store.households, household, programme="rtlh", agency="disperkim", delivered_on=clock.today().replace(day=27))
    recorded = auditor.get("/monitoring/summary", as_of="2026-11-28").json
    effective = auditor.get("/monitoring/summary", as_of="2026-11-28", basis="effective").json
    assert recorded["filters"]["basis"] == "recorded" and effective["filters"]["basis"] == "effective"
    assert recorded["totals"]["households"] == effective["totals"]["households"] == 1
    assert [i["programme"] for i in effective["interventions"]] == ["rtlh"] and recorded["interventions"] == []


@pytest.mark.parametrize("query, field", [({"basis": "effective"}, "as_of"), ({"as_of": "2026-11-28", "basis": "planned"}, "basis"), ({"as_of": "besok"}, "as_of")])
def test_a_past_monitoring_summary_with_a_bad_parameter_is_refused_naming_it(auditor, query, field):
    assert_problem(auditor.get("/monitoring/summary", **query), 422, field)
