"""Open follow-ups: one row each while open; overdue and due soon decided when asked."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from projection_builders import ADMIN, CILEUNYI_KULON, CILEUNYI_WETAN, PADASUKA
from projections.read_models import ReadModels


@pytest.fixture
def follow_ups(konvergen_db):
    views = ReadModels(konvergen_db)
    return lambda **filters: views.follow_ups(ADMIN, **filters)["items"]


def test_each_open_follow_up_is_one_row_and_finished_ones_disappear(cases_db, engine_db, follow_ups):
    household = cases_db.register(name="Asep")
    visit = cases_db.schedule(household, due_on=date(2026, 12, 5), assignee="asep.pendamping", purpose="Cek rumah")
    done = cases_db.schedule(household, due_on=date(2026, 12, 1))
    dropped = cases_db.schedule(household, due_on=date(2026, 12, 2))
    cases_db.households.complete_follow_up(ADMIN, household, done, completed_on=date(2026, 11, 28), outcome="ditemui")
    cases_db.households.cancel_follow_up(ADMIN, household, dropped, reason="tidak perlu")
    engine_db.catch_up()

    [row] = follow_ups()

    assert (row["id"], row["household_id"], row["head_name"]) == (visit, household, "Asep")
    assert (row["village_code"], row["village_name"]) == (CILEUNYI_KULON, "Cileunyi Kulon")
    assert (row["assigned_to"], row["due_on"], row["purpose"]) == ("asep.pendamping", date(2026, 12, 5), "Cek rumah")


def test_overdue_and_due_soon_follow_the_calendar_without_any_new_event(cases_db, engine_db, follow_ups, clock):
    household = cases_db.register()
    soon = cases_db.schedule(household, due_on=date(2026, 12, 1))
    later = cases_db.schedule(household, due_on=date(2027, 1, 15))
    engine_db.catch_up()
    assert follow_ups(status="overdue") == []
    assert [f["id"] for f in follow_ups(status="due-soon")] == [soon]
    assert [f["id"] for f in follow_ups(status="open")] == [soon, later]

    clock.move_to(datetime(2026, 12, 4, 3, 0, tzinfo=timezone.utc))

    [overdue] = follow_ups(status="overdue")
    assert (overdue["id"], overdue["overdue"], overdue["days_overdue"]) == (soon, True, 3)
    assert follow_ups(status="due-soon") == []
    views = ReadModels(cases_db.konvergen)
    assert [views.count_follow_ups(ADMIN, status=s) for s in ("overdue", "due-soon", "open")] == [1, 0, 2]


def test_rescheduling_moves_the_due_date_and_the_assignee(cases_db, engine_db, follow_ups):
    household = cases_db.register()
    visit = cases_db.schedule(household, due_on=date(2026, 12, 5), assignee="asep.pendamping")
    cases_db.households.reschedule_follow_up(
        ADMIN, household, visit, due_on=date(2026, 12, 20), assigned_to="euis.pendamping", reason="cuti"
    )
    engine_db.catch_up()

    assert follow_ups(assignee="asep.pendamping") == []
    [row] = follow_ups(assignee="euis.pendamping")
    assert row["due_on"] == date(2026, 12, 20)


def test_filters_by_village_and_kecamatan(cases_db, engine_db, follow_ups):
    for village in (CILEUNYI_KULON, CILEUNYI_WETAN, PADASUKA):
        cases_db.schedule(cases_db.register(village=village))
    engine_db.catch_up()

    assert sorted(f["village_code"] for f in follow_ups(kecamatan="32.04.05")) == [CILEUNYI_KULON, CILEUNYI_WETAN]
    assert [f["village_code"] for f in follow_ups(village=PADASUKA)] == [PADASUKA]


def test_a_closed_households_follow_ups_are_not_listed_until_it_reopens(cases_db, engine_db, follow_ups):
    household = cases_db.register()
    visit = cases_db.schedule(household)
    cases_db.close(household)
    engine_db.catch_up()
    assert follow_ups() == []

    cases_db.reopen(household)
    engine_db.catch_up()
    assert [f["id"] for f in follow_ups()] == [visit]


def test_a_household_that_moves_or_gets_a_new_kk_carries_its_follow_ups_along(cases_db, engine_db, follow_ups):
    household = cases_db.register()
    cases_db.schedule(household)
    engine_db.catch_up()
    cases_db.move(household, PADASUKA)
    cases_db.households.change_kk(
        ADMIN, household, new_kk_number="3204999999999999", reason="pecah_kk", effective_on=date(2026, 11, 2)
    )
    engine_db.catch_up()

    [row] = follow_ups()
    assert (row["village_code"], row["kecamatan_code"], row["kk_number"]) == (PADASUKA, "32.04.06", "3204999999999999")


def test_pages_of_follow_ups_continue_where_the_last_one_stopped(cases_db, engine_db, konvergen_db):
    household = cases_db.register()
    made = [cases_db.schedule(household, due_on=date(2026, 12, day)) for day in (9, 3, 5, 3, 7)]
    engine_db.catch_up()
    views = ReadModels(konvergen_db)

    seen, cursor = [], None
    while True:
        page = views.follow_ups(ADMIN, limit=2, cursor=cursor)
        seen += [(f["due_on"].day, f["id"]) for f in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert [day for day, _ in seen] == [3, 3, 5, 7, 9]
    assert sorted(follow_up for _, follow_up in seen) == sorted(made)
