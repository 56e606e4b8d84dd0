"""The household page: identity, members, category history, interventions by agency,
visits and the timeline of every event (who, when in WIB, what)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from service.clock import WIB
from web_helpers import WIFE, text

TODAY = date(2026, 11, 28)


@pytest.fixture
def full_household(konvergen, people, household):
    """A household with a member, two categories, two agencies' interventions and visits."""
    h, admin = konvergen.households, people["admin"]
    h.add_member(admin, household, member=dict(WIFE))
    h.categorise(admin, household, category="miskin", desil=3, source="p3ke_dtsen_import", effective_on=date(2026, 1, 10), reason="P3KE Januari")
    h.categorise(admin, household, category="miskin_ekstrem", desil=1, source="field_verification", effective_on=date(2026, 6, 2), reason="verifikasi lapangan")
    pkh = h.plan_intervention(admin, household, programme="pkh", agency="dinsos", planned_on=date(2026, 7, 1), value_idr=1250000)
    h.deliver_intervention(admin, household, pkh["intervention_id"], delivered_on=date(2026, 7, 15))
    h.plan_intervention(admin, household, programme="rtlh", agency="disperkim", planned_on=date(2026, 12, 1), value_idr=20000000)
    h.schedule_follow_up(admin, household, due_on=date(2026, 11, 30), assigned_to="asep", purpose="cek rumah")
    konvergen.clock.move_to(datetime(2026, 12, 3, 3, 0, tzinfo=timezone.utc))  # the visit is now overdue
    result = h.schedule_follow_up(admin, household, due_on=date(2026, 12, 10), assigned_to="asep", purpose="antar dokumen")
    konvergen.wait_for(result["position"])
    return household


def test_the_household_page_shows_identity_members_and_the_category_history(web, full_household):
    page = text(web("asep").get(f"/households/{full_household}"))
    assert "Asep Sunandar" in page and "3204050101200001" in page
    assert "Cileunyi Kulon" in page and "Cileunyi" in page and "RT 003/RW 007" in page
    assert "Euis Komariah" in page and "Istri" in page and "21 Juli 1985" in page
    assert page.index("2 Juni 2026") < page.index("10 Januari 2026")  # newest category first
    assert "Miskin ekstrem" in page and "verifikasi lapangan" in page and "Impor P3KE/DTSEN" in page


def test_interventions_are_grouped_by_agency_with_their_status_and_value_in_rupiah(web, full_household):
    page = text(web("asep").get(f"/households/{full_household}"))
    assert "Dinas Sosial" in page and "Dinas Perumahan dan Kawasan Permukiman" in page
    assert "1 dari 1 tersalurkan" in page and "0 dari 1 tersalurkan" in page
    assert "Rp 1.250.000" in page and "Rp 20.000.000" in page
    assert "diterima 15 Juli 2026" in page
    assert "Program Keluarga Harapan (PKH)" in page


def test_an_open_visit_past_its_due_date_is_marked_overdue(web, full_household):
    page = text(web("asep").get(f"/households/{full_household}"))
    section = page[page.index('id="follow-ups"'):page.index('id="timeline"')]
    assert "30 November 2026" in section and "badge-overdue" in section
    assert section.index("30 November 2026") < section.index("10 Desember 2026")


def test_the_timeline_lists_every_event_with_who_and_when_in_wib(web, konvergen, people, full_household):
    page = text(web("asep").get(f"/households/{full_household}"))
    timeline = page[page.index('id="timeline"'):]
    events = konvergen.households.history(people["admin"], full_household)
    assert timeline.count("<li>") == len(events)
    first = events[0]["recorded_at"].astimezone(WIB)  # recorded times are real times, shown in WIB
    months = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
              "November", "Desember"]
    assert f"{first.day} {months[first.month - 1]} {first.year} {first:%H.%M} WIB" in timeline
    assert "Admin Bappeda" in timeline
    assert "Intervensi tersalurkan: Program Keluarga Harapan (PKH) pada 15 Juli 2026" in timeline
    assert timeline.index("antar dokumen") < timeline.index("Didaftarkan dengan KK")  # newest first


def test_the_case_worker_sees_every_action_but_an_auditor_sees_none(web, full_household):
    worker = text(web("asep").get(f"/households/{full_household}"))
    for action in ("Catat intervensi", "Kategorikan", "Jadwalkan kunjungan", "Tambah anggota", "Koreksi identitas",
                   "Ganti KK", "Catat graduasi", "Tutup berkas", "Sudah dikunjungi"):
        assert action in worker, action
    auditor = text(web("inspektur").get(f"/households/{full_household}"))
    assert "Euis Komariah" in auditor
    for action in ("Catat intervensi", "Kategorikan", "Tutup berkas", "/categorise", "/deliver"):
        assert action not in auditor, action


def test_an_agency_officer_may_act_on_their_agencys_interventions_only(web, konvergen, people, full_household):
    page = text(web("dinsos").get(f"/households/{full_household}"))
    assert "Catat intervensi" in page
    assert "Kategorikan" not in page
    planned = [i for i in konvergen.households.get_household(people["admin"], full_household)["interventions"] if i["status"] == "planned"]
    assert len(planned) == 1 and planned[0]["agency"] == "disperkim"
    assert f"/interventions/{planned[0]['id']}/deliver" not in page


def test_a_closed_household_offers_only_reopening(web, konvergen, people, household):
    konvergen.households.close_household(people["admin"], household, reason="moved_away", effective_on=TODAY)
    page = text(web("asep").get(f"/households/{household}"))
    assert "Buka kembali berkas" in page
    assert "Kategorikan" not in page and "Catat intervensi" not in page


def test_a_household_of_another_village_is_not_found_for_a_case_worker(web, household):
    response = web("dedi").get(f"/households/{household}")
    assert response.status_code == 404
    assert "tidak ditemukan" in text(response)
    assert "Asep Sunandar" not in text(response)


def test_a_supervisor_reads_the_households_of_their_kecamatan(web, household):
    assert web("sri").get(f"/households/{household}").status_code == 200


def test_an_id_that_is_not_a_household_is_not_found(web):
    assert web("admin").get("/households/not-a-uuid").status_code == 404
    assert web("admin").get("/households/00000000-0000-0000-0000-000000000000").status_code == 404


def test_a_change_by_someone_else_shows_at_once_although_pages_are_kept_rendered(web, konvergen, people, household):
    browser = web("asep")
    assert "hasil musdes" not in text(browser.get(f"/households/{household}"))
    assert "hasil musdes" not in text(browser.get(f"/households/{household}"))  # now served from the cache
    konvergen.households.categorise(people["admin"], household, category="rentan", desil=4,
                                    source="village_deliberation", effective_on=TODAY, reason="hasil musdes")
    assert "hasil musdes" in text(browser.get(f"/households/{household}"))


def test_the_kept_case_file_follows_the_readers_permissions_and_language(web, household):
    assert "Kategorikan" in text(web("asep").get(f"/households/{household}"))
    auditor = web("inspektur")
    assert "Kategorikan" not in text(auditor.get(f"/households/{household}"))
    auditor.post("/language", {"language": "en", "next": "/"})
    assert "Members" in text(auditor.get(f"/households/{household}"))
