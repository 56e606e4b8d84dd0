"""The auditors' pages on a SQLite-backed service: a real sign-in, CSRF on, both languages."""

from __future__ import annotations

import re

import pytest

from audit_helpers import CILEUNYI, CILEUNYI_KULON, Forger, categorise, days_later, plan, register
from service.app import create_app

PASSWORD = "correct horse battery"
TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
CONFIG = {"TESTING": True, "WTF_CSRF_ENABLED": True, "KONVERGEN_LOGIN_RATE_LIMIT": "1000 per minute",
          "KONVERGEN_USER_CACHE_SECONDS": 0}


class Browser:
    def __init__(self, client):
        self.client = client

    def token(self, page: str) -> str:
        return TOKEN.search(self.client.get(page).get_data(as_text=True)).group(1)

    def sign_in(self, username: str) -> Browser:
        response = self.client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": self.token("/login")})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        return self

    def language(self, code: str) -> None:
        self.client.post("/language", data={"language": code, "next": "/audit/", "csrf_token": self.token("/audit/")})

    def get(self, url: str, **query):
        response = self.client.get(url, query_string=query)
        return response, response.get_data(as_text=True)


@pytest.fixture
def app(sqlite_store):
    users = sqlite_store.users
    users.create_user(username="inspektur", password=PASSWORD, role="auditor", display_name="Inspektur", language="en")
    users.create_user(username="sri", password=PASSWORD, role="supervisor", kecamatan=CILEUNYI, display_name="Sri", language="en")
    users.create_user(username="asep", password=PASSWORD, role="case_worker", villages=[CILEUNYI_KULON], display_name="Asep", language="en")
    return create_app(sqlite_store, dict(CONFIG))


@pytest.fixture
def browser(app):
    return lambda username: Browser(app.test_client()).sign_in(username)


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


def test_the_history_page_shows_every_event_with_its_changes_and_the_state_as_of_a_moment(browser, household):
    auditor = browser("inspektur")
    auditor.language("en")
    response, page = auditor.get(f"/audit/households/{household}", as_of="2026-11-28T23:00:00")
    assert response.status_code == 200
    assert "Version 5" in page and "Version 1" in page
    assert "desil" in page and "<del>3</del> → <ins>1</ins>" in page
    assert "Version 2, recorded" in page and "(now at version 5)" in page


def test_the_history_page_compares_two_moments(browser, household):
    auditor = browser("inspektur")
    auditor.language("en")
    _, page = auditor.get(f"/audit/households/{household}", **{"from": "2026-11-28T12:00", "to": "2026-11-30T00:00"})
    assert "From version 2 to version 5" in page
    _, page = auditor.get(f"/audit/households/{household}", as_of="kemarin")
    assert "Give a date (2025-06-30) or a date and time" in page


@pytest.mark.parametrize("query, field, says", [
    ({"from": "2026-11-30T00:00", "to": "2026-11-28T12:00"}, "from", "The first moment must not be later than the second."),
    ({"from": "2026-11-28T12:00", "to": "lusa"}, "to", "Give a date (2025-06-30) or a date and time"),
    ({"as_of": "2020-01-01"}, "as_of", "The household was not yet recorded then."),
])
def test_the_history_page_says_what_is_wrong_with_a_moment_beside_its_field(browser, household, query, field, says):
    auditor = browser("inspektur")
    auditor.language("en")
    response, page = auditor.get(f"/audit/households/{household}", **query)
    assert response.status_code == 200
    assert re.search(rf'<div class="field has-error">\s*<label for="{field}">.*?<li>{re.escape(says)}', page, re.S), page


def test_the_pages_speak_bahasa_indonesia_by_default(sqlite_store, app, household):
    sqlite_store.users.create_user(username="inspektur2", password=PASSWORD, role="auditor")
    auditor = Browser(app.test_client()).sign_in("inspektur2")
    _, page = auditor.get(f"/audit/households/{household}")
    assert "Semua kejadian" in page and "Rumah tangga sebagaimana tercatat pada suatu saat" in page


def test_an_auditor_finds_a_household_by_its_kk_and_lands_on_its_history(browser, household):
    response, _ = browser("inspektur").get("/audit/", household="3204050101200001")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/audit/households/{household}")


def test_the_verification_page_runs_the_check_on_request_and_names_the_broken_link(sqlite_store, browser, household):
    auditor = browser("inspektur")
    auditor.language("en")
    _, page = auditor.get("/audit/verification")
    assert "Run the check" in page and "Sound" not in page
    token = auditor.token("/audit/verification")
    page = auditor.client.post("/audit/verification", data={"csrf_token": token}).get_data(as_text=True)
    assert "Sound: every event and seal recomputes." in page and "2026-11-29" in page
    Forger(sqlite_store).delete(household, 4)
    page = auditor.client.post("/audit/verification", data={"csrf_token": token}).get_data(as_text=True)
    assert "Broken: 1 problem(s) found." in page and f"household {household} version 4" in page


def test_a_verification_without_the_forms_token_is_refused(browser, household):
    response = browser("inspektur").client.post("/audit/verification", data={})
    assert response.status_code == 400


def test_the_summary_page_shows_both_bases_side_by_side_with_differences_marked(sqlite_store, browser, household, clock):
    plan(sqlite_store.households, household, programme="rtlh", agency="disperkim", delivered_on=clock.today().replace(day=27))
    auditor = browser("inspektur")
    auditor.language("en")
    _, page = auditor.get("/audit/summary", as_of="2026-11-28", differences="1")
    assert "As recorded" in page and "rtlh / disperkim / delivered" in page and "<mark>+1</mark>" in page
    response, _ = auditor.get("/audit/summary.csv", as_of="2026-11-28")
    assert response.mimetype == "text/csv" and b"rtlh / disperkim / delivered" in response.data


def test_the_access_log_page_is_for_auditors_and_shows_who_looked(browser, household):
    browser("sri").get(f"/audit/households/{household}")
    auditor = browser("inspektur")
    auditor.language("en")
    _, page = auditor.get("/audit/access-log")
    assert "sri" in page and "read the history" in page
    assert browser("asep").get("/audit/access-log")[0].status_code == 403
    assert browser("sri").get("/audit/verification")[0].status_code == 403


def test_a_case_worker_sees_no_history_outside_their_villages(sqlite_store, browser):
    far = register(sqlite_store.households, 2, village="32.04.06.1001")
    assert browser("asep").get(f"/audit/households/{far}")[0].status_code == 404


def test_a_supervisor_opening_a_household_page_is_logged_but_a_case_worker_is_not(sqlite_store, browser, household):
    from service.audit import audit_for

    browser("sri").get(f"/households/{household}")
    browser("asep").get(f"/households/{household}")
    browser("sri").get(f"/households/{household}")

    entries = audit_for(sqlite_store).access_log.browse(sqlite_store.users.actor("inspektur"), household_id=household)
    readers = [entry["username"] for entry in entries["entries"]]
    assert readers == ["sri", "sri"]
