"""The projection engine: pull-based catch-up from the notification log, exactly once.

Each step reads a batch of notifications after a projection's recorded position,
stages the household events among them (reads the state they change, runs the
handlers) and then, in ONE transaction of the read-model database, locks the position
row (``SELECT ... FOR UPDATE``; SQLite's BEGIN IMMEDIATE), checks nobody moved it,
writes the staged changes and moves the position. A crash or a failing handler leaves
the batch unwritten, so no event is applied twice or skipped; two runners (a web
worker's thread and ``konvergen projections run``) never apply the same batch: the
second sees the position moved and reads again. The write lock is held for the
writes only, so on SQLite commands wait for a flush at most.

Projections at the same position are stepped together, so an event is decoded once
for all of them. A projection whose code version differs from the one its tables
were built with is *stale*: ``prepare`` drops its tables and replays it from zero.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Callable, ClassVar, Iterable, Iterator, Sequence

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    String,
    Table,
    Text,
    inspect,
    select,
    update,
)
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.schema import CreateIndex, CreateTable, DropTable

from domain.errors import InvalidValue
from domain.reference import RegionCatalogue
from projections.log import Batch, NotificationLog
from projections.sql import Staged, as_utc, bulk_connection, metadata, quiet_gc, upsert_for, write_transaction
from service.clock import Clock

tracking = Table(
    "projection_tracking",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("version", String(80), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("last_event_at", DateTime(timezone=True), nullable=True),
    Column("last_error", Text, nullable=True),
)

_CODE_VERSIONS: dict[type, tuple] = {}
DEFAULT_BATCH_SIZE = 1000
REBUILD_BATCH_SIZE = 50000  # a replay's write lock is held for the flush only
BUILDING = "+building"  # version suffix while a rebuild has not finished


class Projection:
    """A read model: its tables and how a batch of events changes them.

    Subclasses set ``name``, ``version`` (bump it whenever the handlers change what
    they write) and ``tables``, and implement ``stage``. A table change alone also
    makes the projection stale, through the schema digest in ``code_version``.
    """

    name: ClassVar[str]
    version: ClassVar[int]
    tables: ClassVar[tuple[Table, ...]]
    # Seconds a replay of 100,000 households spends in this view's handlers and writes
    # (bench/projections.py): how a parallel rebuild balances its processes.
    replay_cost: ClassVar[int] = 1

    def __init__(self, regions: RegionCatalogue):
        self.regions = regions

    @classmethod
    def code_version(cls) -> str:
        """``version`` and a digest of the tables' DDL (computed once per class)."""
        cached = _CODE_VERSIONS.get(cls)
        if cached is None or cached[0] is not cls.tables:
            ddl = "".join(
                str(CreateTable(table))
                + "".join(str(CreateIndex(index)) for index in sorted(table.indexes, key=lambda i: i.name))
                for table in cls.tables
            )
            cached = _CODE_VERSIONS[cls] = (cls.tables, f"{cls.version}-{hashlib.sha256(ddl.encode()).hexdigest()[:12]}")
        return cached[1]

    def stage(self, conn: Connection, events: Sequence[tuple[int, str, object]]) -> Staged:
        """Reads what ``events`` (notification id, household id, event) change through
        ``conn`` and returns the writes, without writing anything yet."""
        raise NotImplementedError


class UnknownProjection(InvalidValue):
    def __init__(self, name: str, known: Iterable[str]):
        super().__init__("name", f"no projection {name!r}; known: {', '.join(known)}")


@dataclass
class CatchUp:
    """What one catch-up did: events applied, and whether a gap held it back."""

    events: int = 0
    blocked: bool = False


class ProjectionEngine:
    def __init__(
        self,
        db: Engine,
        log: NotificationLog,
        projections: Sequence[Projection],
        *,
        clock: Clock | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        rebuild_share: Callable[[list[str], int | None], int] | None = None,
    ):
        """``rebuild_share(names, batch_size)`` rebuilds some projections over the same
        store and views from a fresh process (picklable; None where the store lives in
        this process only); it lets ``rebuild`` use more than one process."""
        self.db = db
        self.log = log
        self.projections = {p.name: p for p in projections}
        self.clock = clock or Clock()
        self.batch_size = batch_size
        self.rebuild_share = rebuild_share
        self._connection: Connection | None = None  # held for the length of a rebuild

    # -- set-up -------------------------------------------------------------------

    def names(self, names: Iterable[str] | None = None) -> list[str]:
        if names is None:
            return list(self.projections)
        names = list(names)
        for name in names:
            if name not in self.projections:
                raise UnknownProjection(name, self.projections)
        return names

    def stale(self) -> list[str]:
        """New projections, and those whose tables other code (or a broken rebuild) built."""
        rows = self.tracking_rows()
        return [
            name
            for name, projection in self.projections.items()
            if name not in rows or rows[name]["version"] != projection.code_version()
        ]

    def prepare(self, on_progress: Callable[[int], None] | None = None) -> list[str]:
        """Rebuilds new and stale projections; returns their names."""
        tracking.create(self.db, checkfirst=True)
        stale = self.stale()
        if stale:
            self.rebuild(stale, on_progress=on_progress)
        return stale

    def reset(self, names: Iterable[str], *, indexes: bool = True) -> None:
        """Drops and recreates the projections' tables at position zero, atomically.

        Without ``indexes`` the tables get only their primary keys and the version
        recorded says "building": a replay fills them faster, ``_finish_building``
        adds the indexes, and a replay that dies half-way leaves them stale.
        """
        names = self.names(names)
        tracking.create(self.db, checkfirst=True)
        with write_transaction(self._connection or self.db) as conn:
            conn.execute(select(tracking.c.name).where(tracking.c.name.in_(names)).with_for_update()).all()
            tables = [t for name in names for t in self.projections[name].tables]
            for table in tables:
                conn.execute(DropTable(table, if_exists=True))
            for table in tables:
                conn.execute(CreateTable(table))
                if indexes:
                    for index in table.indexes:
                        conn.execute(CreateIndex(index))
            now = self.clock.now()
            statement = upsert_for(conn)(tracking)
            suffix = "" if indexes else BUILDING
            rows = [
                {"name": name, "position": 0, "version": self.projections[name].code_version() + suffix,
                 "updated_at": now, "last_event_at": None, "last_error": None}
                for name in names
            ]
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=["name"],
                    set_={c: statement.excluded[c] for c in ("position", "version", "updated_at", "last_event_at", "last_error")},
                ),
                rows,
            )

    def tracking_rows(self) -> dict[str, dict]:
        """The tracking table as {name: row}; empty before any projection ran here."""
        try:
            with self.db.connect() as conn:
                return {row["name"]: dict(row) for row in conn.execute(select(tracking)).mappings()}
        except (OperationalError, ProgrammingError):
            if inspect(self.db).has_table(tracking.name):
                raise
            return {}

    def positions(self, names: Iterable[str] | None = None) -> dict[str, int]:
        rows = self.tracking_rows()
        return {name: rows[name]["position"] if name in rows else 0 for name in self.names(names)}

    # -- catching up ----------------------------------------------------------------

    def catch_up(
        self,
        names: Iterable[str] | None = None,
        *,
        stop: int | None = None,
        batch_size: int | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> CatchUp:
        """Applies every event after each projection's position (up to ``stop``).

        ``on_progress`` gets the position reached after each batch.
        """
        names = self.names(names)
        limit = batch_size or self.batch_size
        result = CatchUp()
        while True:
            positions = self.positions(names)
            levels = sorted(set(positions.values()))
            if stop is not None:
                levels = [p for p in levels if p < stop]
            if not levels:
                return result
            lowest = levels[0]
            # The laggards run up to the next group's position, then move with it.
            until = levels[1] if len(levels) > 1 else stop
            group = [n for n in names if positions[n] == lowest]
            reached, finished = self._run(group, lowest, limit, until, result, on_progress)
            if not finished:
                continue  # another runner moved these positions meanwhile: look again
            if result.blocked or len(levels) == 1:
                return result
            if reached < levels[1]:
                # Nothing left below the next group (only ids that never committed): join it.
                self._advance(group, reached, levels[1])

    def _run(self, names: list[str], position: int, limit: int, stop: int | None, result: CatchUp, on_progress):
        """Applies batches from ``position`` until the log (or ``stop``) is reached.

        Returns (position reached, finished); not finished when another runner moved
        the positions. (Reading the next batch in a second thread while this one is
        written was measured: the two threads then fight over the GIL and the replay
        gets slower, not faster.)
        """
        while True:
            batch = self.log.read(position, limit, stop)
            if batch.last_position is None:
                break
            if not self._apply(names, position, batch):
                return position, False
            position = batch.last_position
            result.events += len(batch.events)
            if on_progress:
                on_progress(position)
            if batch.blocked or (stop is not None and position >= stop):
                break
        result.blocked = result.blocked or batch.blocked
        return position, True

    def _apply(self, names: list[str], position: int, batch: Batch) -> bool:
        """One batch and the new position in one transaction; False if already moved.

        The batch is staged first (state read, handlers run) outside the write
        transaction; inside it, the positions are locked and checked, and only if
        nobody moved them meanwhile are the staged writes made. Every change to a view
        moves its position, so an unmoved position means the staged state is current.
        """
        try:
            with nullcontext(self._connection) if self._connection else self.db.connect() as conn:
                staged = [self.projections[name].stage(conn, batch.events) for name in names]
                conn.rollback()  # end the read, so the write lock can be taken
                with write_transaction(conn) as conn:
                    locked = dict(
                        conn.execute(
                            select(tracking.c.name, tracking.c.position)
                            .where(tracking.c.name.in_(names))
                            .with_for_update()
                        ).all()
                    )
                    if any(locked.get(name) != position for name in names):
                        conn.rollback()
                        return False
                    for writes in staged:
                        writes.write(conn)
                    conn.execute(
                        update(tracking)
                        .where(tracking.c.name.in_(names))
                        .values(
                            position=batch.last_position,
                            updated_at=self.clock.now(),
                            last_event_at=batch.last_recorded_at or tracking.c.last_event_at,
                            last_error=None,
                        )
                    )
        except Exception as error:
            self._record_failure(names, error)
            raise
        return True

    def _advance(self, names: list[str], position: int, to: int) -> None:
        with write_transaction(self.db) as conn:
            conn.execute(
                update(tracking)
                .where(tracking.c.name.in_(names), tracking.c.position == position)
                .values(position=to, updated_at=self.clock.now())
            )

    def _record_failure(self, names: list[str], error: Exception) -> None:
        """Keeps the failure where ``status`` shows it; the batch itself rolled back."""
        message = f"{type(error).__name__}: {error}"[:2000]
        try:
            with write_transaction(self.db) as conn:
                conn.execute(update(tracking).where(tracking.c.name.in_(names)).values(last_error=message))
        except Exception:  # the database itself may be what failed; the caller logs it
            pass

    def rebuild(
        self,
        names: Iterable[str] | None = None,
        *,
        batch_size: int | None = None,
        on_progress: Callable[[int], None] | None = None,
        workers: int = 1,
    ) -> CatchUp:
        """Drops the views and replays every event into them, indexes built last.

        With ``workers`` > 1 (and a store other processes can open) the projections are
        split into that many sets, each replayed by a process of its own; see
        ``projections.parallel``.
        """
        names = self.names(names)
        if workers > 1 and len(names) > 1 and self.rebuild_share is not None:
            from projections.parallel import rebuild_in_processes

            return rebuild_in_processes(self, names, workers, batch_size=batch_size, on_progress=on_progress)
        with self.replaying():
            self.reset(names, indexes=False)
            result = self.catch_up(names, batch_size=batch_size or REBUILD_BATCH_SIZE, on_progress=on_progress)
            self.finish_building(names)
        return result

    @contextmanager
    def replaying(self) -> Iterator[None]:
        """For a long replay: one tuned connection for every batch, no cyclic GC."""
        with bulk_connection(self.db) as conn, quiet_gc():
            self._connection = conn
            try:
                yield
            finally:
                self._connection = None

    def finish_building(self, names: list[str]) -> None:
        """After a replay into tables reset without indexes: the indexes, the real version."""
        with write_transaction(self._connection or self.db) as conn:
            for name in names:
                projection = self.projections[name]
                for table in projection.tables:
                    for index in table.indexes:
                        conn.execute(CreateIndex(index, if_not_exists=True))
                conn.execute(
                    update(tracking).where(tracking.c.name == name).values(version=projection.code_version())
                )

    # -- reporting ------------------------------------------------------------------

    def min_position(self) -> int:
        positions = self.positions()
        return min(positions.values()) if positions else 0

    def status(self) -> list[dict]:
        """Per projection: position, lag in notifications and in seconds, staleness."""
        rows = self.tracking_rows()
        head = self.log.head()
        now = self.clock.now()
        report = []
        waiting: dict[int, datetime | None] = {}  # views at one position wait since one event
        for name, projection in self.projections.items():
            row = rows.get(name)
            position = row["position"] if row else 0
            lag_events = max(head - position, 0)
            lag_seconds = 0.0
            if lag_events:
                if position not in waiting:
                    waiting[position] = self.log.recorded_at(position)
                waiting_since = waiting[position]
                lag_seconds = max((now - waiting_since).total_seconds(), 0.0) if waiting_since else 0.0
            stale = row is None or row["version"] != projection.code_version()
            report.append(
                {
                    "name": name,
                    "position": position,
                    "head": head,
                    "lag_events": lag_events,
                    "lag_seconds": round(lag_seconds, 3),
                    "version": projection.code_version(),
                    "built_version": row["version"] if row else None,
                    "stale": stale,
                    "updated_at": as_utc(row["updated_at"]) if row else None,
                    "last_event_at": as_utc(row["last_event_at"]) if row else None,
                    "last_error": row["last_error"] if row else None,
                }
            )
        return report
