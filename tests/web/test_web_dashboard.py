"""Beranda: headline figures and server-side charts from the monitoring projection,
for the reader's area, narrowed by kecamatan or village."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pytest

from web_helpers import CILEUNYI, CILEUNYI_WETAN, CIMENYAN, PADASUKA, text

TODAY = date(2026, 11, 28)


def figures(page: str) -> dict[str, int]:
    return {
        key: int(value.replace(".", "").replace(",", "").rstrip("+"))
        for key, value in re.findall(r'id="figure-(\w+)">\s*<p class="figure-label">[^<]*</p>\s*<p class="figure-value">([^<]+)</p>', page)
    }


@pytest.fixture
def area(register, konvergen, people):
    """Two extremely poor households in Cileunyi (one reached by two agencies, one by
    none, with an overdue visit) and one graduated household in Cimenyan."""
    h, admin = konvergen.households, people["admin"]
    reached = register(kk="3204050101200021")
    unreached = register(kk="3204050101200022", village=CILEUNYI_WETAN)
    graduated = register(kk="3204060101200023", village=PADASUKA)
    for hid in (reached, unreached, graduated):
        h.categorise(admin, hid, category="miskin_ekstrem", desil=1, source="p3ke_dtsen_import", effective_on=date(2026, 1, 5), reason="P3KE")
    h.plan_intervention(admin, reached, programme="pkh", agency="dinsos", planned_on=date(2026, 2, 1), value_idr=750000, delivered_on=date(2026, 2, 10))
    h.plan_intervention(admin, reached, programme="pbi_jk", agency="dinkes", planned_on=date(2026, 3, 1), delivered_on=date(2026, 3, 1))
    h.plan_intervention(admin, unreached, programme="rtlh", agency="disperkim", planned_on=date(2026, 12, 1), value_idr=20000000)
    konvergen.clock.move_to(datetime(2026, 11, 10, 3, 0, tzinfo=timezone.utc))
    h.schedule_follow_up(admin, unreached, due_on=date(2026, 11, 20), assigned_to="asep", purpose="cek rumah")
    konvergen.clock.move_to(datetime(2026, 11, 28, 3, 0, tzinfo=timezone.utc))
    last = h.graduate(admin, graduated, effective_on=date(2026, 10, 1), reason="usaha berjalan")
    konvergen.wait_for(last["position"])
    return reached, unreached, graduated


def test_the_headline_figures_count_what_the_administrator_may_see(web, area):
    shown = figures(text(web("admin").get("/")))
    assert shown == {"extreme_households": 2, "extreme_persons": 3, "reached": 1, "unreached": 1, "graduated": 1, "overdue": 1}


def test_a_case_worker_sees_the_figures_of_their_villages_only(web, area):
    shown = figures(text(web("asep").get("/")))
    assert shown["extreme_households"] == 2 and shown["graduated"] == 0 and shown["overdue"] == 1


def test_the_figures_follow_the_kecamatan_filter(web, area):
    shown = figures(text(web("admin").get(f"/?kecamatan={CIMENYAN}")))
    assert shown["extreme_households"] == 0 and shown["graduated"] == 1 and shown["overdue"] == 0
    village = figures(text(web("admin").get(f"/?kecamatan={CILEUNYI}&village={CILEUNYI_WETAN}")))
    assert village["unreached"] == 1 and village["reached"] == 0


def test_the_charts_are_drawn_as_svg_with_their_numbers_as_text(web, area):
    page = text(web("admin").get("/"))
    for chart in ("chart-area", "chart-category", "chart-convergence", "chart-programme", "chart-strategy", "chart-graduations"):
        section = page[page.index(f'id="{chart}"'):]
        section = section[:section.index("</figure>")]
        assert "<svg" in section, chart
    assert "Cileunyi" in page and "Cimenyan" in page
    assert "Program Keluarga Harapan (PKH)" in page and "Rp 750.000" in page
    assert "Okt 2026" in page  # the graduation month
    assert "Pengurangan beban pengeluaran" in page


def test_the_unreached_households_are_listed_with_links(web, area):
    reached, unreached, _ = area
    page = text(web("admin").get("/"))
    section = page[page.index("belum dijangkau instansi mana pun"):]
    assert f"/households/{unreached}" in section and f"/households/{reached}" not in section


def test_htmx_gets_just_the_dashboard_body_to_swap_in(web, area):
    page = text(web("admin").get(f"/?kecamatan={CILEUNYI}", headers={"HX-Request": "true", "HX-Target": "dashboard-body"}))
    assert "<html" not in page and 'id="figure-extreme_households"' in page


def test_the_dashboard_in_english(web, area):
    browser = web("admin")
    browser.post("/language", {"language": "en", "next": "/"})
    page = text(browser.get("/"))
    assert "Extremely poor households" in page and "Graduations by month" in page and "Oct 2026" in page


def test_the_figures_move_as_soon_as_a_delivery_is_recorded(web, area, konvergen, people):
    browser = web("admin")
    before = figures(text(browser.get("/")))
    _reached, unreached, _graduated = area
    result = konvergen.households.plan_intervention(people["admin"], unreached, programme="bpnt", agency="dinsos",
                                                    planned_on=TODAY, delivered_on=TODAY)
    konvergen.wait_for(result["position"])
    after = figures(text(browser.get("/")))
    assert after["reached"] == before["reached"] + 1 and after["unreached"] == before["unreached"] - 1


def test_the_pages_are_the_same_with_the_fragment_cache_switched_off(konvergen, people, projections, area):
    from service.app import create_app
    from web_helpers import TEST_CONFIG, WebClient

    pages = []
    for cached in (True, False):
        browser = WebClient(create_app(konvergen, {**TEST_CONFIG, "KONVERGEN_FRAGMENT_CACHE": cached}).test_client())
        browser.login("admin")
        pages.append(figures(text(browser.get("/"))))
    assert pages[0] == pages[1]
