"""What the views share: their metadata, batch row sets, counters, scope, cursors.

Everything here is SQLAlchemy Core and runs unchanged on SQLite and PostgreSQL; the one
dialect difference (the upsert construct) is chosen from the connection.
"""

from __future__ import annotations

import base64
import copy
import gc
import json
from contextlib import contextmanager, nullcontext
from datetime import date, datetime, timezone
from operator import itemgetter
from typing import Any, Callable, Iterable, Iterator, Sequence

from sqlalchemy import (
    Connection,
    Engine,
    String,
    Table,
    and_,
    bindparam,
    delete,
    false,
    insert,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy import MetaData
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.expression import Executable

from domain.errors import InvalidValue
from domain.household import falls_back
from domain.reference import RegionCatalogue
from service.access import ReadScope

# Every read-model table; the engine creates and drops them one projection at a time.
metadata = MetaData()

# Prefix search compares strings byte by byte; PostgreSQL's locale collations do not.
NAME_KEY = String(200).with_variant(String(200, collation="C"), "postgresql")

LOAD_CHUNK = 500
# 256 MiB of cache; NORMAL sync; index sorts in memory, on two threads; freed pages
# not zeroed (see ``bulk_connection``).
BULK_PRAGMAS = {"cache_size": -262144, "synchronous": 1, "temp_store": 2, "threads": 2, "secure_delete": 0}


@contextmanager
def write_transaction(source: Engine | Connection) -> Iterator[Connection]:
    """One transaction that holds the write lock from its first statement.

    On SQLite a deferred transaction that reads first and writes later can fail at
    once with "database is locked" when a command commits in between (the busy
    handler does not help there); BEGIN IMMEDIATE waits for the lock up front instead.
    ``source`` is an engine (a pooled connection for this transaction) or a
    connection kept open across transactions (a rebuild's).
    """
    with (nullcontext(source) if isinstance(source, Connection) else source.connect()) as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.begin()
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()


@contextmanager
def quiet_gc() -> Iterator[None]:
    """No cyclic garbage collection while a replay builds large batches.

    A rebuild keeps tens of thousands of small objects alive per batch; the collector
    would walk them again and again (a fifth of a rebuild's time). Batches hold no
    reference cycles, so reference counting frees them; collection resumes after.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def bulk_connection(engine: Engine) -> Iterator[Connection]:
    """A connection for a long replay, tuned on SQLite and put back afterwards.

    A page cache that holds the views' indexes (the 2 MB default thrashes at 100,000
    households), and WAL commits without fsync (``synchronous=NORMAL``: the database
    stays consistent; a power cut may undo the last batches, and a rebuild that does
    not finish is redone anyway, see ``ProjectionEngine.reset``).

    Some SQLite builds (this one among them) zero every freed page by default
    (``secure_delete``); dropping the old views then writes them all out once more, most
    of a reset's time. Their content is derived from the event store in the same file
    and the replay reuses those pages at once, so the zeroing protects nothing here.
    ``synchronous`` stays NORMAL, never OFF: the views share their file with the event
    store, and OFF lets a power cut corrupt the file, not just undo the replay.
    """
    with engine.connect() as conn:
        sqlite_db = conn.dialect.name == "sqlite"
        if sqlite_db:
            defaults = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in BULK_PRAGMAS}
            for name, value in BULK_PRAGMAS.items():
                conn.exec_driver_sql(f"PRAGMA {name}={value}")
            conn.commit()
        try:
            yield conn
        finally:
            if sqlite_db:
                conn.rollback()
                for name, value in defaults.items():
                    conn.exec_driver_sql(f"PRAGMA {name}={int(value)}")
                conn.commit()


def upsert_for(conn: Connection):
    """The dialect's INSERT ... ON CONFLICT construct (same API on both databases)."""
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


_COMPILED: dict[tuple, tuple] = {}


def execute_many(conn: Connection, cache_key: tuple, build: Callable[[], Executable], rows: Sequence[dict]) -> None:
    """executemany of ``build()`` over ``rows``, without SQLAlchemy's per-row overhead.

    A rebuild writes hundreds of thousands of rows; SQLAlchemy's generic parameter
    handling costs more per row than the database does. Here the statement is compiled
    once per dialect and each row goes through the same type bind processors
    SQLAlchemy would use, so stored values are identical. Bind parameters are named
    after row fields, optionally prefixed ``k_`` (key) or ``v_`` (value).
    """
    if not rows:
        return
    dialect = conn.dialect
    key = (dialect.name, *cache_key)
    entry = _COMPILED.get(key)
    if entry is None:
        entry = _COMPILED[key] = _compile(dialect, build(), list(rows[0]))
    sql, convert = entry
    conn.exec_driver_sql(sql, list(map(convert, rows)))


def _compile(dialect, statement: Executable, columns: list[str]) -> tuple[str, Callable[[dict], Any]]:
    """The statement's SQL, and a function from a row to its DBAPI parameters.

    The function is generated as one expression (``(row["a"], p1(row["b"]), ...)``),
    like ``collections.namedtuple`` does: a replay calls it for every row written, and
    a loop over the columns per row cost more than the database's own work.
    """
    compiled = statement.compile(dialect=dialect, column_keys=columns)
    names = list(compiled.positiontup if dialect.positional else compiled.binds)
    namespace: dict[str, Callable] = {}
    parts = []
    for index, name in enumerate(names):
        field = name[2:] if name[:2] in ("k_", "v_") else name
        value = f"row[{field!r}]"
        impl = compiled.binds[name].type.dialect_impl(dialect)
        processor = impl.bind_processor(dialect)
        if processor is not None:
            namespace[f"p{index}"] = _same_text_faster(impl) or processor
            value = f"p{index}({value})"
        parts.append(value if dialect.positional else f"{name!r}: {value}")
    body = f"({', '.join(parts)},)" if dialect.positional else f"{{{', '.join(parts)}}}"
    convert = eval(f"lambda row: {body}", namespace)  # noqa: S307 - built from column names only
    return compiled.string, convert


def _same_text_faster(impl) -> Callable | None:
    """SQLite stores dates and times as text; these write exactly the text SQLAlchemy's
    default SQLite DATE and DATETIME processors write (tzinfo dropped, not converted;
    microseconds always), in a third of the time. Other types and formats: None."""
    if isinstance(impl, sqlite.DATETIME) and impl._storage_format == sqlite.DATETIME._storage_format:
        return _sqlite_datetime
    if isinstance(impl, sqlite.DATE) and impl._storage_format == sqlite.DATE._storage_format:
        return _sqlite_date
    return None


def _sqlite_datetime(value):
    if type(value) is datetime:  # "YYYY-MM-DD HH:MM:SS.ffffff", any offset cut off
        return value.isoformat(" ", "microseconds")[:26]
    return None if value is None else sqlite.DATETIME().bind_processor(sqlite.dialect())(value)


def _sqlite_date(value):
    if type(value) is date:
        return value.isoformat()
    return None if value is None else sqlite.DATE().bind_processor(sqlite.dialect())(value)


def _where_key(table: Table, key: Sequence[str]):
    return and_(*(table.c[k] == bindparam(f"k_{k}") for k in key))


class RowSet:
    """The rows of one table a batch of events touches: loaded once, written once.

    Handlers change plain dicts; ``flush`` compares them with what was loaded and
    writes inserts, updates and deletes with executemany, so a batch costs a few
    statements however many events it holds. A one-column key is the bare value.
    """

    def __init__(self, table: Table, key: Sequence[str], group: str = "household_id", *, index_groups: bool = False):
        self.table = table
        self.key = tuple(key)
        self.group = group
        self.key_of = itemgetter(*self.key)
        self.rows: dict = {}
        self.by_group: dict[Any, dict] | None = {} if index_groups else None
        self._loaded: dict = {}

    def load(self, conn: Connection, groups: Iterable) -> None:
        wanted = list(set(groups))
        statement = select(self.table).where(self.table.c[self.group].in_(bindparam("groups", expanding=True)))
        for start in range(0, len(wanted), LOAD_CHUNK):
            chunk = wanted[start : start + LOAD_CHUNK]
            for row in conn.execute(statement, {"groups": chunk}).mappings():
                row = dict(row)
                key = self.key_of(row)
                self._loaded[key] = copy.deepcopy(row)
                self._remember(key, row)

    def get(self, key) -> dict | None:
        return self.rows.get(key)

    def in_group(self, group_value) -> list[dict]:
        """The rows of one group (a household's), for sets made with ``index_groups``."""
        return list(self.by_group.get(group_value, {}).values())

    def add(self, row: dict) -> dict:
        self._remember(self.key_of(row), row)
        return row

    def remove(self, row: dict) -> None:
        key = self.key_of(row)
        self.rows.pop(key, None)
        if self.by_group is not None:
            self.by_group.get(row[self.group], {}).pop(key, None)

    def rekey(self, row: dict, **changes) -> None:
        """Changes primary-key columns: the old row goes, the new one comes."""
        self.remove(row)
        row.update(changes)
        self.add(row)

    def _remember(self, key, row: dict) -> None:
        self.rows[key] = row
        if self.by_group is not None:
            group = row[self.group]
            members = self.by_group.get(group)
            if members is None:
                members = self.by_group[group] = {}
            members[key] = row

    def flush(self, conn: Connection) -> None:
        table, key, loaded = self.table, self.key, self._loaded
        gone = [row for k, row in loaded.items() if k not in self.rows]
        new = [row for k, row in self.rows.items() if k not in loaded]
        changed = [row for k, row in self.rows.items() if k in loaded and row != loaded[k]]
        name = table.name
        execute_many(conn, ("delete", name), lambda: delete(table).where(_where_key(table, key)), gone)
        values = [c.name for c in table.c if c.name not in key]
        execute_many(
            conn,
            ("update", name),
            lambda: update(table).where(_where_key(table, key)).values({c: bindparam(f"v_{c}") for c in values}),
            changed,
        )
        execute_many(conn, ("insert", name), lambda: insert(table), new)


class Counters:
    """Additive aggregate rows (counts and sums) maintained by deltas.

    A batch adds up its deltas in memory; ``flush`` applies them with one upsert per
    table and deletes the rows that reach zero, so a row exists exactly when it
    counts something, however the events were batched (``verify`` relies on that).
    """

    def __init__(self, table: Table, key: Sequence[str], attributes: Sequence[str], values: Sequence[str]):
        self.table = table
        self.key = tuple(key)
        self.attributes = tuple(attributes)
        self.values = tuple(values)
        self.deltas: dict[tuple, list] = {}

    def add(self, key: tuple, attributes: tuple, values: tuple, sign: int = 1) -> None:
        entry = self.deltas.get(key)
        if entry is None:
            self.deltas[key] = [attributes, [sign * value for value in values]]
            return
        sums = entry[1]
        for index, value in enumerate(values):
            sums[index] += sign * value

    def flush(self, conn: Connection) -> None:
        rows = []
        for key, (attributes, sums) in self.deltas.items():
            if any(sums):
                row = dict(zip(self.key, key))
                row.update(zip(self.attributes, attributes))
                row.update(zip(self.values, sums))
                rows.append(row)
        table, name = self.table, self.table.name

        def upsert():
            statement = upsert_for(conn)(table)
            return statement.on_conflict_do_update(
                index_elements=list(self.key),
                set_={v: table.c[v] + statement.excluded[v] for v in self.values},
            )

        def delete_zero():
            zero = literal_column("0")
            return delete(table).where(_where_key(table, self.key), *(table.c[v] == zero for v in self.values))

        execute_many(conn, ("upsert", name), upsert, rows)
        # Counts never go below zero, so only a row that lost something can reach it.
        shrunk = [row for row in rows if any(row[v] < 0 for v in self.values)]
        execute_many(conn, ("delete-zero", name), delete_zero, shrunk)


class Inserts:
    """Rows that are only ever added (one per event), written with one executemany."""

    def __init__(self, table: Table):
        self.table = table
        self.rows: list[dict] = []

    def flush(self, conn: Connection) -> None:
        table = self.table
        execute_many(conn, ("insert", table.name), lambda: insert(table), self.rows)


class Staged:
    """What a batch will write, computed before the write transaction begins.

    Reading state and running the handlers happen outside the write lock; only
    ``write`` runs inside it, so on SQLite a command waits for a flush at most, never
    for a batch's Python work.
    """

    def __init__(self, *writers):
        self.writers = writers

    def write(self, conn: Connection) -> None:
        for writer in self.writers:
            writer.flush(conn)


def scope_clause(scope: ReadScope, village_column, kecamatan_column):
    """The reader's scope as a WHERE clause: what ``ReadScope.allows`` says, in SQL."""
    if scope.everything:
        return true()
    parts = []
    if scope.villages:
        parts.append(village_column.in_(sorted(scope.villages)))
    if scope.kecamatan:
        parts.append(kecamatan_column.in_(sorted(scope.kecamatan)))
    return or_(*parts) if parts else false()


def encode_cursor(*values) -> str:
    """An opaque keyset cursor: the sort key of the last row a page showed."""
    data = json.dumps([v.isoformat() if isinstance(v, date) else v for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(data.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, types: Sequence[type]) -> list:
    """The sort key inside a cursor; anything else is refused naming the field."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
        if not isinstance(values, list) or len(values) != len(types):
            raise ValueError("wrong length")
        decoded = []
        for value, kind in zip(values, types):
            if kind is date:
                value = date.fromisoformat(value)
            elif not isinstance(value, kind) or isinstance(value, bool):
                raise ValueError("wrong type")
            decoded.append(value)
        return decoded
    except (ValueError, TypeError, UnicodeError):
        raise InvalidValue("cursor", "is not a cursor this list gave out") from None


def correct_identification(row: dict, changes: dict, regions: RegionCatalogue) -> None:
    """A view row's copy of the head's name and the household's area, after a correction."""
    if "head_name" in changes:
        row["head_name"] = changes["head_name"]
    if "address" in changes:
        row["village_code"] = changes["address"]["village_code"]
        row["kecamatan_code"] = regions.kecamatan_of(row["village_code"])


def correct_head(row: dict, nik: str, changes: dict) -> bool:
    """A view row's copy of the head's NIK and name after a member correction; True when
    the name changed (others' corrections change nothing here)."""
    if nik != row["head_nik"]:
        return False
    if "nik" in changes:
        row["head_nik"] = changes["nik"]
    if "name" in changes:
        row["head_name"] = changes["name"]
        return True
    return False


def remember_graduation(row: dict, effective_on: date) -> None:
    """Keeps a view row's graduation date in its working state (JSON, so ISO text)."""
    row["working"]["graduated_on"] = effective_on.isoformat()


def falls_back_in_view(row: dict, category: str, effective_on: date) -> bool:
    """``domain.household.falls_back`` for a view row that keeps ``status``,
    ``category_effective_on`` and its graduation date (``remember_graduation``)."""
    graduated_on = row["working"].get("graduated_on")
    return falls_back(
        row["status"], graduated_on and date.fromisoformat(graduated_on), category, effective_on,
        row["category_effective_on"],
    )


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; the views store UTC, so say so."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)


def region_name(regions: RegionCatalogue, code: str | None) -> str | None:
    region = regions.get(code) if code else None
    return region.name if region else None
