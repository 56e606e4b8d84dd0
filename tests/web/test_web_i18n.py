"""Bahasa Indonesia by default, English on request, remembered per user; Indonesian
dates and Rupiah; every message of the interface translated."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from domain.errors import InvalidValue
from service.web.i18n import long_date, rupiah
from service.web.labels import DOMAIN_CODES
from service.web.messages import translate_reason
from web_helpers import text

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "service" / "translations" / "id" / "LC_MESSAGES" / "messages.po"


def _switch(browser, language: str, next_page: str = "/households/"):
    return browser.post("/language", {"language": language, "next": next_page})


def test_switching_to_english_changes_the_interface_and_is_remembered_for_the_user(web, konvergen):
    browser = web("asep")
    assert "Rumah tangga" in text(browser.get("/households/"))
    response = _switch(browser, "en")
    assert response.status_code == 302 and response.headers["Location"] == "/households/"
    page = text(browser.get("/households/"))
    assert '<html lang="en">' in page and "Households" in page and "Search by KK, NIK or name" in page
    assert konvergen.users.language("asep") == "en"
    again = web("asep")  # a new session, a new device
    assert '<html lang="en">' in text(again.get("/households/"))


def test_switching_back_to_bahasa_indonesia_works_too(web, konvergen):
    browser = web("asep")
    _switch(browser, "en")
    _switch(browser, "id")
    assert '<html lang="id">' in text(browser.get("/"))
    assert konvergen.users.language("asep") == "id"


def test_an_unknown_language_falls_back_to_bahasa_indonesia(web, konvergen):
    browser = web("asep")
    _switch(browser, "xx")
    assert '<html lang="id">' in text(browser.get("/"))
    assert konvergen.users.language("asep") == "id"


def test_a_visitor_may_choose_english_on_the_login_page(web):
    browser = web()
    token = browser.csrf_token("/login")
    browser.client.post("/language", data={"language": "en", "next": "/login", "csrf_token": token})
    page = text(browser.get("/login"))
    assert "Sign in" in page and "Password" in page


def test_the_language_switch_never_redirects_off_the_site(web):
    response = _switch(web("asep"), "en", next_page="https://evil.example/")
    assert response.headers["Location"] == "/"


def test_dates_are_written_the_indonesian_way_and_the_english_way(app):
    with app.test_request_context():
        assert long_date(date(2026, 11, 28)) == "28 November 2026"
        assert long_date(date(2026, 8, 17)) == "17 Agustus 2026"
    with app.test_request_context():
        from flask import session

        session["language"] = "en"
        assert long_date(date(2026, 11, 28)) == "November 28, 2026"


def test_rupiah_is_written_with_dots_between_thousands(app):
    with app.test_request_context():
        assert rupiah(1250000) == "Rp 1.250.000"
        assert rupiah(0) == "Rp 0"
        assert rupiah(None) == ""


def test_domain_refusals_are_translated_and_their_dates_written_in_full(app):
    with app.test_request_context():
        assert translate_reason("must be exactly 16 digits") == "harus tepat 16 angka"
        assert translate_reason("2026-12-30 is in the future") == "30 Desember 2026 masih di masa depan"
        assert translate_reason("starts with 99, which is not a province code") == "diawali 99, yang bukan kode provinsi"
        assert translate_reason("a reason nobody wrote a translation for") == "a reason nobody wrote a translation for"
        assert InvalidValue("nik", "must be exactly 16 digits").reason == "must be exactly 16 digits"


def test_every_code_the_domain_knows_has_a_word(app):
    with app.test_request_context():
        for kind, (table, codes) in DOMAIN_CODES.items():
            assert set(codes) <= set(table), kind


def test_every_message_of_the_interface_is_translated_to_bahasa_indonesia():
    """Extracts the messages from the code and templates as pybabel would (babel.cfg)."""
    method_map = [("service/web/**.py", "python"), ("service/templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    found = {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extract_from_dir(str(ROOT), method_map, keywords=keywords)
    }
    with open(CATALOG, "rb") as stream:
        catalog = read_po(stream)
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and (m.string if isinstance(m.string, str) else all(m.string)) and not m.fuzzy
    }
    missing = sorted(found - translated)
    assert not missing, f"untranslated (run the commands in README's 'Web UI' section): {missing}"


def test_the_compiled_catalogue_is_up_to_date_with_the_po_file(tmp_path):
    out = tmp_path / "messages.mo"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "compile", "-i", str(CATALOG), "-o", str(out)],
                   check=True, capture_output=True)
    assert out.read_bytes() == (CATALOG.parent / "messages.mo").read_bytes()


def test_a_language_switch_without_the_csrf_token_is_refused_and_changes_nothing(web, konvergen):
    browser = web("asep")
    response = browser.post("/language", {"language": "en", "next": "/"}, csrf=False)
    assert response.status_code == 400
    assert konvergen.users.language("asep") == "id"
    assert '<html lang="id">' in text(browser.get("/"))
