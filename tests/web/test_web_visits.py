"""Kunjungan saya: a worker's overdue, due-today and upcoming visits; a supervisor's
overdue visits of the whole kecamatan, grouped by worker."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from web_helpers import CILEUNYI_WETAN, PASSWORD, text


@pytest.fixture
def visits(register, konvergen, people):
    h, admin = konvergen.households, people["admin"]
    konvergen.users.create_user(username="wawan", password=PASSWORD, role="case_worker", villages=[CILEUNYI_WETAN],
                                display_name="Wawan Kader")
    one = register(kk="3204050101200031")
    two = register(kk="3204050101200032", village=CILEUNYI_WETAN)
    konvergen.clock.move_to(datetime(2026, 11, 1, 3, 0, tzinfo=timezone.utc))
    h.schedule_follow_up(admin, one, due_on=date(2026, 11, 20), assigned_to="asep", purpose="cek rumah RTLH")
    h.schedule_follow_up(admin, two, due_on=date(2026, 11, 10), assigned_to="wawan", purpose="antar kartu BPJS")
    h.schedule_follow_up(admin, two, due_on=date(2026, 11, 15), assigned_to="wawan", purpose="cek sekolah anak")
    konvergen.clock.move_to(datetime(2026, 11, 28, 3, 0, tzinfo=timezone.utc))
    h.schedule_follow_up(admin, one, due_on=date(2026, 11, 28), assigned_to="asep", purpose="verifikasi desil")
    last = h.schedule_follow_up(admin, one, due_on=date(2026, 12, 5), assigned_to="asep", purpose="musdes")
    konvergen.wait_for(last["position"])


def _section(page: str, key: str) -> str:
    start = page.index(f'id="visits-{key}"')
    return page[start:page.index("</section>", start)]


def test_a_case_worker_sees_overdue_due_today_and_upcoming_visits(web, visits):
    page = text(web("asep").get("/visits/"))
    assert "cek rumah RTLH" in _section(page, "overdue") and "terlambat 8 hari" in _section(page, "overdue")
    assert "verifikasi desil" in _section(page, "today")
    assert "musdes" in _section(page, "upcoming")
    assert "antar kartu BPJS" not in page  # Wawan's, not Asep's
    assert 'id="area-overdue"' not in page


def test_a_supervisor_sees_the_kecamatans_overdue_visits_grouped_by_worker(web, visits):
    page = text(web("sri").get("/visits/"))
    area = page[page.index('id="area-overdue"'):]
    area = area[:area.index("</section>")]
    assert area.index("Wawan Kader") < area.index("Asep Pendamping")  # the worker with most overdue first
    assert "2 kunjungan terlambat" in area and "terlama 18 hari" in area
    assert "antar kartu BPJS" in area and "cek rumah RTLH" in area
    assert "verifikasi desil" not in area  # due today is not overdue


def test_those_who_make_no_visits_have_no_visits_page(web):
    for username in ("inspektur", "dinsos"):
        assert web(username).get("/visits/").status_code == 403
