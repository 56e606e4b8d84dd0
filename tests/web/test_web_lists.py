"""The household list: search by KK, NIK or name, filters, keyset pages, scope."""

from __future__ import annotations

import re
from datetime import date

import pytest

from web_helpers import CILEUNYI, CILEUNYI_WETAN, PADASUKA, WIFE, text

TODAY = date(2026, 11, 28)
HEADS = [
    ("3204050101200011", "Ujang Supriatna", CILEUNYI_WETAN, "3204051506750001"),
    ("3204050101200012", "Euis Hidayat", "32.04.05.2001", "3204055207800002"),
    ("3204060101200013", "Cecep Permana", PADASUKA, "3204061011700003"),
]


@pytest.fixture
def households(register, konvergen, people):
    ids = {}
    for kk, name, village, nik in HEADS:
        sex = "P" if int(nik[6:8]) > 40 else "L"
        day = int(nik[6:8]) - (40 if sex == "P" else 0)
        head = {"nik": nik, "name": name, "sex": sex, "birth_date": date(1900 + int(nik[10:12]), int(nik[8:10]), day)}
        ids[name] = register(kk=kk, village=village, head=head)
    admin = people["admin"]
    konvergen.households.add_member(admin, ids["Ujang Supriatna"], member=dict(WIFE))
    konvergen.households.categorise(admin, ids["Ujang Supriatna"], category="miskin_ekstrem", desil=1,
                                    source="p3ke_dtsen_import", effective_on=TODAY, reason="P3KE")
    delivered = konvergen.households.plan_intervention(admin, ids["Euis Hidayat"], programme="pkh", agency="dinsos",
                                                       planned_on=TODAY, delivered_on=TODAY)
    konvergen.wait_for(delivered["position"])
    return ids


def _names(page: str) -> set[str]:
    return {name for _kk, name, _v, _n in HEADS if name in page}


def test_a_case_worker_lists_only_the_households_of_their_villages(web, households):
    assert _names(text(web("asep").get("/households/"))) == {"Ujang Supriatna", "Euis Hidayat"}
    assert _names(text(web("dedi").get("/households/"))) == {"Cecep Permana"}
    assert _names(text(web("inspektur").get("/households/"))) == {"Ujang Supriatna", "Euis Hidayat", "Cecep Permana"}


def test_search_finds_a_household_by_name_prefix_kk_or_a_members_nik(web, households):
    browser = web("admin")
    assert _names(text(browser.get("/households/?q=ujang"))) == {"Ujang Supriatna"}
    assert _names(text(browser.get("/households/?q=3204060101200013"))) == {"Cecep Permana"}
    assert _names(text(browser.get(f"/households/?q={WIFE['nik']}"))) == {"Ujang Supriatna"}
    assert "Tidak ada rumah tangga yang cocok" in text(browser.get("/households/?q=zzz"))


def test_filters_narrow_by_area_category_and_delivery(web, households):
    browser = web("admin")
    assert _names(text(browser.get(f"/households/?kecamatan={CILEUNYI}"))) == {"Ujang Supriatna", "Euis Hidayat"}
    assert _names(text(browser.get(f"/households/?kecamatan={CILEUNYI}&village={CILEUNYI_WETAN}"))) == {"Ujang Supriatna"}
    assert _names(text(browser.get("/households/?category=miskin_ekstrem"))) == {"Ujang Supriatna"}
    assert _names(text(browser.get("/households/?without_delivery=y"))) == {"Ujang Supriatna", "Cecep Permana"}


def test_a_filter_outside_the_readers_area_is_ignored_rather_than_widening_it(web, households):
    page = text(web("asep").get(f"/households/?village={PADASUKA}"))
    assert _names(page) == {"Ujang Supriatna", "Euis Hidayat"}


def test_pages_follow_each_other_by_cursor(web, register):
    for n in range(30):
        register(kk=f"3204050101300{n:03d}")
    browser = web("admin")
    first = text(browser.get("/households/"))
    assert first.count('data-label="KK"') == 25
    cursor = first.split("cursor=")[1].split('"')[0].split("&")[0]
    second = text(browser.get(f"/households/?cursor={cursor}"))
    assert second.count('data-label="KK"') == 5
    assert "Halaman berikutnya" not in second and "Halaman pertama" in second
    kk_numbers = set(re.findall(r'class="mono">(\d{16})<', first)) | set(re.findall(r'class="mono">(\d{16})<', second))
    assert len(kk_numbers) == 30  # every household once, none twice


def test_a_damaged_cursor_is_explained_not_a_crash(web, households):
    response = web("admin").get("/households/?cursor=not-a-cursor")
    assert response.status_code == 422
    assert "tautan halaman ini tidak valid" in text(response)


def test_htmx_gets_just_the_results_to_swap_in(web, households):
    response = web("admin").get("/households/?q=cecep", headers={"HX-Request": "true", "HX-Target": "results"})
    page = text(response)
    assert "<html" not in page and "Cecep Permana" in page


def test_the_village_choices_follow_the_kecamatan_and_the_readers_area(web):
    page = text(web("admin").get(f"/filters/villages?kecamatan={CILEUNYI}"))
    assert "Cileunyi Kulon" in page and "Padasuka" not in page
    assert "Padasuka" not in text(web("asep").get("/filters/villages?kecamatan=32.04.06"))


def test_the_map_points_are_the_households_with_coordinates_in_view_coloured_by_category(web, households, konvergen, people):
    cleared = konvergen.households.correct_identification(people["admin"], households["Euis Hidayat"], clear_location=True, reason="salah titik")
    konvergen.wait_for(cleared["position"])  # the map reads the register view
    browser = web("asep")
    page = text(browser.get("/map/"))
    assert 'data-points-url="/map/points.json' in page and "leaflet.js" in page
    data = browser.get("/map/points.json?category=").get_json()
    assert [p[4] for p in data["points"]] == ["Ujang Supriatna"]  # Euis has no point now; Cecep is Dedi's
    lat, lon, colour_index, household_id, _name, village = data["points"][0]
    assert (lat, lon) == (-6.93, 107.75) and household_id == households["Ujang Supriatna"]
    assert village == "Cileunyi Wetan"
    assert data["colours"][colour_index] == "#b3261e"  # miskin ekstrem
    assert data["truncated"] is False and data["household_url"] == "/households/HOUSEHOLD_ID"


def test_the_map_points_follow_the_filters(web, households):
    data = web("admin").get("/map/points.json?kecamatan=32.04.06").get_json()
    assert [p[4] for p in data["points"]] == ["Cecep Permana"]


def test_the_map_says_when_it_shows_only_the_first_households(web, households, monkeypatch):
    from service.web import maps

    monkeypatch.setattr(maps, "MAX_POINTS", 2)
    browser = web("admin")
    data = browser.get("/map/points.json").get_json()
    assert [p[4] for p in data["points"]] == ["Cecep Permana", "Euis Hidayat"] and data["truncated"] is True
    assert 'data-truncated="Hanya {n} rumah tangga pertama yang ditampilkan' in text(browser.get("/map/"))


def test_the_map_reads_its_points_from_the_register_view_not_the_event_store(web, households, konvergen, monkeypatch):
    def no_event_store_reads(*args, **kwargs):
        raise AssertionError("the map loaded a household from the event store")

    monkeypatch.setattr(konvergen.households, "get_household", no_event_store_reads)
    data = web("admin").get("/map/points.json").get_json()
    assert sorted(p[4] for p in data["points"]) == ["Cecep Permana", "Euis Hidayat", "Ujang Supriatna"]
