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


def categories(summary) -> dict:
    return {row["category"]: row["households"] for row in summary["by_category"]}


def areas(summary) -> dict:
    return {
        (area["name"], category): count["households"]
        for area in summary["by_area"] for category, count in area["categories"].items()
    }


def interventions(summary) -> list:
    return [(i["programme"], i["agency"], i["status"], i["interventions"], i["value_idr"]) for i in summary["interventions"]]


def test_as_recorded_by_30_june_counts_only_what_was_on_record_that_day(store, story):
    summary = audit_for(store).reports.summary(AUDITOR, D, "recorded")
    assert summary["totals"]["households"] == 4
    assert categories(summary) == {"miskin_ekstrem": 3, "rentan": 1}
    assert areas(summary) == {("Cileunyi", "miskin_ekstrem"): 2, ("Cileunyi", "rentan"): 1, ("Cimenyan", "miskin_ekstrem"): 1}
    assert interventions(summary) == [("pkh", "dinsos", "delivered", 1, 600_000)]
    assert summary["convergence"]["reached_by_agencies"] == {"0": 2, "1": 1, "2": 0, "3+": 0}
    assert sorted(h["id"] for h in summary["convergence"]["unreached"]["households"]) == sorted([story["b"], story["e"]])
    assert summary["progress"] == {"baseline_extreme": 3, "remaining_extreme": 3, "graduated": 0, "percent_toward_zero": 0.0}


def test_as_effective_by_30_june_includes_late_entries_corrections_and_recategorisations(store, story):
    summary = audit_for(store).reports.summary(AUDITOR, D, "effective")
    assert summary["totals"]["households"] == 4  # e closed on 29 June; the late household counts
    assert categories(summary) == {"miskin_ekstrem": 2, "miskin": 1, "rentan": 1}
    assert areas(summary) == {
        ("Cileunyi", "miskin"): 1, ("Cileunyi", "miskin_ekstrem"): 1,
        ("Cimenyan", "miskin_ekstrem"): 1, ("Cimenyan", "rentan"): 1,
    }
    assert interventions(summary) == [("pkh", "dinsos", "delivered", 1, 600_000), ("rtlh", "disperkim", "delivered", 1, 600_000)]
    assert summary["convergence"]["reached_by_agencies"] == {"0": 1, "1": 1, "2": 0, "3+": 0}
    assert [h["id"] for h in summary["convergence"]["unreached"]["households"]] == [story["late"]]
    assert summary["progress"]["remaining_extreme"] == 2 and summary["progress"]["baseline_extreme"] == 3


def test_a_date_after_every_event_gives_the_same_answer_on_both_bases(sqlite_store, sqlite_story):
    reports = audit_for(sqlite_store).reports
    recorded = reports.summary(ADMIN, "2026-11-28", "recorded")
    effective = reports.summary(ADMIN, "2026-11-28", "effective")
    for key in ("totals", "by_category", "by_status", "by_area", "interventions", "convergence", "progress"):
        assert recorded[key] == effective[key]
    assert categories(recorded) == {"miskin": 2, "miskin_ekstrem": 1, "rentan": 1}  # a and b re-categorised


def test_a_date_before_anything_was_recorded_counts_nothing(sqlite_store, sqlite_story):
    summary = audit_for(sqlite_store).reports.summary(ADMIN, "2026-06-01", "recorded")
    assert summary["totals"] == {"households": 0, "persons": 0} and summary["interventions"] == []


def test_the_side_by_side_comparison_lists_exactly_the_figures_that_differ(store, story):
    comparison = audit_for(store).reports.compare(AUDITOR, D)
    differences = {(r["section"], r["item"]): (r["recorded"], r["effective"]) for r in comparison["differences"]}
    assert differences[("households by category", "miskin_ekstrem")] == (3, 2)
    assert differences[("households by category", "miskin")] == (0, 1)
    assert differences[("interventions", "rtlh / disperkim / delivered")] == (0, 1)
    assert differences[("households by kecamatan", "Cimenyan / rentan")] == (0, 1)
    assert differences[("progress", "remaining_extreme")] == (3, 2)
    assert ("totals", "households") not in differences
    assert all(r["difference"] == r["effective"] - r["recorded"] for r in comparison["rows"])


def test_a_supervisor_sees_only_their_kecamatan_in_both_answers(sqlite_store, sqlite_story):
    comparison = audit_for(sqlite_store).reports.compare(SUPERVISOR, D)
    assert [a["name"] for a in comparison["recorded"]["by_area"]] == ["Cileunyi"]
    assert comparison["recorded"]["totals"]["households"] == 3  # a, c (then in Cileunyi) and e
    assert comparison["effective"]["totals"]["households"] == 2  # a and the late household


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
    assert "miskin_ekstrem" in highlighted and "households" not in highlighted
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


def test_a_summary_narrowed_to_a_kecamatan_counts_by_village(sqlite_store, sqlite_story):
    summary = audit_for(sqlite_store).reports.summary(ADMIN, D, "effective", kecamatan="32.04.06")
    assert [(a["code"], a["level"], a["households"]) for a in summary["by_area"]] == [("32.04.06.1001", "village", 2)]
    with pytest.raises(InvalidValue) as refused:
        audit_for(sqlite_store).reports.summary(ADMIN, D, "effective", kecamatan="99.99")
    assert refused.value.field == "kecamatan"


def test_as_recorded_by_now_equals_the_live_monitoring_summary(store, story):
    """The replay and the incremental projection share their definitions: prove it."""
    from projections.read_models import ReadModels
    from projections.runner import build_engine

    engine = build_engine(store)
    engine.prepare()
    engine.catch_up()
    live = ReadModels(store).monitoring_summary(ADMIN)
    replayed = audit_for(store).reports.summary(ADMIN, store.clock.now(), "recorded")
    for key in ("totals", "by_category", "by_status", "by_area", "interventions", "convergence", "graduations_by_month", "progress"):
        assert replayed[key] == live[key], key


def test_a_household_that_fell_back_after_graduating_counts_as_graduated_before_and_extreme_after(store, clock):
    h = store.households
    clock.move_to(wib(2026, 3, 1))
    household = register(h, 1)
    categorise(h, household, effective_on=date(2026, 3, 1))
    clock.move_to(wib(2026, 7, 1))
    h.graduate(ADMIN, household, effective_on=date(2026, 7, 1), reason="verifikasi")
    clock.move_to(wib(2026, 10, 5))
    categorise(h, household, effective_on=date(2026, 10, 5))  # P3KE: extremely poor again
    clock.move_to(wib(2026, 11, 28))
    reports = audit_for(store).reports

    august = reports.summary(ADMIN, "2026-08-31", "effective")
    october = reports.summary(ADMIN, "2026-10-31", "effective")

    assert (august["progress"]["graduated"], august["progress"]["remaining_extreme"]) == (1, 0)
    assert (october["progress"]["graduated"], october["progress"]["remaining_extreme"]) == (0, 1)
    assert [s["status"] for s in october["by_status"]] == ["active"]


def test_the_in_memory_store_gives_the_same_answers_through_the_librarys_mapper(konvergen, clock):
    tell_story(konvergen, clock)
    reports = audit_for(konvergen).reports
    assert categories(reports.summary(AUDITOR, D, "recorded")) == {"miskin_ekstrem": 3, "rentan": 1}
    assert categories(reports.summary(AUDITOR, D, "effective")) == {"miskin_ekstrem": 2, "miskin": 1, "rentan": 1}
