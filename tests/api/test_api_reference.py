"""Reference endpoints: the codes agencies' systems send back to us."""

from __future__ import annotations

import pytest

from api_helpers import admin_client, module_service

PROBLEM_JSON = "application/problem+json"


@pytest.fixture(scope="module")
def api():
    """Reference data is read-only: one service and one reader serve the module."""
    with module_service() as service:
        yield admin_client(service)


def test_the_regions_of_the_shipped_kabupaten_list_31_kecamatan_and_280_villages(api):
    kecamatan = api.get("/reference/regions", query_string={"level": "kecamatan"}).json
    villages = api.get("/reference/regions", query_string={"level": "village"}).json
    desa = api.get("/reference/regions", query_string={"level": "desa"}).json

    assert len(kecamatan) == 31
    assert all(region["level"] == "kecamatan" and region["parent_code"] == "32.04" for region in kecamatan)
    assert {"code": "32.04.05", "name": "Cileunyi", "level": "kecamatan", "parent_code": "32.04"} in kecamatan
    assert len(villages) == 280
    assert len(desa) == 270
    assert [region["code"] for region in villages] == sorted(region["code"] for region in villages)


def test_the_villages_of_one_kecamatan_are_listed_by_parent(api):
    response = api.get("/reference/regions", query_string={"parent": "32.04.05"})

    assert response.status_code == 200
    codes = [region["code"] for region in response.json]
    assert "32.04.05.2001" in codes
    assert all(code.startswith("32.04.05.") for code in codes)
    assert all(region["parent_code"] == "32.04.05" for region in response.json)


def test_all_regions_are_listed_without_filters(api):
    regions = api.get("/reference/regions").json

    assert len(regions) == 1 + 31 + 280  # the kabupaten, its kecamatan, its villages


@pytest.mark.parametrize(("query", "field"), [({"level": "negara"}, "level"), ({"levle": "kecamatan"}, "levle")])
def test_an_unknown_region_level_or_filter_is_refused_with_422_naming_it(api, query, field):
    response = api.get("/reference/regions", query_string=query)

    assert response.status_code == 422
    assert response.content_type == PROBLEM_JSON
    assert field in response.json["errors"]


def test_the_programmes_list_their_strategy_and_agencies_with_every_agency_and_strategy(api):
    response = api.get("/reference/programmes")

    assert response.status_code == 200
    body = response.json
    programmes = {programme["code"]: programme for programme in body["programmes"]}
    assert programmes["pkh"] == {
        "code": "pkh",
        "name": "Program Keluarga Harapan (PKH)",
        "strategy": "pengurangan_beban",
        "agencies": ["dinsos", "kemensos"],
    }
    assert programmes["rtlh"]["strategy"] == "penurunan_kantong_kemiskinan"
    assert {"code": "dinsos", "name": "Dinas Sosial"} in body["agencies"]
    agency_codes = {agency["code"] for agency in body["agencies"]}
    assert all(set(programme["agencies"]) <= agency_codes for programme in body["programmes"])
    assert [strategy["code"] for strategy in body["strategies"]] == [
        "pengurangan_beban",
        "peningkatan_pendapatan",
        "penurunan_kantong_kemiskinan",
    ]
