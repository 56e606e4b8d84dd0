"""Verification replays into a scratch SQLite file and compares row for row, on either database."""

from __future__ import annotations

from sqlalchemy import delete, insert, update

from projections.follow_ups import open_follow_ups
from projections.monitoring import monitoring_categories
from projections.verify import verify


def test_missing_unexpected_and_changed_rows_are_each_reported(konvergen_db, cases_db, engine_db):
    first = cases_db.register(name="Satu")
    cases_db.categorise(first, "miskin")
    cases_db.schedule(cases_db.register(name="Dua"))
    engine_db.catch_up()
    assert verify(engine_db).ok  # live PostgreSQL rows compare equal to the SQLite replay too

    with konvergen_db.storage.engine.begin() as conn:
        conn.execute(delete(open_follow_ups))
        conn.execute(update(monitoring_categories).where(monitoring_categories.c.category == "miskin").values(persons=99))
        conn.execute(
            insert(monitoring_categories).values(
                village_code="32.04.05.2002", category="rentan", status="active", kecamatan_code="32.04.05",
                households=5, persons=20,
            )
        )

    report = verify(engine_db)

    assert not report.ok
    found = {(d.table, d.kind) for d in report.differences}
    assert found == {
        ("open_follow_ups", "missing"),
        ("monitoring_categories", "different"),
        ("monitoring_categories", "unexpected"),
    }
    [changed] = [d for d in report.differences if d.kind == "different"]
    assert changed.detail == "persons: live 99, rebuilt 2"


def test_a_stale_projection_is_reported_rather_than_compared(konvergen_db, cases_db, engine_db):
    from projections.engine import tracking

    cases_db.register()
    engine_db.catch_up()
    with konvergen_db.storage.engine.begin() as conn:
        conn.execute(update(tracking).where(tracking.c.name == "audit_trail").values(version="0-old"))

    report = verify(engine_db, ["audit_trail"])

    assert [(d.kind, d.key) for d in report.differences] == [("stale", ("audit_trail",))]


def test_views_behind_the_newest_event_are_compared_with_a_replay_up_to_their_own_position(konvergen_db, cases_db, engine_db):
    cases_db.register(name="Satu")
    engine_db.catch_up(["household_register"])
    cases_db.register(name="Dua")  # not applied yet: the views are behind the log
    engine_db.catch_up(["monitoring"])
    cases_db.register(name="Tiga")

    report = verify(engine_db)

    assert report.ok, [d.describe() for d in report.differences]
    assert report.rows_compared["household_register.register_households"] == 1
    assert report.rows_compared["monitoring.monitoring_households"] == 2
