"""Signing in and out: every page needs a login, the session is safe, attempts are limited."""

from __future__ import annotations

import time

import pytest

from service.app import create_app
from web_helpers import PASSWORD, TEST_CONFIG, WebClient, text


def test_every_page_sends_a_visitor_without_a_session_to_the_login_page(app, household):
    client = app.test_client()
    for path in ("/", "/households/", f"/households/{household}", "/households/new", "/map/", "/visits/", "/exports/",
                 f"/households/{household}/categorise", "/exports/households.csv", "/map/points.json"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login?next="), path


def test_the_login_page_speaks_bahasa_indonesia_by_default(web):
    page = text(web().get("/login"))
    assert '<html lang="id">' in page
    assert "Masuk" in page and "Kata sandi" in page


def test_a_case_worker_signs_in_and_lands_on_beranda_with_their_name(web):
    browser = web()
    response = browser.login("asep")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = text(browser.get("/"))
    assert "Asep Pendamping" in page and "Beranda" in page


def test_a_wrong_password_is_refused_with_one_message_that_does_not_say_which_part_was_wrong(web):
    browser = web()
    response = browser.login("asep", "not-the-password")
    assert response.status_code == 401
    assert "Nama pengguna atau kata sandi salah." in text(response)
    unknown = web().login("nobody", PASSWORD)
    assert unknown.status_code == 401 and "Nama pengguna atau kata sandi salah." in text(unknown)


def test_after_login_the_user_returns_to_the_page_they_asked_for_but_never_to_another_site(web, household):
    browser = web()
    token = browser.csrf_token("/login")
    response = browser.client.post("/login", data={"username": "asep", "password": PASSWORD, "csrf_token": token,
                                                   "next": f"/households/{household}"})
    assert response.headers["Location"] == f"/households/{household}"
    other = web()
    token = other.csrf_token("/login")
    response = other.client.post("/login", data={"username": "asep", "password": PASSWORD, "csrf_token": token,
                                                  "next": "https://evil.example/phish"})
    assert response.headers["Location"] == "/"
    third = web()
    token = third.csrf_token("/login")
    response = third.client.post("/login", data={"username": "asep", "password": PASSWORD, "csrf_token": token,
                                                  "next": "//evil.example/phish"})
    assert response.headers["Location"] == "/"


def test_a_login_without_the_csrf_token_is_refused_and_signs_nobody_in(web):
    browser = web()
    response = browser.client.post("/login", data={"username": "asep", "password": PASSWORD})
    assert response.status_code == 400
    assert "Muat ulang halaman" in text(response)
    assert browser.get("/").status_code == 302


def test_signing_out_needs_a_post_with_the_csrf_token_and_ends_the_session(web):
    browser = web("asep")
    assert browser.client.get("/logout").status_code == 405
    assert browser.post("/logout", {}, csrf=False).status_code == 400
    assert browser.get("/").status_code == 200
    response = browser.post("/logout", {})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert browser.get("/").status_code == 302


def test_the_session_cookie_is_http_only_and_same_site(web):
    browser = WebClient(web().client)
    response = browser.login("asep")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_session_cookies_are_secure_when_the_deployment_says_it_runs_on_https(konvergen, people, projections, monkeypatch):
    monkeypatch.setenv("KONVERGEN_SECURE_COOKIES", "1")
    app = create_app(konvergen, {"TESTING": True})
    browser = WebClient(app.test_client())
    response = browser.login("asep")
    assert "Secure" in response.headers["Set-Cookie"]


def test_login_attempts_are_limited_per_address(konvergen, people, projections):
    app = create_app(konvergen, {"TESTING": True, "KONVERGEN_LOGIN_RATE_LIMIT": "3 per minute"})
    browser = WebClient(app.test_client())
    for _attempt in range(3):
        assert browser.login("asep", "wrong-password-x").status_code == 401
    blocked = browser.login("asep")
    assert blocked.status_code == 429
    assert "Terlalu banyak percobaan" in text(blocked)


def test_a_user_who_is_removed_is_signed_out_at_the_next_request(web, konvergen):
    from sqlalchemy import update

    from service.users import User

    browser = web("asep")
    with konvergen.sessions() as session:
        session.execute(update(User).where(User.username == "asep").values(active=False))
        session.commit()
    assert browser.get("/").status_code == 302


def test_with_the_user_cache_on_a_deactivated_user_is_signed_out_once_it_expires(konvergen, people, projections):
    from sqlalchemy import update

    from service.users import User

    app = create_app(konvergen, {**TEST_CONFIG, "KONVERGEN_USER_CACHE_SECONDS": 0.2})
    browser = WebClient(app.test_client())
    browser.login("asep")
    assert browser.get("/").status_code == 200
    with konvergen.sessions() as session:
        session.execute(update(User).where(User.username == "asep").values(active=False))
        session.commit()
    time.sleep(0.25)
    assert browser.get("/").status_code == 302


@pytest.mark.parametrize("username, visible, hidden", [
    ("asep", ["Beranda", "Rumah tangga", "Peta", "Kunjungan saya", "Ekspor", "Daftarkan rumah tangga"], []),
    ("sri", ["Kunjungan saya", "Daftarkan rumah tangga"], []),
    ("dinsos", ["Beranda", "Rumah tangga", "Peta", "Ekspor"], ["Kunjungan saya", "Daftarkan rumah tangga"]),
    ("inspektur", ["Beranda", "Rumah tangga", "Ekspor"], ["Kunjungan saya", "Daftarkan rumah tangga"]),
])
def test_the_navigation_is_shaped_by_the_role(web, username, visible, hidden):
    page = text(web(username).get("/households/"))
    for word in visible:
        assert word in page, (username, word)
    for word in hidden:
        assert word not in page, (username, word)
