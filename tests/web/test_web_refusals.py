"""Pages asked for something they do not have answer in the site's words, never with a 500.

Nothing here changes anything, so one service serves the whole module.
"""

from __future__ import annotations

import pytest

from web_helpers import browser_factory, field_errors, text

UNKNOWN_IMPORT = "0123456789abcdef0123456789abcdef"
GIVE_A_DATE = "Isi tanggal (2025-06-30) atau tanggal dan jam (2025-06-30T23:59)."
NO_SUCH_HOUSEHOLD = "Tidak ada rumah tangga dengan id atau KK ini di wilayah Anda."
NOT_FOUND = "Tidak ditemukan"
INVALID = "Beberapa isian tidak valid"


@pytest.fixture(scope="module")
def web(shared_service):
    _, _, app = shared_service
    return browser_factory(app)


@pytest.fixture(scope="module")
def auditor(web):
    return web("inspektur")


@pytest.fixture(scope="module")
def admin(web):
    return web("admin")


# -- the auditors' summary and household search -------------------------------------------


def test_a_summary_download_in_an_unknown_format_goes_back_to_the_summary_page(auditor):
    response = auditor.get("/audit/summary.pdf?as_of=2026-11-01")

    assert response.status_code == 302
    assert response.headers["Location"] == "/audit/summary"


@pytest.mark.parametrize("query", ["", "?as_of=", "?as_of=kemarin"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_summary_download_without_a_readable_date_is_refused_with_422_and_no_file(auditor, fmt, query):
    response = auditor.get(f"/audit/summary.{fmt}{query}")

    assert response.status_code == 422
    assert response.mimetype == "text/html"
    assert "Content-Disposition" not in response.headers
    assert INVALID in text(response) and "ISO 8601" in text(response)


def test_a_summary_at_an_unreadable_date_shows_the_page_with_the_date_field_explained(auditor):
    response = auditor.get("/audit/summary?as_of=kemarin")

    assert response.status_code == 200
    assert field_errors(text(response), "as_of") == [GIVE_A_DATE]


@pytest.mark.parametrize(
    "household",
    ["3204050101209999", "1234567890123456", "00000000-0000-0000-0000-000000000000", "bukan-id"],
    ids=["an unregistered KK", "a KK that is not valid", "an unknown id", "neither"],
)
def test_looking_up_a_household_that_is_not_there_says_so_next_to_the_search_field(auditor, household):
    response = auditor.get("/audit/", query_string={"household": household})

    assert response.status_code == 200
    page = text(response)
    assert field_errors(page, "household") == [NO_SUCH_HOUSEHOLD]
    assert f'value="{household}"' in page


# -- imports ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [f"/imports/{UNKNOWN_IMPORT}", "/imports/not-an-import", f"/imports/{UNKNOWN_IMPORT}/rejections.csv",
     f"/imports/{UNKNOWN_IMPORT}/rejections.pdf", "/imports/not-an-import/rejections.xlsx"],
)
def test_an_unknown_import_or_report_format_is_not_found(admin, path):
    response = admin.get(path)

    assert response.status_code == 404
    assert NOT_FOUND in text(response)


@pytest.mark.parametrize("username", ["asep", "sri", "dinsos", "inspektur"])
@pytest.mark.parametrize("path", ["/imports/", f"/imports/{UNKNOWN_IMPORT}", f"/imports/{UNKNOWN_IMPORT}/rejections.csv"])
def test_only_administrators_reach_the_import_pages(web, username, path):
    response = web(username).get(path)

    assert response.status_code == 403
    assert "Anda tidak berwenang melakukan ini" in text(response)


# -- exports and filters --------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/exports/overdue.pdf", "/exports/overdue.CSV", "/exports/households.json"])
def test_a_download_in_an_unknown_format_is_not_found(web, path):
    response = web("asep").get(path)

    assert response.status_code == 404
    assert "Content-Disposition" not in response.headers


def test_a_case_worker_asking_for_another_kecamatans_villages_gets_their_own(web):
    own = text(web("asep").get("/filters/villages"))

    response = web("asep").get("/filters/villages?kecamatan=32.04.06")

    assert response.status_code == 200
    assert text(response) == own
    assert "Cileunyi Kulon" in own and "Padasuka" not in own


def test_a_supervisor_asking_for_another_kecamatans_villages_gets_none(web):
    response = web("sri").get("/filters/villages?kecamatan=32.04.06")

    assert response.status_code == 200
    assert "<option" in text(response)  # "All" only
    assert text(response).count("<option") == 1
    assert "Padasuka" not in text(response)
