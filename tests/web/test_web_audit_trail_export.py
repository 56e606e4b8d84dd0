"""The audit trail download on the exports page: auditors and administrators only,
within their area, with its filters, as CSV or XLSX, and itself logged."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from openpyxl import load_workbook

from web_helpers import CILEUNYI_WETAN, PADASUKA, text


def rows_of_csv(response) -> list[dict]:
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:])))


def test_an_auditor_downloads_the_audit_trail_newest_first(web, register, konvergen, people):
    first = register(kk="3204050101200051")
    register(kk="3204060101200052", village=PADASUKA)
    konvergen.wait_for(konvergen.households.categorise(
        people["admin"], first, category="miskin", desil=2, source="field_verification",
        effective_on=date(2026, 11, 1), reason="cek")["position"])

    response = web("inspektur").get("/exports/audit-trail.csv")

    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="konvergen-audit-trail-2026-11-28.csv"'
    rows = rows_of_csv(response)
    assert [(r["KK"], r["Kejadian"]) for r in rows] == [
        ("3204050101200051", "Categorised"), ("3204060101200052", "Registered"), ("3204050101200051", "Registered")]
    assert rows[0]["Pengguna"] == "admin" and rows[0]["Berlaku sejak"] == "2026-11-01"
    datetime.fromisoformat(rows[0]["Dicatat pada (UTC)"])


def test_the_filters_narrow_the_audit_trail_and_the_xlsx_opens(web, register):
    register(kk="3204050101200053")
    register(kk="3204050101200054", village=CILEUNYI_WETAN)

    response = web("admin").get("/exports/audit-trail.xlsx?event_type=Registered&by=admin&since=2000-01-01&until=2999-12-31")
    values = list(load_workbook(io.BytesIO(response.get_data())).active.values)
    assert [row[4] for row in values[1:]] == ["3204050101200054", "3204050101200053"]

    none = rows_of_csv(web("admin").get("/exports/audit-trail.csv?until=2000-01-01"))
    assert none == []
    assert rows_of_csv(web("admin").get("/exports/audit-trail.csv?by=asep")) == []


def test_the_download_is_recorded_in_the_access_log(web, register, konvergen):
    from service.audit import audit_for

    register(kk="3204050101200055")
    web("inspektur").get("/exports/audit-trail.csv?event_type=Registered")
    entries = audit_for(konvergen).access_log.browse(konvergen.users.actor("inspektur"), action="export")["entries"]
    assert [(e["username"], e["detail"]["table"], e["detail"]["event_type"]) for e in entries] == [
        ("inspektur", "audit_trail", "Registered")]


def test_case_workers_neither_see_nor_download_the_audit_trail(web, register):
    register(kk="3204050101200056")
    asep = web("asep")
    assert "audit-trail" not in text(asep.get("/exports/"))
    assert asep.get("/exports/audit-trail.csv").status_code == 403
    assert "audit-trail.csv" in text(web("inspektur").get("/exports/"))


def test_a_date_that_is_not_a_date_is_refused_naming_the_field(web):
    response = web("admin").get("/exports/audit-trail.csv?since=kemarin")
    assert response.status_code == 422
    assert "Dari" in text(response)
