"""Downloads: the household list, the monitoring tables and the overdue visits, as CSV
and XLSX, with the page's filters and within the reader's area."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone

import pytest
from openpyxl import load_workbook

from web_helpers import CILEUNYI_WETAN, PADASUKA, text


@pytest.fixture
def data(register, konvergen, people):
    h, admin = konvergen.households, people["admin"]
    one = register(kk="3204050101200041")
    register(kk="3204050101200042", village=CILEUNYI_WETAN)
    register(kk="3204060101200043", village=PADASUKA)
    h.categorise(admin, one, category="miskin_ekstrem", desil=1, source="p3ke_dtsen_import", effective_on=date(2026, 1, 5), reason="P3KE")
    h.plan_intervention(admin, one, programme="pkh", agency="dinsos", planned_on=date(2026, 2, 1), value_idr=750000, delivered_on=date(2026, 2, 10))
    konvergen.clock.move_to(datetime(2026, 11, 1, 3, 0, tzinfo=timezone.utc))
    last = h.schedule_follow_up(admin, one, due_on=date(2026, 11, 10), assigned_to="asep", purpose="cek rumah")
    konvergen.clock.move_to(datetime(2026, 11, 28, 3, 0, tzinfo=timezone.utc))
    konvergen.wait_for(last["position"])


def rows_of_csv(response) -> list[list[str]]:
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_the_household_csv_holds_what_the_reader_may_see_with_headings_in_their_language(web, data):
    response = web("asep").get("/exports/households.csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="konvergen-households-2026-11-28.csv"'
    rows = rows_of_csv(response)
    assert rows[0][:3] == ["KK", "NIK kepala keluarga", "Nama kepala keluarga"]
    assert sorted(r[0] for r in rows[1:]) == ["3204050101200041", "3204050101200042"]  # not Padasuka's


def test_the_household_export_honours_the_filters(web, data):
    rows = rows_of_csv(web("admin").get("/exports/households.csv?category=miskin_ekstrem"))
    assert [r[0] for r in rows[1:]] == ["3204050101200041"]
    assert rows[1][7] == "Miskin ekstrem" and rows[1][10] == "1"


def test_the_household_xlsx_opens_in_a_spreadsheet(web, data):
    response = web("admin").get("/exports/households.xlsx")
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = list(sheet.values)
    assert values[0][0] == "KK" and len(values) == 4


@pytest.mark.parametrize("table, expected", [
    ("areas", ["Kode wilayah", "Wilayah", "Kategori", "Rumah tangga", "Jiwa"]),
    ("interventions", ["Program", "Instansi", "Strategi", "Status", "Intervensi", "Nilai (Rp)"]),
    ("convergence", ["Instansi yang menyalurkan", "Rumah tangga miskin ekstrem"]),
    ("graduations", ["Bulan", "Rumah tangga graduasi"]),
])
def test_each_monitoring_table_downloads_as_csv_and_xlsx(web, data, table, expected):
    browser = web("admin")
    rows = rows_of_csv(browser.get(f"/exports/monitoring/{table}.csv"))
    assert rows[0] == expected
    sheet = load_workbook(io.BytesIO(browser.get(f"/exports/monitoring/{table}.xlsx").get_data())).active
    assert list(sheet.values)[0] == tuple(expected)


def test_the_interventions_table_sums_values_in_rupiah(web, data):
    rows = rows_of_csv(web("admin").get("/exports/monitoring/interventions.csv"))
    assert ["Program Keluarga Harapan (PKH)", "Dinas Sosial", "Pengurangan beban pengeluaran", "Tersalurkan", "1", "750000"] in rows


def test_the_overdue_list_names_the_worker_and_the_days_overdue(web, data):
    rows = rows_of_csv(web("sri").get("/exports/overdue.csv"))
    assert rows[1][0] == "3204050101200041" and rows[1][5] == "Asep Pendamping" and rows[1][7] == "18"
    assert rows_of_csv(web("dedi").get("/exports/overdue.csv"))[1:] == []


def test_an_unknown_format_or_table_is_not_found(web, data):
    browser = web("admin")
    assert browser.get("/exports/households.pdf").status_code == 404
    assert browser.get("/exports/monitoring/secrets.csv").status_code == 404


def test_the_exports_page_links_every_download_with_the_chosen_filters(web, data):
    page = text(web("admin").get("/exports/?kecamatan=32.04.05&category=miskin"))
    assert "/exports/households.csv?" in page and "category=miskin" in page
    assert "/exports/monitoring/areas.xlsx?kecamatan=32.04.05" in page
    assert "/exports/overdue.csv?kecamatan=32.04.05" in page
