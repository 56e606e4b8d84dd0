"""Monitoring: counters per village kept by deltas, summed per request (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest

from projection_builders import ADMIN, CILEUNYI, CILEUNYI_KULON, CILEUNYI_WETAN, CIMENYAN, PADASUKA
from projections.read_models import ReadModels


@pytest.fixture
def summary(konvergen_db):
    views = ReadModels(konvergen_db)
    return lambda **area: views.monitoring_summary(ADMIN, **area)


def categories(result) -> dict:
    return {b["category"]: (b["households"], b["persons"]) for b in result["by_category"]}


def test_households_and_persons_are_counted_by_category_and_area(cases_db, engine_db, summary):
    first = cases_db.register(members=2, village=CILEUNYI_KULON)  # 3 persons
    cases_db.categorise(first, "miskin_ekstrem")
    second = cases_db.register(members=0, village=CILEUNYI_WETAN)  # 1 person
    cases_db.categorise(second, "miskin")
    cases_db.register(members=1, village=PADASUKA)  # 2 persons, not categorised
    engine_db.catch_up()

    result = summary()

    assert result["totals"] == {"households": 3, "persons": 6}
    assert categories(result) == {"miskin_ekstrem": (1, 3), "miskin": (1, 1), "uncategorised": (1, 2)}
    by_kecamatan = {a["code"]: (a["name"], a["households"], a["persons"]) for a in result["by_area"]}
    assert by_kecamatan == {CILEUNYI: ("Cileunyi", 2, 4), CIMENYAN: ("Cimenyan", 1, 2)}
    narrowed = summary(kecamatan=CILEUNYI)
    assert [(a["code"], a["level"], a["categories"]) for a in narrowed["by_area"]] == [
        (CILEUNYI_KULON, "village", {"miskin_ekstrem": {"households": 1, "persons": 3}}),
        (CILEUNYI_WETAN, "village", {"miskin": {"households": 1, "persons": 1}}),
    ]
    assert summary(village=PADASUKA)["totals"] == {"households": 1, "persons": 2}


def test_a_member_joining_or_leaving_changes_the_persons_count(cases_db, engine_db, summary):
    household = cases_db.register(members=2)
    cases_db.households.record_member_left(
        ADMIN, household, cases_db.member_niks(household)[0], reason="died", left_on=date(2026, 11, 1)
    )
    engine_db.catch_up()

    assert summary()["totals"] == {"households": 1, "persons": 2}


def test_interventions_are_summed_by_programme_agency_strategy_and_status(cases_db, engine_db, summary):
    household = cases_db.register()
    pkh = cases_db.plan(household, "pkh", "dinsos", value=750_000)
    cases_db.plan(household, "pkh", "dinsos", value=600_000)
    rtlh = cases_db.plan(household, "rtlh", "disperkim", value=20_000_000)
    cases_db.deliver(household, pkh, value=900_000)  # the delivered amount replaces the planned one
    cases_db.cancel(household, rtlh)
    engine_db.catch_up()

    rows = {(i["programme"], i["agency"], i["strategy"], i["status"]): (i["interventions"], i["value_idr"])
            for i in summary()["interventions"]}
    assert rows == {
        ("pkh", "dinsos", "pengurangan_beban", "delivered"): (1, 900_000),
        ("pkh", "dinsos", "pengurangan_beban", "planned"): (1, 600_000),
        ("rtlh", "disperkim", "penurunan_kantong_kemiskinan", "cancelled"): (1, 20_000_000),
    }


def test_convergence_counts_extremely_poor_households_by_agencies_that_delivered(cases_db, engine_db, summary):
    nobody = cases_db.register(name="Nobody")
    cases_db.categorise(nobody, "miskin_ekstrem")
    cases_db.plan(nobody, "pkh", "dinsos")  # planned is not reached
    one = cases_db.register(name="One")
    cases_db.categorise(one, "miskin_ekstrem")
    cases_db.plan(one, "pkh", "dinsos", delivered_on=date(2026, 11, 20))
    cases_db.plan(one, "bpnt", "dinsos", delivered_on=date(2026, 11, 20))  # same agency again
    three = cases_db.register(name="Three")
    cases_db.categorise(three, "miskin_ekstrem")
    for programme, agency in [("pkh", "dinsos"), ("pbi_jk", "dinkes"), ("rtlh", "disperkim"), ("pip", "disdik")]:
        cases_db.plan(three, programme, agency, delivered_on=date(2026, 11, 20))
    poor = cases_db.register(name="Poor, not extreme")
    cases_db.categorise(poor, "miskin")
    engine_db.catch_up()

    convergence = summary()["convergence"]

    assert convergence["reached_by_agencies"] == {"0": 1, "1": 1, "2": 0, "3+": 1}
    assert convergence["unreached"]["count"] == 1
    assert [h["id"] for h in convergence["unreached"]["households"]] == [nobody]
    assert convergence["unreached"]["households"][0]["head_name"] == "Nobody"


def test_graduations_count_by_month_and_progress_counts_toward_zero(cases_db, engine_db, summary):
    households = [cases_db.register() for _ in range(4)]
    for household in households:
        cases_db.categorise(household, "miskin_ekstrem", effective_on=date(2026, 1, 10))
    cases_db.graduate(households[0], effective_on=date(2026, 9, 30))
    cases_db.graduate(households[1], effective_on=date(2026, 10, 1))
    cases_db.categorise(households[2], "miskin", effective_on=date(2026, 8, 1))
    engine_db.catch_up()

    result = summary()

    assert result["graduations_by_month"] == [
        {"month": "2026-09", "households": 1},
        {"month": "2026-10", "households": 1},
    ]
    assert result["progress"] == {
        "baseline_extreme": 4,
        "remaining_extreme": 1,
        "graduated": 2,
        "percent_toward_zero": 75.0,
    }


def test_a_graduated_household_found_extremely_poor_again_counts_as_remaining_not_graduated(cases_db, engine_db, summary):
    fell_back, stayed = cases_db.register(), cases_db.register()
    for household in (fell_back, stayed):
        cases_db.categorise(household, "miskin_ekstrem", effective_on=date(2026, 1, 10))
        cases_db.graduate(household, effective_on=date(2026, 9, 30))
    cases_db.categorise(fell_back, "miskin_ekstrem", effective_on=date(2026, 11, 2))
    engine_db.catch_up()

    result = summary()

    assert result["progress"] == {
        "baseline_extreme": 2, "remaining_extreme": 1, "graduated": 1, "percent_toward_zero": 50.0,
    }
    assert result["graduations_by_month"] == [{"month": "2026-09", "households": 2}]  # both did graduate then
    assert categories(result)["miskin_ekstrem"] == (2, 4)  # two households of two persons


def test_a_household_moving_village_takes_all_its_numbers_along(cases_db, engine_db, summary):
    household = cases_db.register(members=1, village=CILEUNYI_KULON)
    cases_db.categorise(household, "miskin_ekstrem")
    cases_db.plan(household, "pkh", "dinsos", value=750_000, delivered_on=date(2026, 11, 20))
    engine_db.catch_up()
    cases_db.move(household, PADASUKA)
    engine_db.catch_up()

    assert summary(kecamatan=CILEUNYI)["totals"] == {"households": 0, "persons": 0}
    assert summary(kecamatan=CILEUNYI)["interventions"] == []
    moved = summary(village=PADASUKA)
    assert moved["totals"] == {"households": 1, "persons": 2}
    assert [(i["programme"], i["value_idr"]) for i in moved["interventions"]] == [("pkh", 750_000)]
    assert moved["convergence"]["reached_by_agencies"]["1"] == 1


def test_a_closed_household_leaves_the_counts_and_reopening_brings_it_back(cases_db, engine_db, summary):
    household = cases_db.register(members=1)
    cases_db.categorise(household, "miskin_ekstrem")
    cases_db.plan(household, delivered_on=date(2026, 11, 20))
    cases_db.close(household)
    engine_db.catch_up()

    closed = summary()
    assert closed["totals"] == {"households": 0, "persons": 0}
    assert closed["progress"]["baseline_extreme"] == 0
    assert [i["interventions"] for i in closed["interventions"]] == [1]  # delivered aid still counts

    cases_db.reopen(household)
    engine_db.catch_up()
    assert summary()["totals"] == {"households": 1, "persons": 2}


def test_an_unknown_area_is_refused_naming_the_field(konvergen_db, engine_db):
    from domain.errors import InvalidValue

    with pytest.raises(InvalidValue) as refused:
        ReadModels(konvergen_db).monitoring_summary(ADMIN, village="32.04.99.9999")
    assert refused.value.field == "village"
