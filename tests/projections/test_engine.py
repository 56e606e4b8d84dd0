"""The engine: batches and positions in one transaction, stale code rebuilt, rebuilds replayable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Column, Integer, MetaData, select, update

from projection_builders import make_history, rows
from projections.engine import BUILDING, ProjectionEngine, tracking
from projections.monitoring import monitoring_categories
from projections.register import HouseholdRegister, register_households
from projections.runner import build_engine, build_projections
from projections.verify import verify


class HandlerFailure(Exception):
    pass


def fail_on_event(engine: ProjectionEngine, name: str, nth: int, *, while_writing: bool = True) -> None:
    """Makes one projection fail on the batch holding its ``nth`` event: in its handlers
    (while staging), or half-way through writing (its rows for the batch are written, as
    are the views' before it, then it raises)."""
    projection = engine.projections[name]
    original = projection.stage
    seen = {"events": 0}

    def failing_stage(conn, events):
        start = seen["events"]
        seen["events"] += len(events)
        if not start < nth <= seen["events"]:
            return original(conn, events)
        if not while_writing:
            original(conn, events[: nth - start - 1])
            raise HandlerFailure(f"event {nth}")
        staged = original(conn, events)

        class DiesMidWrite:
            def write(self, conn):
                staged.write(conn)
                raise HandlerFailure(f"event {nth}")

        return DiesMidWrite()

    projection.stage = failing_stage


@pytest.mark.parametrize("while_writing", [True, False], ids=["while-writing", "in-a-handler"])
def test_a_failure_mid_batch_leaves_no_trace_and_a_restart_equals_a_rebuild(konvergen_db, cases_db, while_writing):
    first = build_engine(konvergen_db, batch_size=7)
    first.prepare()
    make_history(cases_db)
    fail_on_event(first, "monitoring", nth=12, while_writing=while_writing)

    with pytest.raises(HandlerFailure):
        first.catch_up()

    # The failing batch (events 8-14) rolled back for all four views at once.
    assert set(first.positions().values()) == {first.positions()["monitoring"]}
    assert first.tracking_rows()["monitoring"]["last_error"] == "HandlerFailure: event 12"
    applied = first.positions()["household_register"]
    assert 0 < applied < first.log.head()

    restarted = build_engine(konvergen_db, batch_size=7)
    restarted.prepare()
    restarted.catch_up()

    assert set(restarted.positions().values()) == {restarted.log.head()}
    assert restarted.tracking_rows()["monitoring"]["last_error"] is None
    report = verify(restarted)
    assert report.ok, [d.describe() for d in report.differences]
    assert sum(report.rows_compared.values()) > 40


def test_views_caught_up_in_many_small_batches_equal_one_replay(konvergen, cases):
    engine = build_engine(konvergen, batch_size=3)
    engine.prepare()
    for round_ in range(3):
        make_history(cases, households=2)
        engine.catch_up()

    assert verify(engine).ok


def test_a_runner_that_lost_the_race_for_a_batch_applies_nothing(konvergen, cases):
    slow = build_engine(konvergen)
    slow.prepare()
    make_history(cases, households=1)
    batch = slow.log.read(0, 100)
    build_engine(konvergen).catch_up()  # another runner got there first

    assert slow._apply(list(slow.projections), 0, batch) is False
    assert verify(slow).ok


def test_a_projection_built_by_other_code_is_stale_and_prepare_rebuilds_it(konvergen, cases, engine):
    make_history(cases, households=2)
    engine.catch_up()
    with konvergen.storage.engine.begin() as conn:
        conn.execute(update(tracking).where(tracking.c.name == "monitoring").values(version="0-old"))
        conn.execute(monitoring_categories.delete())

    assert engine.stale() == ["monitoring"]
    assert [row["stale"] for row in engine.status() if row["name"] == "monitoring"] == [True]

    assert engine.prepare() == ["monitoring"]
    assert engine.stale() == []
    assert rows(konvergen, monitoring_categories) != []
    assert verify(engine).ok


def test_a_rebuild_that_died_half_way_is_stale_until_it_is_redone(konvergen, cases):
    make_history(cases, households=2)
    engine = build_engine(konvergen)
    fail_on_event(engine, "household_register", nth=3)

    with pytest.raises(HandlerFailure):
        engine.rebuild()

    assert engine.tracking_rows()["household_register"]["version"].endswith(BUILDING)
    assert "household_register" in engine.stale()
    healthy = build_engine(konvergen)
    assert "household_register" in healthy.prepare()
    assert verify(healthy).ok


def test_a_rebuild_replaces_whatever_the_tables_held_with_the_events_truth(konvergen, cases, engine):
    make_history(cases, households=3)
    engine.catch_up()
    with konvergen.storage.engine.begin() as conn:
        conn.execute(update(register_households).values(head_name="Tampered"))

    engine.rebuild(["household_register"])

    assert "Tampered" not in {row["head_name"] for row in rows(konvergen, register_households)}
    assert verify(engine).ok


def test_projections_at_different_positions_catch_up_and_then_move_together(konvergen, cases):
    engine = build_engine(konvergen)
    engine.prepare()
    make_history(cases, households=2)
    engine.catch_up(["household_register"])
    make_history(cases, households=1)

    engine.catch_up()

    assert set(engine.positions().values()) == {engine.log.head()}
    assert verify(engine).ok


def test_only_the_named_projection_is_rebuilt(konvergen, cases, engine):
    make_history(cases, households=1)
    engine.catch_up()
    before = engine.tracking_rows()["audit_trail"]["updated_at"]

    engine.rebuild(["household_register"])

    assert engine.tracking_rows()["audit_trail"]["updated_at"] == before


def test_an_unknown_projection_name_is_refused_with_the_known_ones():
    from domain.errors import InvalidValue

    engine = ProjectionEngine(None, None, build_projections(None))
    with pytest.raises(InvalidValue) as refused:
        engine.names(["monitorin"])
    assert "monitoring" in str(refused.value)


def test_status_reports_position_and_lag_in_events_and_seconds(
    konvergen, cases, engine, clock, recorded_times_follow_the_clock
):
    make_history(cases, households=1)
    engine.catch_up()
    head = engine.log.head()
    cases.schedule(cases.register())
    clock.move_to(clock.now() + timedelta(seconds=90))

    status = {row["name"]: row for row in engine.status()}

    register = status["household_register"]
    assert (register["position"], register["head"]) == (head, engine.log.head())
    assert register["lag_events"] == engine.log.head() - head
    assert register["lag_seconds"] == 90.0
    assert {row["lag_seconds"] for row in status.values()} == {90.0}
    assert register["stale"] is False
    engine.catch_up()
    assert {row["lag_events"] for row in engine.status()} == {0}


def test_a_change_to_a_views_tables_changes_its_code_version():
    wider = register_households.to_metadata(MetaData())
    wider.append_column(Column("extra", Integer))

    class WiderRegister(HouseholdRegister):
        tables = (wider,)

    assert WiderRegister.code_version() != HouseholdRegister.code_version()
    assert HouseholdRegister.code_version() == HouseholdRegister.code_version()


def test_the_tracking_row_records_when_the_last_applied_event_was_recorded(konvergen, cases, engine):
    cases.register()
    engine.catch_up()
    with konvergen.storage.engine.connect() as conn:
        moments = conn.execute(select(tracking.c.last_event_at)).scalars().all()
    assert len(moments) == 4
    assert all(moment is not None for moment in moments)
