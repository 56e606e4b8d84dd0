"""The shared building blocks: bulk writes store what SQLAlchemy would, counters vanish at zero."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import Column, Date, DateTime, Integer, MetaData, String, Table, create_engine, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.pool import StaticPool

from projections.sql import Counters, RowSet, _same_text_faster, write_transaction

MOMENTS = [
    datetime(2026, 6, 1, 3, 0, tzinfo=timezone.utc),
    datetime(2026, 6, 1, 3, 0, 0, 7, tzinfo=timezone.utc),
    datetime(999, 1, 2, 3, 4, 5, 6),
    datetime(2026, 1, 1, 23, 30, tzinfo=timezone(timedelta(hours=7))),
]


def test_the_fast_sqlite_date_and_time_text_is_exactly_what_sqlalchemy_writes():
    dialect = sqlite.dialect()
    for column_type, values in ((DateTime(timezone=True), MOMENTS), (Date(), [date(2026, 1, 2), date(5, 1, 1)])):
        impl = column_type.dialect_impl(dialect)
        fast, standard = _same_text_faster(impl), impl.bind_processor(dialect)
        assert fast is not None
        assert [fast(v) for v in values + [None]] == [standard(v) for v in values + [None]]


def test_rows_written_in_bulk_read_back_as_written():
    db = create_engine("sqlite+pysqlite://", poolclass=StaticPool)
    table = Table(
        "things", MetaData(), Column("household_id", String, primary_key=True), Column("on", Date),
        Column("at", DateTime(timezone=True)), Column("n", Integer),
    )
    table.create(db)
    rows = RowSet(table, ["household_id"])
    for n, moment in enumerate(MOMENTS[:2]):
        rows.add({"household_id": f"h{n}", "on": moment.date(), "at": moment, "n": n})
    with write_transaction(db) as conn:
        rows.flush(conn)

    with db.connect() as conn:
        stored = conn.execute(select(table).order_by(table.c.household_id)).all()
    assert [(r.on, r.at.replace(tzinfo=timezone.utc), r.n) for r in stored] == [(m.date(), m, n) for n, m in enumerate(MOMENTS[:2])]


def test_a_counter_row_exists_exactly_while_it_counts_something():
    db = create_engine("sqlite+pysqlite://", poolclass=StaticPool)
    table = Table("counts", MetaData(), Column("key", String, primary_key=True), Column("area", String),
                  Column("households", Integer), Column("persons", Integer))
    table.create(db)

    def apply(*deltas):
        counters = Counters(table, ["key"], ["area"], ["households", "persons"])
        for key, values in deltas:
            counters.add((key,), ("x",), values)
        with write_transaction(db) as conn:
            counters.flush(conn)
        with db.connect() as conn:
            return {row.key: (row.households, row.persons) for row in conn.execute(select(table))}

    assert apply(("a", (1, 3)), ("b", (2, 2))) == {"a": (1, 3), "b": (2, 2)}
    assert apply(("a", (-1, -3)), ("b", (1, 0))) == {"b": (3, 2)}
    assert apply(("a", (1, 1)), ("a", (-1, -1))) == {"b": (3, 2)}  # nets to nothing: no row
