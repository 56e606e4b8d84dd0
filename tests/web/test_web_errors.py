"""Error pages in the site's style, never a stack trace; the API keeps problem+json."""

from __future__ import annotations

import pytest

from service.app import create_app
from web_helpers import TEST_CONFIG, WebClient, text


def test_an_unknown_page_gets_the_not_found_page_in_the_sites_style(web):
    response = web("asep").get("/no-such-page")
    assert response.status_code == 404
    page = text(response)
    assert response.mimetype == "text/html"
    assert "Tidak ditemukan" in page and 'class="topbar"' in page and "Kembali ke halaman awal" in page


def test_the_api_keeps_answering_problem_json_for_its_own_errors(web):
    browser = web("asep")
    missing = browser.get("/api/v1/no-such-endpoint")
    assert missing.status_code == 401 and missing.mimetype == "application/problem+json"
    unauthenticated = browser.client.get("/api/v1/households/00000000-0000-0000-0000-000000000000")
    assert unauthenticated.status_code == 401 and unauthenticated.mimetype == "application/problem+json"


def test_the_api_is_not_guarded_by_csrf_because_it_uses_bearer_tokens(web, konvergen):
    token = konvergen.users.issue_token("admin")
    response = web().client.post("/api/v1/households", json={"kk_number": "1"}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422  # validated by the API, not refused for a CSRF token
    assert response.mimetype == "application/problem+json"


def test_a_wrong_method_gets_the_sites_page(web):
    response = web("asep").client.delete("/households/")
    assert response.status_code == 405
    assert 'class="topbar"' in text(response)


def test_an_unexpected_failure_shows_the_sorry_page_without_a_trace(konvergen, people, projections, monkeypatch):
    app = create_app(konvergen, {**TEST_CONFIG, "PROPAGATE_EXCEPTIONS": False})
    browser = WebClient(app.test_client())
    browser.login("asep")

    def broken(*_args, **_kwargs):
        raise RuntimeError("secret internals: /srv/konvergen/db.sqlite line 42")

    monkeypatch.setattr(konvergen.households, "get_household", broken)
    response = browser.get("/households/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 500
    page = text(response)
    assert "Terjadi kesalahan di sistem kami" in page
    assert "secret internals" not in page and "Traceback" not in page and "RuntimeError" not in page


def test_when_even_the_error_page_fails_a_plain_apology_is_shown(konvergen, people, projections, monkeypatch):
    app = create_app(konvergen, {**TEST_CONFIG, "PROPAGATE_EXCEPTIONS": False})
    browser = WebClient(app.test_client())
    browser.login("asep")
    monkeypatch.setattr(konvergen.users, "actor", lambda username: (_ for _ in ()).throw(RuntimeError("db down")))
    response = browser.get("/")
    assert response.status_code == 500
    assert "Terjadi kesalahan" in text(response) and "db down" not in text(response)


@pytest.mark.parametrize("path", ["/", "/households/", "/login"])
def test_pages_carry_security_headers_and_are_never_cached(web, path):
    response = web("asep").get(path)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_static_files_are_served_without_the_no_store_header(web):
    response = web().get("/static/vendor/htmx/htmx.min.js")
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"
    response.close()
