"""Registering a household through the form."""

from __future__ import annotations

import pytest

from service.errors import HouseholdNotFound
from web_helpers import CILEUNYI_KULON, KK, PADASUKA, field_errors, form_values, text

FORM = {
    "kk_number": KK, "head_nik": "3204051203800001", "head_name": "Asep Sunandar", "head_sex": "L",
    "head_birth_date": "1980-03-12", "street": "Kp. Babakan", "rt": "3", "rw": "7",
    "village_code": CILEUNYI_KULON, "lat": "-6.93", "lon": "107.75",
}


def test_a_case_worker_registers_a_household_and_sees_its_page_and_it_is_in_the_list(web, konvergen, people):
    browser = web("asep")
    response = browser.submit("/households/new", FORM)
    assert response.status_code == 302
    page = text(browser.get(response.headers["Location"]))
    assert "Rumah tangga terdaftar." in page and "Asep Sunandar" in page and "RT 003/RW 007" in page
    listed = text(browser.get("/households/?q=Asep"))
    assert "Asep Sunandar" in listed  # the register projection already has it (read your writes)
    household = konvergen.households.find_by_kk(people["admin"], KK)
    assert household["registered_by"] == "asep" and household["location"] == {"lat": -6.93, "lon": 107.75}


def test_the_village_choice_holds_only_the_villages_the_worker_may_register_in(web):
    form = text(web("asep").get("/households/new"))
    assert f'value="{CILEUNYI_KULON}"' in form and 'value="32.04.05.2002"' in form
    assert f'value="{PADASUKA}"' not in form
    assert "<optgroup" in form and 'label="Cileunyi"' in form


def test_a_village_outside_the_workers_area_is_refused_as_a_choice(web, konvergen, people):
    response = web("asep").submit("/households/new", {**FORM, "village_code": PADASUKA})
    assert response.status_code == 422
    assert field_errors(text(response), "village_code") == ["Pilih salah satu pilihan."]


def test_an_invalid_nik_is_explained_next_to_the_field_and_the_rest_of_the_input_is_kept(web):
    response = web("asep").submit("/households/new", {**FORM, "head_nik": "3204051303800001", "head_sex": "P"})
    assert response.status_code == 422
    page = text(response)
    assert field_errors(page, "head_nik") == [
        "bagian tanggal tidak cocok dengan jenis kelamin: untuk perempuan tanggal ditulis ditambah 40"
    ]
    kept = form_values(page)
    assert kept["head_name"] == "Asep Sunandar" and kept["kk_number"] == KK and kept["head_sex"] == "P"
    short = web("asep").submit("/households/new", {**FORM, "head_nik": "32040512038"})
    assert field_errors(text(short), "head_nik") == ["harus tepat 16 angka"]


def test_missing_fields_are_each_marked_required(web):
    response = web("asep").submit("/households/new", {k: "" for k in FORM} | {"village_code": CILEUNYI_KULON})
    page = text(response)
    for name in ("kk_number", "head_nik", "head_name", "head_sex", "head_birth_date", "rt", "rw"):
        assert field_errors(page, name) == ["Wajib diisi."], name
    assert field_errors(page, "lat") == []


def test_half_a_coordinate_is_refused(web):
    response = web("asep").submit("/households/new", {**FORM, "lon": ""})
    assert field_errors(text(response), "lat") == ["Isi lintang dan bujur sekaligus, atau kosongkan keduanya."]


def test_an_auditor_and_an_agency_officer_may_not_register(web):
    for username in ("inspektur", "dinsos"):
        browser = web(username)
        assert browser.get("/households/new").status_code == 403
        assert browser.post("/households/new", FORM).status_code == 403


def test_a_registration_without_the_csrf_token_is_refused(web, konvergen, people):
    response = web("asep").submit("/households/new", FORM, csrf=False)
    assert response.status_code == 400
    with pytest.raises(HouseholdNotFound):
        konvergen.households.find_by_kk(people["admin"], KK)
