"""The audit trail: one row per household event, with a summary a person can read."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from projection_builders import ADMIN
from projections.audit_trail import summarise
from projections.read_models import ReadModels
from service.access import Actor

OFFICER = Actor(username="officer.dinsos", role="agency_officer", agency="dinsos")


@pytest.fixture
def trail(konvergen_db):
    views = ReadModels(konvergen_db)
    return lambda **filters: views.audit_events(ADMIN, **filters)["items"]


def test_every_household_event_is_one_row_newest_first_with_who_what_and_when(cases_db, engine_db, trail):
    household = cases_db.register(name="Asep Sunandar")
    cases_db.categorise(household, "miskin_ekstrem", desil=1, effective_on=date(2026, 3, 1))
    intervention = cases_db.plan(household, "pkh", "dinsos", value=750_000)
    cases_db.households.deliver_intervention(
        OFFICER, household, intervention, delivered_on=date(2026, 11, 20), value_idr=900_000
    )
    engine_db.catch_up()

    rows = trail()

    assert [r["event_type"] for r in rows] == ["InterventionDelivered", "InterventionPlanned", "Categorised", "Registered"]
    assert [r["version"] for r in rows] == [4, 3, 2, 1]
    assert [r["actor"] for r in rows] == ["officer.dinsos", "admin", "admin", "admin"]
    assert {r["household_id"] for r in rows} == {household}
    assert rows[0]["effective_on"] == date(2026, 11, 20)
    assert rows[2]["effective_on"] == date(2026, 3, 1)
    assert rows[0]["summary"] == "Intervention delivered: pkh by dinsos on 2026-11-20, Rp 900.000"
    assert rows[2]["summary"] == "Categorised miskin_ekstrem (desil 1) from p3ke_dtsen_import, effective 2026-03-01: P3KE 2026"
    assert rows[3]["summary"].startswith("Registered KK 3204000000000001, head Asep Sunandar, 2 persons")
    assert all(r["recorded_at"].tzinfo is not None for r in rows)


def test_each_row_keeps_the_kk_the_household_had_when_the_event_happened(cases_db, engine_db, trail):
    household = cases_db.register()
    cases_db.households.change_kk(
        ADMIN, household, new_kk_number="3204999999999999", reason="reissue", effective_on=date(2026, 11, 2)
    )
    cases_db.categorise(household)
    engine_db.catch_up()

    assert [(r["event_type"], r["kk_number"]) for r in trail()] == [
        ("Categorised", "3204999999999999"),
        ("KKChanged", "3204000000000001"),
        ("Registered", "3204000000000001"),
    ]


def test_the_trail_filters_by_actor_household_event_type_and_time(cases_db, engine_db, trail):
    first = cases_db.register()
    second = cases_db.register()
    cases_db.categorise(second)
    intervention = cases_db.plan(second, "pkh", "dinsos")
    cases_db.households.deliver_intervention(OFFICER, second, intervention, delivered_on=date(2026, 11, 20))
    engine_db.catch_up()
    everything = trail()

    assert [r["event_type"] for r in trail(actor="officer.dinsos")] == ["InterventionDelivered"]
    assert [r["event_type"] for r in trail(household_id=first)] == ["Registered"]
    assert len(trail(event_type="Registered")) == 2
    middle = sorted(r["recorded_at"] for r in everything)[2]
    assert {r["position"] for r in trail(since=middle)} == {r["position"] for r in everything if r["recorded_at"] >= middle}
    assert {r["position"] for r in trail(until=middle)} == {r["position"] for r in everything if r["recorded_at"] < middle}
    assert trail(since=middle + timedelta(days=1)) == []


def test_pages_of_the_trail_go_back_in_time_without_gaps(cases_db, engine_db, konvergen_db):
    household = cases_db.register()
    for _ in range(4):
        cases_db.schedule(household)
    engine_db.catch_up()
    views = ReadModels(konvergen_db)

    positions, cursor = [], None
    while True:
        page = views.audit_events(ADMIN, limit=2, cursor=cursor)
        positions += [r["position"] for r in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(positions) == 5
    assert positions == sorted(positions, reverse=True)


def test_a_summary_is_one_line_of_bounded_length(cases_db, konvergen_db):
    household = cases_db.register()
    cases_db.households.cancel_follow_up(
        ADMIN, household, cases_db.schedule(household), reason="alasan\npanjang " + "x" * 400
    )
    last = list(konvergen_db.households.events.get(konvergen_db.households._load(household).id))[-1]

    summary = summarise(last)

    assert "\n" not in summary
    assert len(summary) <= 240
    assert summary.startswith("Follow-up cancelled: alasan panjang xxx")
