"""The household register: commands in, one searchable row per household out (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from domain.errors import InvalidValue
from projection_builders import ADMIN, CILEUNYI, CILEUNYI_KULON, CILEUNYI_WETAN, PADASUKA
from projections.read_models import ReadModels


@pytest.fixture
def register(konvergen_db):
    views = ReadModels(konvergen_db)
    return lambda **filters: views.households(ADMIN, **filters)


def test_a_registered_household_appears_with_its_head_kk_area_and_counts(cases_db, engine_db, register):
    household = cases_db.register(name="Asep Sunandar", members=2)
    cases_db.categorise(household, "miskin_ekstrem", desil=1)
    cases_db.plan(household, "pkh", "dinsos", delivered_on=date(2026, 11, 20))
    cases_db.plan(household, "pbi_jk", "dinkes", delivered_on=date(2026, 11, 21))
    cases_db.plan(household, "bpnt", "dinsos")
    cases_db.schedule(household, due_on=date(2026, 12, 20))
    cases_db.schedule(household, due_on=date(2026, 12, 5))
    engine_db.catch_up()

    [row] = register()["items"]

    assert row["id"] == household
    assert row["kk_number"] == "3204000000000001"
    assert row["head_name"] == "Asep Sunandar"
    assert (row["village_code"], row["village_name"]) == (CILEUNYI_KULON, "Cileunyi Kulon")
    assert (row["kecamatan_code"], row["kecamatan_name"]) == (CILEUNYI, "Cileunyi")
    assert (row["category"], row["desil"], row["status"]) == ("miskin_ekstrem", 1, "active")
    assert (row["planned_interventions"], row["delivered_interventions"], row["delivering_agencies"]) == (1, 2, 2)
    assert (row["open_follow_ups"], row["next_follow_up_on"]) == (2, date(2026, 12, 5))
    assert row["version"] == 9
    assert row["has_overdue_follow_up"] is False


def test_a_household_is_found_by_its_kk_or_by_the_nik_of_anyone_still_in_it(cases_db, engine_db, register):
    household = cases_db.register(members=2)
    other = cases_db.register(name="Ujang")
    engine_db.catch_up()
    kk = register(q="Asep")["items"][0]["kk_number"]

    assert [r["id"] for r in register(q=kk)["items"]] == [household]
    assert [r["id"] for r in register(kk_number=kk)["items"]] == [household]
    for member in [cases_db.head_nik(household), *cases_db.member_niks(household)]:
        assert [r["id"] for r in register(q=member)["items"]] == [household]
        assert [r["id"] for r in register(nik=member)["items"]] == [household]
    assert [r["id"] for r in register(nik=cases_db.head_nik(other))["items"]] == [other]


def test_a_member_who_left_is_no_longer_found_by_their_nik(cases_db, engine_db, register):
    household = cases_db.register(members=2)
    leaving = cases_db.member_niks(household)[0]
    cases_db.households.record_member_left(ADMIN, household, leaving, reason="moved", left_on=date(2026, 11, 1))
    engine_db.catch_up()

    assert register(nik=leaving)["items"] == []
    assert len(register(nik=cases_db.member_niks(household)[1])["items"]) == 1


def test_a_member_who_left_and_came_back_is_found_by_their_nik_and_counted_once(konvergen_db, cases_db, engine_db, register):
    household = cases_db.register(members=2)
    returning = next(m for m in cases_db.households.get_household(ADMIN, household)["members"]
                     if m["nik"] == cases_db.member_niks(household)[0])
    cases_db.households.record_member_left(ADMIN, household, returning["nik"], reason="moved", left_on=date(2026, 10, 1))
    person = {key: returning[key] for key in ("nik", "name", "sex", "birth_date", "relationship")}
    cases_db.households.add_member(ADMIN, household, member=person, joined_on=date(2026, 11, 1))
    engine_db.catch_up()

    assert [r["id"] for r in register(nik=returning["nik"])["items"]] == [household]
    assert ReadModels(konvergen_db).monitoring_summary(ADMIN)["totals"] == {"households": 1, "persons": 3}


def test_a_graduated_household_found_extremely_poor_again_is_listed_as_active(cases_db, engine_db, register):
    household = cases_db.register()
    cases_db.categorise(household, "miskin_ekstrem", effective_on=date(2026, 1, 10))
    cases_db.graduate(household, effective_on=date(2026, 9, 30))
    cases_db.categorise(household, "miskin_ekstrem", effective_on=date(2026, 11, 2))
    engine_db.catch_up()

    assert [(r["id"], r["status"]) for r in register(status="active")["items"]] == [(household, "active")]
    assert register(status="graduated")["items"] == []


def test_name_search_is_a_prefix_match_ignoring_case_and_accents(cases_db, engine_db, register):
    cases_db.register(name="Siti Aminah")
    cases_db.register(name="Sitti Rohmah")
    cases_db.register(name="Dédé Suryana")
    cases_db.register(name="Asep Siti")
    engine_db.catch_up()

    assert [r["head_name"] for r in register(q="SITI")["items"]] == ["Siti Aminah"]
    assert [r["head_name"] for r in register(name="sit")["items"]] == ["Siti Aminah", "Sitti Rohmah"]
    assert [r["head_name"] for r in register(q="dede s")["items"]] == ["Dédé Suryana"]


def test_a_corrected_head_name_is_what_the_search_finds(cases_db, engine_db, register):
    household = cases_db.register(name="Asep Sunandr")
    cases_db.households.correct_identification(ADMIN, household, head_name="Asep Sunandar", reason="ejaan")
    engine_db.catch_up()

    assert [r["head_name"] for r in register(q="asep sunandar")["items"]] == ["Asep Sunandar"]


def test_filters_narrow_by_area_category_desil_and_households_nobody_delivered_to(cases_db, engine_db, register):
    reached = cases_db.register(name="A", village=CILEUNYI_KULON)
    cases_db.categorise(reached, "miskin_ekstrem", desil=1)
    cases_db.plan(reached, delivered_on=date(2026, 11, 20))
    waiting = cases_db.register(name="B", village=CILEUNYI_WETAN)
    cases_db.categorise(waiting, "miskin_ekstrem", desil=2)
    cases_db.plan(waiting)  # planned only
    elsewhere = cases_db.register(name="C", village=PADASUKA)
    cases_db.categorise(elsewhere, "rentan", desil=5)
    engine_db.catch_up()

    def names(**filters):
        return [r["head_name"] for r in register(**filters)["items"]]

    assert names(kecamatan=CILEUNYI) == ["A", "B"]
    assert names(village=CILEUNYI_WETAN) == ["B"]
    assert names(category="miskin_ekstrem") == ["A", "B"]
    assert names(desil=5) == ["C"]
    assert names(without_delivery=True) == ["B", "C"]
    assert names(without_delivery=True, category="miskin_ekstrem", kecamatan=CILEUNYI) == ["B"]


def test_overdue_is_decided_by_todays_date_when_asked_not_by_a_stored_flag(cases_db, engine_db, register, clock):
    household = cases_db.register(name="A")
    cases_db.schedule(household, due_on=date(2026, 12, 5))
    cases_db.register(name="B")
    engine_db.catch_up()
    assert register(overdue=True)["items"] == []

    clock.move_to(datetime(2026, 12, 6, 3, 0, tzinfo=timezone.utc))  # no event, only time passes

    assert [r["head_name"] for r in register(overdue=True)["items"]] == ["A"]
    assert register(q="A")["items"][0]["has_overdue_follow_up"] is True


def test_the_current_category_is_the_latest_effective_one_whatever_the_recording_order(cases_db, engine_db, register):
    household = cases_db.register()
    cases_db.categorise(household, "miskin", desil=3, effective_on=date(2026, 6, 1))
    cases_db.categorise(household, "miskin_ekstrem", desil=1, effective_on=date(2026, 2, 1))  # late paperwork
    engine_db.catch_up()

    [row] = register()["items"]
    assert (row["category"], row["desil"]) == ("miskin", 3)


def test_pages_follow_name_order_and_together_hold_every_household_once(cases_db, engine_db, register):
    for name in ["Euis", "Asep", "Cecep", "Dadang", "Budi", "Asep"]:
        cases_db.register(name=name)
    engine_db.catch_up()

    seen, cursor = [], None
    while True:
        page = register(limit=2, cursor=cursor)
        seen += [(r["head_name"], r["id"]) for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [name for name, _ in seen] == ["Asep", "Asep", "Budi", "Cecep", "Dadang", "Euis"]
    assert len({household for _, household in seen}) == 6


def test_a_cursor_the_list_did_not_give_out_is_refused_naming_the_field(cases_db, engine_db, register):
    with pytest.raises(InvalidValue) as refused:
        register(cursor="not-a-cursor")
    assert refused.value.field == "cursor"


def test_lifecycle_and_kk_changes_show_in_the_row(cases_db, engine_db, register):
    household = cases_db.register()
    cases_db.categorise(household)
    cases_db.graduate(household)
    cases_db.close(household)
    engine_db.catch_up()
    assert register()["items"][0]["status"] == "closed"

    cases_db.reopen(household)
    cases_db.households.change_kk(ADMIN, household, new_kk_number="3204999999999999", reason="pecah_kk",
                                 effective_on=date(2026, 11, 2))
    engine_db.catch_up()
    [row] = register()["items"]
    assert (row["status"], row["kk_number"]) == ("graduated", "3204999999999999")
    assert register(status="graduated")["items"][0]["id"] == household
