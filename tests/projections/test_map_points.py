"""Coordinates in the household register, and the map's points read from it (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from domain.errors import InvalidValue
from projection_builders import ADMIN, CILEUNYI, CILEUNYI_KULON, CILEUNYI_WETAN, CIMENYAN, PADASUKA, rows
from projections.read_models import ReadModels
from projections.register import register_households
from service.access import Actor

HERE = {"lat": -6.93, "lon": 107.75}
THERE = {"lat": -6.95, "lon": 107.71}
WORKER = Actor(username="asep", role="case_worker", villages=frozenset({CILEUNYI_KULON}))
SUPERVISOR = Actor(username="dedi", role="supervisor", kecamatan=CIMENYAN)


@pytest.fixture
def views(konvergen_db):
    return ReadModels(konvergen_db)


def _names(result: dict) -> list[str]:
    return [p["head_name"] for p in result["items"]]


def test_coordinates_come_from_the_registration_and_follow_corrections_and_clearing(cases_db, engine_db, konvergen_db):
    located = cases_db.register(name="Asep", location=HERE)
    unlocated = cases_db.register(name="Budi")
    engine_db.catch_up()

    def coordinates(household_id):
        [row] = rows(konvergen_db, register_households, household_id=household_id)
        return row["lat"], row["lon"]

    assert coordinates(located) == (-6.93, 107.75)
    assert coordinates(unlocated) == (None, None)

    cases_db.households.correct_identification(ADMIN, located, location=THERE, reason="titik salah")
    cases_db.households.correct_identification(ADMIN, unlocated, location=HERE, reason="titik baru")
    engine_db.catch_up()
    assert coordinates(located) == (-6.95, 107.71)
    assert coordinates(unlocated) == (-6.93, 107.75)

    cases_db.households.correct_identification(ADMIN, located, clear_location=True, reason="titik tidak pasti")
    cases_db.households.correct_identification(ADMIN, unlocated, head_name="Budi Santoso", reason="ejaan")
    engine_db.catch_up()
    assert coordinates(located) == (None, None)
    assert coordinates(unlocated) == (-6.93, 107.75)  # a correction without a location keeps it


def test_map_points_are_the_households_with_coordinates_in_the_readers_area(cases_db, engine_db, views):
    kulon = cases_db.register(name="Asep", village=CILEUNYI_KULON, location=HERE)
    cases_db.register(name="Budi", village=CILEUNYI_KULON)  # no coordinates: not on the map
    cases_db.register(name="Cecep", village=CILEUNYI_WETAN, location=THERE)
    cases_db.register(name="Dadang", village=PADASUKA, location=HERE)
    engine_db.catch_up()

    assert _names(views.map_points(ADMIN)) == ["Asep", "Cecep", "Dadang"]
    assert _names(views.map_points(WORKER)) == ["Asep"]
    assert _names(views.map_points(SUPERVISOR)) == ["Dadang"]
    assert _names(views.map_points(WORKER, kecamatan=CIMENYAN)) == []  # a filter never widens the scope

    [point] = views.map_points(WORKER)["items"]
    assert point == {
        "id": kulon, "kk_number": "3204000000000001", "head_name": "Asep", "category": None,
        "lat": -6.93, "lon": 107.75, "village_code": CILEUNYI_KULON, "village_name": "Cileunyi Kulon",
    }


def test_map_points_take_the_same_filters_as_the_household_list(cases_db, engine_db, views, clock):
    asep = cases_db.register(name="Asep", village=CILEUNYI_KULON, location=HERE)
    budi = cases_db.register(name="Budi", village=CILEUNYI_WETAN, location=THERE)
    cases_db.register(name="Dadang", village=PADASUKA, location=HERE)
    cases_db.categorise(asep, "miskin_ekstrem", desil=1)
    cases_db.categorise(budi, "miskin", desil=3)
    cases_db.plan(budi, "pkh", "dinsos", delivered_on=date(2026, 11, 20))
    cases_db.schedule(asep, due_on=date(2026, 12, 5))
    engine_db.catch_up()
    clock.move_to(datetime(2026, 12, 6, 3, 0, tzinfo=timezone.utc))  # Asep's visit is now overdue

    def names(**filters):
        return _names(views.map_points(ADMIN, **filters))

    assert names(kecamatan=CILEUNYI) == ["Asep", "Budi"]
    assert names(village=CILEUNYI_WETAN) == ["Budi"]
    assert names(category="miskin_ekstrem") == ["Asep"]
    assert names(desil=3) == ["Budi"]
    assert names(q="bu") == ["Budi"]
    assert names(q=cases_db.head_nik(budi)) == ["Budi"]
    assert names(overdue=True) == ["Asep"]
    assert names(without_delivery=True) == ["Asep", "Dadang"]

    with pytest.raises(InvalidValue) as refused:
        views.map_points(ADMIN, village="32.04.99.9999")
    assert refused.value.field == "village"


def test_map_points_stop_at_the_limit_and_say_they_were_cut(cases_db, engine_db, views):
    for name in ("Asep", "Budi", "Cecep"):
        cases_db.register(name=name, location=HERE)
    engine_db.catch_up()

    cut = views.map_points(ADMIN, limit=2)
    assert (_names(cut), cut["truncated"]) == (["Asep", "Budi"], True)
    whole = views.map_points(ADMIN, limit=3)
    assert (_names(whole), whole["truncated"]) == (["Asep", "Budi", "Cecep"], False)
