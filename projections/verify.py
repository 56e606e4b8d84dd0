"""Verification: replay the events into a scratch database and compare row for row.

Auditors trust a view when rebuilding it from the events gives the same rows. For
each projection this replays the event store into a throw-away SQLite file up to
the live view's recorded position, then walks both tables in primary-key order
side by side (streaming, so a large view need not fit in memory) and reports every
row that is missing, unexpected or different.
"""

from __future__ import annotations

import tempfile
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import Connection, Engine, String, Table, create_engine, event, select
from sqlalchemy.pool import NullPool

from projections.engine import REBUILD_BATCH_SIZE, ProjectionEngine, tracking
from projections.log import NotificationLog
from projections.sql import as_utc

SHOWN_PER_TABLE = 20


@dataclass
class Difference:
    projection: str
    table: str
    key: tuple
    kind: str  # "missing" (rebuild has it, live not), "unexpected", "different", "stale"
    detail: str = ""

    def describe(self) -> str:
        key = ", ".join(map(str, self.key))
        return f"{self.projection}.{self.table} [{key}] {self.kind}{': ' + self.detail if self.detail else ''}"


@dataclass
class Report:
    differences: list[Difference] = field(default_factory=list)
    total: int = 0  # every difference found, also those not kept for display
    rows_compared: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.total == 0


@contextmanager
def scratch_database() -> Iterator[Engine]:
    """A throw-away SQLite file: durable writes are pointless for a comparison."""
    with tempfile.TemporaryDirectory(prefix="konvergen-verify-") as folder:
        engine = create_engine(f"sqlite+pysqlite:///{Path(folder) / 'scratch.db'}", poolclass=NullPool)

        @event.listens_for(engine, "connect")
        def _fast(dbapi_connection, _record):
            dbapi_connection.execute("PRAGMA synchronous=OFF")
            dbapi_connection.execute("PRAGMA journal_mode=MEMORY")

        try:
            yield engine
        finally:
            engine.dispose()


def verify(
    live: ProjectionEngine,
    names=None,
    *,
    on_progress: Callable[[int], None] | None = None,
    scratch: Engine | None = None,
) -> Report:
    """Compares each live view with a replay of the events up to its position.

    The replay goes into ``scratch`` if given (an empty database), else a temporary file.
    """
    names = live.names(names)
    report = Report()
    with nullcontext(scratch) if scratch is not None else scratch_database() as scratch:
        # Live views passed every gap below their position already, so the replay does too.
        replay_log = NotificationLog(live.log.app, live.log.gaps, gap_timeout=0)
        twin = ProjectionEngine(
            scratch, replay_log, [type(p)(p.regions) for p in live.projections.values()], clock=live.clock
        )
        twin.reset(names, indexes=False)  # empty, at position 0: each replays only up to its live twin
        with _snapshot(live.db) as conn:
            rows = {row["name"]: row for row in conn.execute(select(tracking)).mappings()}
            current = []
            for name in names:
                row, code = rows.get(name), live.projections[name].code_version()
                if row is None or row["version"] != code:
                    built = row["version"] if row else "never built"
                    _add(report, Difference(name, "projection_tracking", (name,), "stale", f"built by {built}, code is {code}"))
                else:
                    current.append(name)
            # Views at the same position replay together: the log is read once for them.
            for position in sorted({rows[name]["position"] for name in current}):
                group = [name for name in current if rows[name]["position"] == position]
                with twin.replaying():
                    twin.catch_up(group, stop=position, batch_size=REBUILD_BATCH_SIZE, on_progress=on_progress)
            with scratch.connect() as twin_conn:
                for name in current:
                    for table in live.projections[name].tables:
                        _compare(report, name, table, conn, twin_conn)
    return report


@contextmanager
def _snapshot(db: Engine) -> Iterator[Connection]:
    """One consistent view of the live database while it keeps changing."""
    with db.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            conn.begin()
        else:
            conn.exec_driver_sql("BEGIN")
        try:
            yield conn
        finally:
            conn.rollback()


def _ordered(conn: Connection, table: Table):
    """All rows in primary-key order, compared byte-wise on every database."""
    order = []
    for column in table.primary_key.columns:
        if isinstance(column.type, String) and conn.dialect.name == "postgresql":
            order.append(column.collate("C"))
        else:
            order.append(column)
    statement = select(table).order_by(*order)
    return conn.execution_options(stream_results=True, yield_per=2000).execute(statement).mappings()


def _comparable(value):
    if isinstance(value, datetime):
        return as_utc(value).astimezone(timezone.utc).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    return value


def _compare(report: Report, name: str, table: Table, live: Connection, rebuilt: Connection) -> None:
    key_columns = [c.name for c in table.primary_key.columns]
    live_rows, rebuilt_rows = iter(_ordered(live, table)), iter(_ordered(rebuilt, table))
    sentinel = object()

    def advance(rows):
        row = next(rows, sentinel)
        if row is sentinel:
            return None, None
        row = {k: _comparable(v) for k, v in row.items()}
        return tuple(row[k] for k in key_columns), row

    live_key, live_row = advance(live_rows)
    rebuilt_key, rebuilt_row = advance(rebuilt_rows)
    compared = 0
    while live_key is not None or rebuilt_key is not None:
        compared += 1
        if rebuilt_key is None or (live_key is not None and live_key < rebuilt_key):
            _add(report, Difference(name, table.name, live_key, "unexpected", "in the live view, not in the rebuild"))
            live_key, live_row = advance(live_rows)
        elif live_key is None or rebuilt_key < live_key:
            _add(report, Difference(name, table.name, rebuilt_key, "missing", "in the rebuild, not in the live view"))
            rebuilt_key, rebuilt_row = advance(rebuilt_rows)
        else:
            if live_row != rebuilt_row:
                changed = [k for k in live_row if live_row[k] != rebuilt_row.get(k)]
                detail = "; ".join(f"{k}: live {live_row[k]!r}, rebuilt {rebuilt_row.get(k)!r}" for k in changed)
                _add(report, Difference(name, table.name, live_key, "different", detail))
            live_key, live_row = advance(live_rows)
            rebuilt_key, rebuilt_row = advance(rebuilt_rows)
    report.rows_compared[f"{name}.{table.name}"] = compared


def _add(report: Report, difference: Difference) -> None:
    report.total += 1
    shown = sum(1 for d in report.differences if d.table == difference.table)
    if shown < SHOWN_PER_TABLE:
        report.differences.append(difference)
