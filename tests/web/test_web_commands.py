"""Every command form: success, a validation error, a stale version, the wrong role,
a household outside one's area, and a missing CSRF token.

The whole module shares one service (``shared_service``); each test registers its own
household, so the tests stay independent. The acting case worker is Asep, whose
villages include Cileunyi Kulon where every household here lives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable

import pytest

from web_helpers import WIFE, browser_factory, field_errors, form_values, register_household, text, unique_kk

TODAY = date(2026, 11, 28)


def resolved(values: dict) -> dict:
    """Values may be made per test (a fresh KK number): call those."""
    return {k: (v() if callable(v) else v) for k, v in values.items()}


@dataclass(frozen=True)
class Case:
    command: str
    path: str  # under /households/<id>; {item} is the member, intervention or follow-up
    valid: dict
    effect: Callable[[dict], bool]  # on the household dict after success
    invalid: dict
    field: str
    message: str
    prepare: Callable | None = None  # (households, admin, household_id) -> item id
    events: int = 1
    flash: str = ""


def _add_wife(h, admin, hid):
    h.add_member(admin, hid, member=dict(WIFE))
    return WIFE["nik"]


def _plan_pkh(h, admin, hid):
    return h.plan_intervention(admin, hid, programme="pkh", agency="dinsos", planned_on=TODAY, value_idr=600000)["intervention_id"]


def _schedule(h, admin, hid):
    return h.schedule_follow_up(admin, hid, due_on=date(2026, 12, 5), assigned_to="asep", purpose="cek rumah")["follow_up_id"]


def _extreme(h, admin, hid):
    h.categorise(admin, hid, category="miskin_ekstrem", desil=1, source="p3ke_dtsen_import", effective_on=date(2026, 1, 5), reason="P3KE")


def _close(h, admin, hid):
    h.close_household(admin, hid, reason="moved_away", effective_on=TODAY)


def _split4(digits: str) -> list[str]:
    return [digits[i:i + 4] for i in range(0, 16, 4)]


def _member(hh, nik):
    return next(m for m in hh["members"] if m["nik"] == nik)


CASES = [
    Case("add_member", "members/new",
         {"nik": WIFE["nik"], "name": "Euis Komariah", "sex": "P", "birth_date": "1985-07-21", "relationship": "istri"},
         lambda hh: _member(hh, WIFE["nik"])["name"] == "Euis Komariah",
         {"nik": "3204053213850002", "name": "Euis", "sex": "P", "birth_date": "1985-07-21", "relationship": "istri"},
         "nik", "bagian tanggal 321385 bukan tanggal yang benar", flash="Anggota ditambahkan."),
    Case("correct_member", "members/{item}/correct", {"name": "Asep Sunandar Saputra", "reason": "salah ketik"},
         lambda hh: hh["head"]["name"] == "Asep Sunandar Saputra",
         {"name": "Asep S.", "reason": ""}, "reason", "Wajib diisi.",
         prepare=lambda h, admin, hid: "3204051203800001", flash="Data anggota dikoreksi."),
    Case("member_left", "members/{item}/leave", {"reason": "moved", "left_on": "2026-11-01"},
         lambda hh: _member(hh, WIFE["nik"])["status"] == "left",
         {"reason": "moved", "left_on": "2026-12-30"}, "left_on", "30 Desember 2026 masih di masa depan",
         prepare=_add_wife),
    Case("correct_identification", "identification", {"street": "Jl. Baru No. 7", "reason": "pindah rumah"},
         lambda hh: hh["address"]["street"] == "Jl. Baru No. 7",
         {"rt": "abc", "reason": "pindah"}, "rt", "harus angka 1 sampai 999"),
    Case("change_kk", "kk", {"new_kk_number": lambda: " ".join(_split4(unique_kk())), "reason": "pecah_kk"},
         lambda hh: hh["kk_number"] != hh["previous_kk_numbers"][0] and len(hh["kk_number"]) == 16,
         {"new_kk_number": "123", "reason": "pecah_kk"}, "new_kk_number", "harus tepat 16 angka"),
    Case("categorise", "categorise",
         {"category": "miskin_ekstrem", "desil": "1", "source": "field_verification", "reason": "verifikasi lapangan"},
         lambda hh: hh["category"]["category"] == "miskin_ekstrem" and hh["category"]["desil"] == 1,
         {"category": "miskin_ekstrem", "source": "field_verification", "effective_on": "2027-01-01", "reason": "x"},
         "effective_on", "1 Januari 2027 masih di masa depan", flash="Kategori dicatat."),
    Case("plan_intervention", "interventions/new",
         {"programme": "pkh", "agency": "dinsos", "value_idr": "Rp 1.250.000", "delivered_on": "2026-11-27"},
         lambda hh: hh["interventions"][0]["value_idr"] == 1250000 and hh["interventions"][0]["status"] == "delivered",
         {"programme": "rtlh", "agency": "dinsos", "value_idr": "1.000"}, "agency", "dinsos tidak menyalurkan rtlh",
         events=2, flash="Intervensi dicatat."),
    Case("deliver_intervention", "interventions/{item}/deliver", {"notes": "diterima ibu"},
         lambda hh: hh["interventions"][0]["status"] == "delivered" and hh["interventions"][0]["delivered_on"] == TODAY,
         {"delivered_on": "kemarin"}, "delivered_on", "Isi tanggal.", prepare=_plan_pkh),
    Case("cancel_intervention", "interventions/{item}/cancel", {"reason": "sudah menerima dari program lain"},
         lambda hh: hh["interventions"][0]["status"] == "cancelled",
         {"reason": "   "}, "reason", "Wajib diisi.", prepare=_plan_pkh),
    Case("schedule_follow_up", "follow-ups/new", {"purpose": "cek kondisi rumah", "assigned_to": "asep"},
         lambda hh: hh["follow_ups"][0]["assigned_to"] == "asep",
         {"purpose": "cek", "due_on": "2026-01-01"}, "due_on", "1 Januari 2026 sudah lewat", flash="Kunjungan dijadwalkan."),
    Case("reschedule_follow_up", "follow-ups/{item}/reschedule", {"due_on": "2026-12-20", "reason": "hujan"},
         lambda hh: hh["follow_ups"][0]["due_on"] == date(2026, 12, 20),
         {"due_on": "2026-12-20", "reason": ""}, "reason", "Wajib diisi.", prepare=_schedule),
    Case("complete_follow_up", "follow-ups/{item}/complete", {"outcome": "rumah sudah diperbaiki"},
         lambda hh: hh["follow_ups"][0]["status"] == "completed",
         {"outcome": ""}, "outcome", "Wajib diisi.", prepare=_schedule),
    Case("cancel_follow_up", "follow-ups/{item}/cancel", {"reason": "keluarga pindah"},
         lambda hh: hh["follow_ups"][0]["status"] == "cancelled",
         {"reason": ""}, "reason", "Wajib diisi.", prepare=_schedule),
    Case("graduate", "graduate", {"reason": "pendapatan naik"},
         lambda hh: hh["status"] == "graduated",
         {"effective_on": "", "reason": "pendapatan naik"}, "effective_on", "Wajib diisi.", prepare=_extreme),
    Case("close", "close", {"reason": "moved_away"},
         lambda hh: hh["status"] == "closed",
         {"reason": "duplicate", "duplicate_of": ""}, "duplicate_of", "harus tepat 16 angka", flash="Berkas ditutup."),
    Case("reopen", "reopen", {"reason": "keluarga kembali"},
         lambda hh: hh["status"] == "active",
         {"reason": ""}, "reason", "Wajib diisi.", prepare=_close, flash="Berkas dibuka kembali."),
]
IDS = [case.command for case in CASES]


@pytest.fixture
def konvergen(shared_service):
    return shared_service[0]


@pytest.fixture
def admin(shared_service):
    return shared_service[1]["admin"]


@pytest.fixture
def web(shared_service):
    return browser_factory(shared_service[2])


@pytest.fixture
def setup_case(konvergen, admin):
    """Registers a fresh household, prepares what the command acts on; -> (id, url)."""

    def make(case: Case) -> tuple[str, str]:
        hid = register_household(konvergen, admin, kk=unique_kk())
        item = case.prepare(konvergen.households, admin, hid) if case.prepare else None
        return hid, f"/households/{hid}/" + case.path.format(item=item)

    return make


def _state(konvergen, admin, hid) -> tuple[int, dict]:
    household = konvergen.households.get_household(admin, hid)
    return household["version"], household


def _concurrent_change(konvergen, admin, hid) -> None:
    """Someone else records something on the household meanwhile."""
    if konvergen.households.get_household(admin, hid)["status"] == "closed":
        konvergen.households.reopen_household(admin, hid, reason="dibuka sebentar")
        konvergen.households.close_household(admin, hid, reason="moved_away", effective_on=TODAY)
        return
    konvergen.households.categorise(
        admin, hid, category="rentan", desil=4, source="village_deliberation", effective_on=TODAY, reason="hasil musdes"
    )


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_command_form_records_the_change_and_returns_to_the_household_with_a_message(case, web, setup_case, konvergen, admin):
    hid, url = setup_case(case)
    before, _ = _state(konvergen, admin, hid)
    browser = web("asep")
    response = browser.submit(url, resolved(case.valid))
    assert response.status_code == 302, text(response)[-3000:]
    assert response.headers["Location"].startswith(f"/households/{hid}")
    after, household = _state(konvergen, admin, hid)
    assert after == before + case.events
    assert case.effect(household)
    page = text(browser.get(f"/households/{hid}"))
    assert 'class="flash flash-success"' in page
    if case.flash:
        assert case.flash in page


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_refused_value_is_shown_next_to_its_field_with_the_input_kept_and_nothing_saved(case, web, setup_case, konvergen, admin):
    hid, url = setup_case(case)
    before, _ = _state(konvergen, admin, hid)
    response = web("asep").submit(url, case.invalid)
    assert response.status_code == 422
    page = text(response)
    assert any(case.message in message for message in field_errors(page, case.field)), field_errors(page, case.field)
    assert f'aria-describedby="{case.field}-error"' in page or f'{case.field}-error' in page
    kept = form_values(page)
    for name, value in case.invalid.items():
        if value.strip():
            assert kept.get(name) == value, (name, kept.get(name))
    assert _state(konvergen, admin, hid)[0] == before


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_form_based_on_an_old_version_shows_what_changed_and_can_be_sent_again(case, web, setup_case, konvergen, admin):
    hid, url = setup_case(case)
    browser = web("asep")
    opened = text(browser.get(url))
    values = form_values(opened)
    seen_version = int(values["version"])
    _concurrent_change(konvergen, admin, hid)
    current, _ = _state(konvergen, admin, hid)
    valid = resolved(case.valid)
    values.update(valid)
    values = {k: v for k, v in values.items() if k not in ("language", "next")}
    refused = browser.client.post(url, data=values)
    assert refused.status_code == 409
    page = text(refused)
    assert "Orang lain telah mengubah rumah tangga ini" in page
    assert "Admin Bappeda" in page  # who made the change in between
    assert _state(konvergen, admin, hid)[0] == current  # nothing saved
    again = form_values(page)
    assert int(again["version"]) == current != seen_version
    for name, value in valid.items():
        assert again.get(name) in (value, value.replace(" ", "")), name  # the user's input is still there
    again = {k: v for k, v in again.items() if k not in ("language", "next")}
    accepted = browser.client.post(url, data=again)
    assert accepted.status_code == 302, text(accepted)[-2000:]
    assert case.effect(_state(konvergen, admin, hid)[1])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_an_auditor_gets_the_forbidden_page_for_every_command_and_changes_nothing(case, web, setup_case, konvergen, admin):
    hid, url = setup_case(case)
    before, _ = _state(konvergen, admin, hid)
    browser = web("inspektur")
    shown = browser.get(url)
    assert shown.status_code == 403
    assert "Anda tidak berwenang melakukan ini" in text(shown)
    sent = browser.post(url, {**resolved(case.valid), "version": str(before)})
    assert sent.status_code == 403
    assert _state(konvergen, admin, hid)[0] == before


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_case_worker_of_another_village_is_told_the_household_does_not_exist(case, web, setup_case, konvergen, admin):
    hid, url = setup_case(case)
    before, _ = _state(konvergen, admin, hid)
    browser = web("dedi")
    shown = browser.get(url)
    assert shown.status_code == 404
    assert "tidak ditemukan" in text(shown)
    sent = browser.post(url, {**resolved(case.valid), "version": str(before)})
    assert sent.status_code == 404
    assert _state(konvergen, admin, hid)[0] == before


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_command_without_the_csrf_token_is_refused_and_changes_nothing(case, web, setup_case, konvergen, admin):
    hid, url = setup_case(case)
    before, _ = _state(konvergen, admin, hid)
    response = web("asep").submit(url, resolved(case.valid), csrf=False)
    assert response.status_code == 400
    assert "Formulir kedaluwarsa" in text(response)
    assert _state(konvergen, admin, hid)[0] == before


def test_an_agency_officer_records_only_their_own_agencys_interventions(web, setup_case, konvergen, admin):
    hid, url = setup_case(CASES[IDS.index("plan_intervention")])
    browser = web("dinsos")
    form = text(browser.get(url))
    assert '<option selected value="dinsos">' in form or 'value="dinsos" selected' in form
    assert 'value="disperkim"' not in form  # no other agency to choose
    assert browser.submit(url, {"programme": "bpnt", "agency": "dinsos"}).status_code == 302
    refused = browser.submit(url, {"programme": "rtlh", "agency": "disperkim"})
    assert refused.status_code == 422  # not a choice this officer is offered
    assert browser.get(f"/households/{hid}/categorise").status_code == 403
    other = konvergen.households.plan_intervention(admin, hid, programme="rtlh", agency="disperkim", planned_on=TODAY)
    assert browser.get(f"/households/{hid}/interventions/{other['intervention_id']}/deliver").status_code == 403


def test_a_state_refusal_is_shown_above_the_form_in_the_users_language(web, setup_case, konvergen, admin):
    hid, url = setup_case(CASES[IDS.index("deliver_intervention")])
    browser = web("asep")
    opened = form_values(text(browser.get(url)))
    item = url.split("/")[-2]
    konvergen.households.deliver_intervention(admin, hid, item, delivered_on=TODAY)
    opened["version"] = str(_state(konvergen, admin, hid)[0])  # as if reloaded after the delivery
    response = browser.client.post(url, data=opened)
    assert response.status_code == 409
    assert "Intervensi ini sudah tersalurkan; itu bersifat final." in text(response)


def test_an_unknown_intervention_answers_not_found(web, setup_case):
    hid, _ = setup_case(CASES[IDS.index("add_member")])
    response = web("asep").get(f"/households/{hid}/interventions/no-such-thing/deliver")
    assert response.status_code == 404


def test_a_registration_with_a_known_kk_points_to_the_household_that_has_it(web, konvergen, admin):
    kk = unique_kk()
    hid = register_household(konvergen, admin, kk=kk)
    response = web("asep").submit("/households/new", {
        "kk_number": kk, "head_nik": "3204051203800001", "head_name": "Asep", "head_sex": "L",
        "head_birth_date": "1980-03-12", "rt": "1", "rw": "2", "village_code": "32.04.05.2001"})
    assert response.status_code == 409
    errors = field_errors(text(response), "kk_number")
    assert any(f"KK {kk} sudah terdaftar" in e and f"/households/{hid}" in e for e in errors)
