"""The monitoring summary for 30 June 2026, as recorded by then and as effective by then.

The story: four households were on record by 30 June. In early July the district
learned more: a delivery made on 25 June was entered late, a field verification of
28 June re-categorised a household, an address was corrected into another kecamatan,
a household was registered late with a categorisation effective 15 June, a closure
effective 29 June was recorded, and a re-categorisation effective 3 July came in.
"""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from audit_helpers import (
    ADMIN, AUDITOR, CILEUNYI_KULON, CILEUNYI_WETAN, PADASUKA, SUPERVISOR, categorise, plan, register, wib,
)
from domain.errors import InvalidValue
from service.audit import audit_for

D = "2026-06-30"


def tell_story(konvergen, clock) -> dict:
    h = konvergen.households
    clock.move_to(wib(2026, 6, 10))
    a = register(h, 1, village=CILEUNYI_KULON)
    categorise(h, a, effective_on=date(2026, 6, 10))
    b = register(h, 2, village=PADASUKA)
    categorise(h, b, effective_on=date(2026, 6, 5))
    c = register(h, 3, village=CILEUNYI_KULON)
    categorise(h, c, category="rentan", desil=5, effective_on=date(2026, 6, 10))
    e = register(h, 5, village=CILEUNYI_WETAN)
    categorise(h, e, effective_on=date(2026, 6, 10))
    pkh = plan(h, a, planned_on=date(2026, 6, 15))["intervention_id"]
    clock.move_to(wib(2026, 6, 20))
    h.deliver_intervention(ADMIN, a, pkh, delivered_on=date(2026, 6, 20))
    clock.move_to(wib(2026, 7, 5))
    plan(h, b, programme="rtlh", agency="disperkim", planned_on=date(2026, 6, 1), delivered_on=date(2026, 6, 25))
    categorise(h, a, category="miskin", desil=2, effective_on=date(2026, 6, 28))
    h.correct_identification(ADMIN, c, address={"village_code": PADASUKA}, reason="alamat salah")
    late = register(h, 4, village=CILEUNYI_KULON)
    categorise(h, late, effective_on=date(2026, 6, 15))
    h.close_household(ADMIN, e, reason="moved_away", effective_on=date(2026, 6, 29))
    categorise(h, b, category="miskin", desil=3, effective_on=date(2026, 7, 3))
    clock.move_to(wib(2026, 11, 28))
    return {"a": a, "b": b, "c": c, "late": late, "e": e}


@pytest.fixture
def story(store, clock):
    """The story on SQLite and on PostgreSQL."""
    return tell_story(store, clock)


@pytest.fixture
def sqlite_story(sqlite_store, clock):
    """The story on SQLite only: for answers that do not depend on the database."""
    return tell_story(sqlite_store, clock)


def test_as_recorded_by_30_june_counts_only_what_was_on_record_that_day(store, story):
    summary = audit_for(store).reports.summary(AUDITOR, D, "recorded")
    assert summary["households"]["total"] == 4 and summary["households"]["closed"] == 0
    assert summary["households"]["by_category"] == {
        "miskin_ekstrem": 3, "miskin": 0, "rentan": 1, "tidak_miskin": 0, "uncategorised": 0,
    }
    assert [(k["kecamatan_name"], k["by_category"]["miskin_ekstrem"], k["by_category"]["rentan"]) for k in summary["by_kecamatan"]] == [
        ("Cileunyi", 2, 1), ("Cimenyan", 1, 0),
    ]
    assert summary["interventions"] == [{"programme": "pkh", "status": "delivered", "count": 1, "value_idr": 600_000}]
    assert summary["convergence"] == {"0": 2, "1": 1, "2": 0, "3+": 0}


def test_as_effective_by_30_june_includes_late_entries_corrections_and_recategorisations(store, story):
    summary = audit_for(store).reports.summary(AUDITOR, D, "effective")
    assert summary["households"]["total"] == 4 and summary["households"]["closed"] == 1
    assert summary["households"]["by_category"] == {
        "miskin_ekstrem": 2, "miskin": 1, "rentan": 1, "tidak_miskin": 0, "uncategorised": 0,
    }
    assert [(k["kecamatan_name"], k["by_category"]) for k in summary["by_kecamatan"]] == [
        ("Cileunyi", {"miskin_ekstrem": 1, "miskin": 1, "rentan": 0, "tidak_miskin": 0, "uncategorised": 0}),
        ("Cimenyan", {"miskin_ekstrem": 1, "miskin": 0, "rentan": 1, "tidak_miskin": 0, "uncategorised": 0}),
    ]
    assert [(i["programme"], i["status"], i["count"]) for i in summary["interventions"]] == [
        ("pkh", "delivered", 1), ("rtlh", "delivered", 1),
    ]
    assert summary["convergence"] == {"0": 1, "1": 1, "2": 0, "3+": 0}


def test_a_date_after_every_event_gives_the_same_answer_on_both_bases(sqlite_store, sqlite_story):
    reports = audit_for(sqlite_store).reports
    recorded = reports.summary(ADMIN, "2026-11-28", "recorded")
    effective = reports.summary(ADMIN, "2026-11-28", "effective")
    for key in ("households", "persons", "by_kecamatan", "interventions", "convergence"):
        assert recorded[key] == effective[key]
    assert recorded["households"]["by_category"]["miskin"] == 2  # a and b, re-categorised


def test_a_date_before_anything_was_recorded_counts_nothing(sqlite_store, sqlite_story):
    summary = audit_for(sqlite_store).reports.summary(ADMIN, "2026-06-01", "recorded")
    assert summary["households"]["total"] == 0 and summary["interventions"] == []


def test_the_side_by_side_comparison_lists_exactly_the_figures_that_differ(store, story):
    comparison = audit_for(store).reports.compare(AUDITOR, D)
    differences = {(r["section"], r["item"]): (r["recorded"], r["effective"]) for r in comparison["differences"]}
    assert differences[("households by category", "miskin_ekstrem")] == (3, 2)
    assert differences[("households by category", "miskin")] == (0, 1)
    assert differences[("households", "closed")] == (0, 1)
    assert differences[("interventions", "rtlh / delivered")] == (0, 1)
    assert differences[("households by kecamatan", "Cimenyan / rentan")] == (0, 1)
    assert ("households", "total") not in differences
    assert all(r["difference"] == r["effective"] - r["recorded"] for r in comparison["rows"])


def test_a_supervisor_sees_only_their_kecamatan_in_both_answers(sqlite_store, sqlite_story):
    comparison = audit_for(sqlite_store).reports.compare(SUPERVISOR, D)
    assert [k["kecamatan_name"] for k in comparison["recorded"]["by_kecamatan"]] == ["Cileunyi"]
    assert comparison["recorded"]["households"]["total"] == 3  # a, c (then in Cileunyi) and e
    assert comparison["effective"]["households"]["total"] == 2  # a and the late household


def test_the_comparison_exports_as_csv_and_as_xlsx_with_differences_highlighted(sqlite_store, sqlite_story):
    reports = audit_for(sqlite_store).reports
    content, media_type, name = reports.export_comparison(AUDITOR, D, "csv")
    assert media_type.startswith("text/csv") and name == "konvergen-summary-2026-06-30.csv"
    rows = list(csv.reader(io.StringIO(content.decode())))
    assert rows[1] == ["section", "item", "as recorded", "as effective (known now)", "difference"]
    assert ["households by category", "miskin_ekstrem", "3", "2", "-1"] in rows
    content, media_type, name = reports.export_comparison(AUDITOR, D, "xlsx")
    sheet = load_workbook(io.BytesIO(content)).active
    highlighted = {row[1].value for row in sheet.iter_rows(min_row=3) if row[0].fill.fgColor.rgb.endswith("FFF2CC")}
    assert "miskin_ekstrem" in highlighted and "total" not in highlighted
    log = audit_for(sqlite_store).access_log.browse(ADMIN)["entries"]
    assert [(e["action"], e["detail"]["format"]) for e in log] == [("report", "xlsx"), ("report", "csv")]


def test_an_unknown_basis_or_format_is_refused_naming_the_field(sqlite_store):
    reports = audit_for(sqlite_store).reports
    with pytest.raises(InvalidValue) as refused:
        reports.summary(ADMIN, D, "as_planned")
    assert refused.value.field == "basis"
    with pytest.raises(InvalidValue) as refused:
        reports.export_comparison(ADMIN, D, "pdf")
    assert refused.value.field == "format"
