"""Tamper evidence at the storage layer: the event store's recorders, chaining as they write.

Each recorder here is the eventsourcing library's own SQLite or PostgreSQL application
recorder, unchanged except that, in the very transaction that inserts a batch of
events, it also inserts one row per event into ``<events table>_chain``: the event's
notification id, household (originator) and version, the hash of its stored bytes,
the previous version's link hash and its own link hash (rules in ``chain_rule``).
The stored event bytes are not touched. Sealed periods live in ``<events table>_seals``.
Both tables refuse UPDATE and DELETE (a trigger), so a mistake cannot rewrite them;
a deliberate forger who drops the triggers is caught by ``integrity.verify``.

Writers are already serialised where it matters: two saves of one household collide
on the (originator_id, version) key, SQLite has one writer at a time, and the
PostgreSQL recorder locks the events table before inserting. So the previous link a
new row points to is always committed, and rows are chained in notification order.

Select these recorders with ``APPLICATION_RECORDER_TOPIC`` (see ``service/storage.py``).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Iterator, Sequence
from uuid import UUID

import eventsourcing.domain as es_domain
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from service.audit.chain_rule import ZERO_HASH, content_hash, link_hash

if TYPE_CHECKING:
    from psycopg import Cursor

SQLITE_TOPIC = "service.audit.chain_store:ChainedSQLiteApplicationRecorder"
POSTGRES_TOPIC = "service.audit.chain_store:ChainedPostgresApplicationRecorder"
READ_BATCH = 1_000  # rows per fetch: a batch still in the CPU cache when it is checked
SQLITE_MMAP_BYTES = 1 << 30


def chained_at_now() -> datetime:
    """When a row is chained: the library's clock, so tests that move it move this too."""
    return es_domain.datetime_now_with_tzinfo().astimezone(timezone.utc)


@dataclass(frozen=True)
class Link:
    notification_id: int
    originator_id: str  # canonical UUID text
    version: int
    topic: str
    content_hash: str
    prev_hash: str
    hash: str
    backfilled: bool = False


@dataclass(frozen=True)
class Seal:
    seq: int
    period: str
    first_id: int
    last_id: int
    count: int
    events_digest: str
    prev_seal_hash: str
    seal_hash: str
    sealed_at: datetime


def canonical_id(originator_id: UUID | str) -> str:
    return str(originator_id) if isinstance(originator_id, UUID) else str(UUID(str(originator_id)))


class ChainWriter:
    """Computes the links for events being inserted: the hashes before the write
    transaction where the batch alone decides them, the rest in that transaction.

    The backend supplies three primitives (look up link hashes, read an originator's
    stored events, insert links); the rule and the bookkeeping are shared.
    """

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """The library recorder's insert (next in the MRO), with the links prepared
        before its write transaction; its per-backend insert hook chains them."""
        return super().insert_events(stored_events, chain_prepared=self.prepare_links(stored_events), **kwargs)

    def _link_hashes(self, c: Any, keys: list[tuple[Any, int]]) -> dict[tuple[str, int], str]:
        raise NotImplementedError

    def _originator_events(self, c: Any, originator_id: Any, upto: int) -> list[tuple[int, int, str, bytes]]:
        raise NotImplementedError

    def _insert_links(self, c: Any, links: list[Link], chained_at: datetime) -> None:
        raise NotImplementedError

    def prepare_links(self, stored_events: Sequence[StoredEvent]) -> list[tuple[str, str, str | None, str | None]]:
        """Per event, what its link needs no database for: (canonical id, content hash,
        previous link hash, link hash), the last two when it is version 1 or follows an
        event of the batch that has them (else None). Computed before the write
        transaction: the hashing then no longer holds the write lock that other
        writers (processes sharing an import, web workers) wait for."""
        known: dict[tuple[str, int], str] = {}
        prepared = []
        for stored in stored_events:
            oid = canonical_id(stored.originator_id)
            version = stored.originator_version
            content = content_hash(stored.state)
            prev = ZERO_HASH if version == 1 else known.get((oid, version - 1))
            link = None
            if prev is not None:
                link = known[(oid, version)] = link_hash(prev, oid, version, stored.topic, content)
            prepared.append((oid, content, prev, link))
        return prepared

    def chain_events(self, c: Any, pairs: Sequence[tuple[int, StoredEvent]], *, backfilled: bool = False,
                     prepared: list | None = None) -> list[Link]:
        """Links for ``(notification id, stored event)`` pairs, inserted with ``c``;
        ``prepared``: ``prepare_links`` of the events, when done beforehand."""
        if prepared is None:
            prepared = self.prepare_links([s for _, s in pairs])
        in_batch = {(p[0], s.originator_version) for (_, s), p in zip(pairs, prepared)}
        wanted = [
            (s.originator_id, s.originator_version - 1)
            for (_, s), (oid, _content, prev, _link) in zip(pairs, prepared)
            if prev is None and (oid, s.originator_version - 1) not in in_batch
        ]
        known: dict[tuple[str, int], str] = self._link_hashes(c, wanted) if wanted else {}
        links: list[Link] = []
        for (notification_id, stored), (oid, content, prev, link) in zip(pairs, prepared):
            version = stored.originator_version
            if link is None:
                prev = known.get((oid, version - 1))
                if prev is None:
                    legacy = self._backfill_originator(c, stored.originator_id, version - 1)
                    links.extend(legacy)
                    known.update({(oid, link.version): link.hash for link in legacy})
                    # A version missing even from the events table: leave the gap for verify to name.
                    prev = known.get((oid, version - 1), ZERO_HASH)
                link = link_hash(prev, oid, version, stored.topic, content)
            known[(oid, version)] = link
            links.append(Link(notification_id, oid, version, stored.topic, content, prev, link, backfilled))
        self._insert_links(c, links, chained_at_now())
        return links

    def _backfill_originator(self, c: Any, originator_id: Any, upto: int) -> list[Link]:
        """Chains a household's events recorded before the chain existed (legacy stores)."""
        oid = canonical_id(originator_id)
        existing = self._link_hashes(c, [(originator_id, v) for v in range(1, upto + 1)])
        links: list[Link] = []
        prev = ZERO_HASH
        for notification_id, version, topic, state in self._originator_events(c, originator_id, upto):
            if (oid, version) in existing:
                prev = existing[(oid, version)]
                continue
            content = content_hash(state)
            link = Link(notification_id, oid, version, topic, content, prev,
                        link_hash(prev, oid, version, topic, content), True)
            links.append(link)
            prev = link.hash
        return links


class ChainReader:
    """Reads chain, seals and events inside one consistent read transaction.

    SQL is written once with ``?`` placeholders and the names E (events), C (chain),
    S (seals), NID (the events' notification id column) and OID(x) (canonical id text).
    """

    def __init__(self, names: dict[str, str]):
        self.names = names

    def sql(self, text: str) -> str:
        for key in ("NID", "E", "C", "S"):
            text = text.replace("{" + key + "}", self.names[key])
        text = text.replace("{OID_C}", self.names["OID"].format("c.originator_id"))
        text = text.replace("{OID_E}", self.names["OID"].format("e.originator_id"))
        text = text.replace("{RAW_E}", self.names["RAW"].format("e.originator_id"))
        text = text.replace("{C_OID_IS}", self.names["OID_IS"])
        return text

    # backend primitives
    def batches(self, text: str, params: Sequence = (), *, stream: bool = False) -> Iterator[list[tuple]]:
        """The rows of a query, a few thousand at a time (a server-side cursor when streaming)."""
        raise NotImplementedError

    def rows(self, text: str, params: Sequence = (), *, stream: bool = False) -> Iterator[tuple]:
        for batch in self.batches(text, params, stream=stream):
            yield from batch

    def one(self, text: str, params: Sequence = ()) -> tuple | None:
        for row in self.rows(text, params):
            return row
        return None

    def to_db_time(self, value: datetime) -> Any:
        return value

    def from_db_time(self, value: Any) -> datetime:
        return value

    # queries
    def links(self) -> Iterator[tuple]:
        """Chain rows: (nid, oid, version, topic, content, prev, hash, backfilled)."""
        return self.rows(
            "SELECT c.notification_id, {OID_C}, c.originator_version, c.topic, c.content_hash, "
            "c.prev_hash, c.hash, c.backfilled FROM {C} c ORDER BY c.notification_id",
            stream=True,
        )

    def link(self, notification_id: int) -> tuple | None:
        return self.one(
            "SELECT c.notification_id, {OID_C}, c.originator_version, c.topic, c.content_hash, "
            "c.prev_hash, c.hash, c.backfilled FROM {C} c WHERE c.notification_id = ?",
            (notification_id,),
        )

    def verification_query(self, after: int = 0, upto: int | None = None) -> tuple[str, tuple]:
        """What the fast path needs, in notification order, and nothing more: (nid, link
        hash, previous link, event oid as stored, event version, event topic, event bytes).
        The text still has its names to fill in (``sql``), as every query here does."""
        text = (
            "SELECT c.notification_id, c.hash, c.prev_hash, {RAW_E}, e.originator_version, e.topic, e.state "
            "FROM {C} c LEFT JOIN {E} e ON e.{NID} = c.notification_id WHERE c.notification_id > ?"
        )
        params: tuple = (after,)
        if upto is not None:
            text += " AND c.notification_id <= ?"
            params += (upto,)
        return text + " ORDER BY c.notification_id", params

    def verification_batches(self, after: int = 0, upto: int | None = None) -> Iterator[list[tuple]]:
        return self.batches(*self.verification_query(after, upto), stream=True)

    def database_file(self) -> str | None:
        """The SQLite file a second connection can read, if there is one."""
        return None

    def notifications(self, topics: Sequence[str]) -> Iterator[tuple]:
        """(nid, stored originator id, version, topic, state) of these topics, in log order."""
        marks = ",".join("?" * len(topics))
        return self.rows(
            f"SELECT e.{{NID}}, {{RAW_E}}, e.originator_version, e.topic, e.state FROM {{E}} e "
            f"WHERE e.topic IN ({marks}) ORDER BY e.{{NID}}",
            list(topics),
            stream=True,
        )

    def max_chain_id(self) -> int:
        row = self.one("SELECT MAX(notification_id) FROM {C}")
        return int(row[0]) if row and row[0] is not None else 0

    def canonical_id(self, raw: Any) -> str:
        return raw

    def id_param(self, originator_id: str) -> str:
        """A canonical id as the chain table stores it, for ``{C_OID_IS}``."""
        return originator_id

    def count_backfilled(self) -> int:
        row = self.one("SELECT COUNT(*) FROM {C} WHERE backfilled")
        return int(row[0]) if row else 0

    def unchained_events(self, limit: int = 100) -> list[tuple[int, str, int]]:
        return list(self.rows(
            "SELECT e.{NID}, {OID_E}, e.originator_version FROM {E} e WHERE NOT EXISTS "
            "(SELECT 1 FROM {C} c WHERE c.notification_id = e.{NID}) ORDER BY e.{NID} LIMIT ?",
            (limit,),
        ))

    def count_unchained(self, upto: int | None = None) -> int:
        text = "SELECT COUNT(*) FROM {E} e WHERE NOT EXISTS (SELECT 1 FROM {C} c WHERE c.notification_id = e.{NID})"
        params: tuple = ()
        if upto is not None:
            text += " AND e.{NID} <= ?"
            params = (upto,)
        row = self.one(text, params)
        return int(row[0]) if row else 0

    def count_events(self, upto: int | None = None) -> int:
        # All minus those after: a count of the whole table can walk its smallest index,
        # where "up to" walks every event's bytes (a fifth of a verification on SQLite).
        row = self.one("SELECT COUNT(*) FROM {E}")
        total = int(row[0]) if row else 0
        if upto is None:
            return total
        row = self.one("SELECT COUNT(*) FROM {E} e WHERE e.{NID} > ?", (upto,))
        return total - (int(row[0]) if row else 0)

    def count_unchained_after(self, after: int) -> int:
        row = self.one(
            "SELECT COUNT(*) FROM {E} e WHERE e.{NID} > ? AND NOT EXISTS "
            "(SELECT 1 FROM {C} c WHERE c.notification_id = e.{NID})",
            (after,),
        )
        return int(row[0]) if row else 0

    def seals(self) -> list[Seal]:
        return [
            Seal(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], self.from_db_time(r[8]))
            for r in self.rows(
                "SELECT seq, period, first_id, last_id, event_count, events_digest, prev_seal_hash, "
                "seal_hash, sealed_at FROM {S} ORDER BY seq"
            )
        ]

    def link_hashes(self, gt: int, lte: int) -> Iterator[tuple[int, str]]:
        return self.rows(
            "SELECT notification_id, hash FROM {C} WHERE notification_id > ? AND notification_id <= ? "
            "ORDER BY notification_id",
            (gt, lte),
            stream=True,
        )

    def content_hashes(self, originator_id: str) -> dict[str, int]:
        """content hash -> version, for naming a reordering."""
        rows = self.rows(
            "SELECT c.content_hash, c.originator_version FROM {C} c WHERE {C_OID_IS}", (self.id_param(originator_id),)
        )
        return {row[0]: row[1] for row in rows}

    def earliest_unsealed(self, gt: int) -> datetime | None:
        row = self.one("SELECT MIN(chained_at) FROM {C} WHERE notification_id > ?", (gt,))
        return self.from_db_time(row[0]) if row and row[0] is not None else None

    def last_id_before(self, gt: int, before: datetime) -> int | None:
        row = self.one(
            "SELECT MAX(notification_id) FROM {C} WHERE notification_id > ? AND chained_at < ?",
            (gt, self.to_db_time(before)),
        )
        return row[0] if row else None

    def export_rows(
        self, originator_id: str | None, since: datetime | None, until: datetime | None
    ) -> Iterator[tuple]:
        """(nid, oid, version, topic, state, content, prev, hash, chained_at) in notification order."""
        text = (
            "SELECT c.notification_id, {OID_C}, c.originator_version, c.topic, e.state, c.content_hash, "
            "c.prev_hash, c.hash, c.chained_at FROM {C} c JOIN {E} e ON e.{NID} = c.notification_id WHERE 1=1"
        )
        params: list = []
        if originator_id is not None:
            text += " AND {C_OID_IS}"
            params.append(self.id_param(originator_id))
        if since is not None:
            text += " AND c.chained_at >= ?"
            params.append(self.to_db_time(since))
        if until is not None:
            text += " AND c.chained_at < ?"
            params.append(self.to_db_time(until))
        return self.rows(text + " ORDER BY c.notification_id", params, stream=True)


# -- SQLite --------------------------------------------------------------------------


_SQLITE_OID = (
    "(substr({0},1,8)||'-'||substr({0},9,4)||'-'||substr({0},13,4)||'-'||substr({0},17,4)||'-'||substr({0},21))"
)


class SQLiteChainReader(ChainReader):
    def __init__(self, recorder: ChainedSQLiteApplicationRecorder, conn: Any):
        super().__init__(recorder.chain_names)
        self.conn = conn
        pool = recorder.datastore.pool
        self._file = None if pool.is_sqlite_memory_mode else pool.db_name

    def database_file(self) -> str | None:
        return self._file

    def canonical_id(self, raw: str) -> str:
        """The stored hex id with hyphens."""
        return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"

    def id_param(self, originator_id: str) -> str:
        return originator_id.replace("-", "")

    def batches(self, text: str, params: Sequence = (), *, stream: bool = False) -> Iterator[list[tuple]]:
        cursor = self.conn.cursor().sqlite_cursor
        cursor.row_factory = None
        cursor.arraysize = READ_BATCH
        cursor.execute(self.sql(text), list(params))
        try:
            while True:
                batch = cursor.fetchmany()
                if not batch:
                    return
                yield batch
        finally:
            cursor.close()

    def to_db_time(self, value: datetime) -> str:
        return _sqlite_time(value)

    def from_db_time(self, value: Any) -> datetime:
        return datetime.fromisoformat(value)


def _sqlite_time(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat(timespec="microseconds")


class ChainedSQLiteApplicationRecorder(ChainWriter, SQLiteApplicationRecorder):
    """The library's SQLite recorder, plus the chain, in the same transaction."""

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        self.chain_table = f"{events_table_name}_chain"
        self.seals_table = f"{events_table_name}_seals"
        super().__init__(datastore, events_table_name)
        self.chain_names = {
            "E": self.events_table_name, "C": self.chain_table, "S": self.seals_table,
            "NID": "rowid", "OID": _SQLITE_OID, "RAW": "{0}", "OID_IS": "c.originator_id = ?",
        }

    def construct_create_table_statements(self) -> list[str]:
        statements = super().construct_create_table_statements()
        chain, seals = self.chain_table, self.seals_table
        statements += [
            f"CREATE TABLE IF NOT EXISTS {chain} ("
            "notification_id INTEGER PRIMARY KEY, originator_id TEXT NOT NULL, "
            "originator_version INTEGER NOT NULL, topic TEXT NOT NULL, content_hash TEXT NOT NULL, "
            "prev_hash TEXT NOT NULL, hash TEXT NOT NULL, chained_at TEXT NOT NULL, "
            "backfilled INTEGER NOT NULL DEFAULT 0, UNIQUE (originator_id, originator_version))",
            f"CREATE TABLE IF NOT EXISTS {seals} ("
            "seq INTEGER PRIMARY KEY, period TEXT NOT NULL UNIQUE, first_id INTEGER NOT NULL, "
            "last_id INTEGER NOT NULL, event_count INTEGER NOT NULL, events_digest TEXT NOT NULL, "
            "prev_seal_hash TEXT NOT NULL, seal_hash TEXT NOT NULL, sealed_at TEXT NOT NULL)",
        ]
        # Only backfilled rows are indexed: counting them stays cheap at any size.
        statements.append(f"CREATE INDEX IF NOT EXISTS {chain}_backfilled ON {chain} (notification_id) WHERE backfilled")
        for table in (chain, seals):
            for action in ("UPDATE", "DELETE"):
                statements.append(
                    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )
        return statements

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], *,
                       chain_prepared: list | None = None, **kwargs: Any) -> Sequence[int] | None:
        notification_ids = super()._insert_events(c, stored_events, **kwargs)
        assert notification_ids is not None
        self.chain_events(c, list(zip(notification_ids, stored_events)), prepared=chain_prepared)
        return notification_ids

    def _link_hashes(self, c: SQLiteCursor, keys: list[tuple[Any, int]]) -> dict[tuple[str, int], str]:
        found: dict[tuple[str, int], str] = {}
        statement = f"SELECT hash FROM {self.chain_table} WHERE originator_id=? AND originator_version=?"
        for originator_id, version in keys:
            c.execute(statement, (_hex(originator_id), version))
            row = c.fetchone()
            if row is not None:
                found[(canonical_id(originator_id), version)] = row[0]
        return found

    def _originator_events(self, c: SQLiteCursor, originator_id: Any, upto: int) -> list[tuple[int, int, str, bytes]]:
        c.execute(
            f"SELECT rowid, originator_version, topic, state FROM {self.events_table_name} "
            "WHERE originator_id=? AND originator_version<=? ORDER BY originator_version",
            (_hex(originator_id), upto),
        )
        return [(r[0], r[1], r[2], r[3]) for r in c.fetchall()]

    def _insert_links(self, c: SQLiteCursor, links: list[Link], chained_at: datetime) -> None:
        when = _sqlite_time(chained_at)
        c.executemany(
            f"INSERT INTO {self.chain_table} VALUES (?,?,?,?,?,?,?,?,?)",
            [
                (l.notification_id, l.originator_id.replace("-", ""), l.version, l.topic,
                 l.content_hash, l.prev_hash, l.hash, when, int(l.backfilled))
                for l in links
            ],
        )

    # -- what integrity.py uses ---------------------------------------------------

    @contextmanager
    def chain_reader(self) -> Iterator[ChainReader]:
        """One read transaction: every query sees the same snapshot."""
        with self.datastore.get_connection(commit=False) as conn:
            # Reading the whole log: map the file rather than copy it page by page.
            with conn.cursor() as cursor:
                cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
            with conn.transaction(commit=False):
                yield SQLiteChainReader(self, conn)

    @contextmanager
    def chain_writer(self) -> Iterator[SQLiteCursor]:
        """A write transaction holding the write lock from its first statement."""
        with self.datastore.get_connection(commit=True) as conn:
            cursor = conn.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield cursor
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    def insert_seal(self, seal: Seal) -> None:
        import sqlite3

        try:
            with self.chain_writer() as c:
                c.execute(
                    f"INSERT INTO {self.seals_table} VALUES (?,?,?,?,?,?,?,?,?)",
                    (seal.seq, seal.period, seal.first_id, seal.last_id, seal.count, seal.events_digest,
                     seal.prev_seal_hash, seal.seal_hash, _sqlite_time(seal.sealed_at)),
                )
        except sqlite3.IntegrityError as error:
            raise IntegrityError(str(error)) from error

    def backfill(self, batch: int = 10_000) -> int:
        """Chains every event recorded before the chain existed; returns how many."""
        total = 0
        while True:
            with self.chain_writer() as c:
                c.execute(
                    f"SELECT e.rowid, e.originator_id, e.originator_version, e.topic, e.state "
                    f"FROM {self.events_table_name} e WHERE NOT EXISTS (SELECT 1 FROM {self.chain_table} k "
                    f"WHERE k.notification_id = e.rowid) ORDER BY e.rowid LIMIT ?",
                    (batch,),
                )
                rows = c.fetchall()
                if not rows:
                    return total
                pairs = [(r[0], StoredEvent(UUID(r[1]), r[2], r[3], r[4])) for r in rows]
                links = self.chain_events(c, pairs, backfilled=True)
                total += len({(l.originator_id, l.version) for l in links})


def _hex(originator_id: Any) -> str:
    return originator_id.hex if isinstance(originator_id, UUID) else UUID(str(originator_id)).hex


# -- PostgreSQL ----------------------------------------------------------------------


class PostgresChainReader(ChainReader):
    def __init__(self, recorder: ChainedPostgresApplicationRecorder, conn: Any):
        super().__init__(recorder.chain_names)
        self.conn = conn
        self._cursors = 0

    def batches(self, text: str, params: Sequence = (), *, stream: bool = False) -> Iterator[list[tuple]]:
        sql = self.sql(text).replace("?", "%s")
        if stream:
            self._cursors += 1
            cursor = self.conn.cursor(name=f"audit_{self._cursors}", row_factory=tuple_row)
            cursor.itersize = READ_BATCH
        else:
            cursor = self.conn.cursor(row_factory=tuple_row)
        with cursor:
            cursor.execute(sql, list(params))
            while True:
                batch = cursor.fetchmany(READ_BATCH)
                if not batch:
                    return
                yield batch


class ChainedPostgresApplicationRecorder(ChainWriter, PostgresApplicationRecorder):
    """The library's PostgreSQL recorder, plus the chain, in the same transaction.

    The library locks the events table and inserts, then fetches the new notification
    ids; the chain rows are written right there, still inside that transaction.
    """

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        if datastore.enable_db_functions:
            msg = "the chained recorder needs POSTGRES_ENABLE_DB_FUNCTIONS off (events would skip the chain)"
            raise ValueError(msg)
        self.chain_table = f"{events_table_name}_chain"
        self.seals_table = f"{events_table_name}_seals"
        self.check_identifier_length(self.chain_table)
        schema = datastore.schema
        ident = lambda name: Identifier(schema, name)  # noqa: E731
        chain, seals, events = ident(self.chain_table), ident(self.seals_table), ident(events_table_name)
        self.chain_names = {
            "E": f'"{schema}"."{events_table_name}"', "C": f'"{schema}"."{self.chain_table}"',
            "S": f'"{schema}"."{self.seals_table}"', "NID": "notification_id", "OID": "{0}::text",
            "RAW": "{0}::text", "OID_IS": "c.originator_id = ?::uuid",
        }
        guard = Identifier(schema, "konvergen_append_only")
        self.sql_create_statements += [
            SQL(
                "CREATE TABLE IF NOT EXISTS {0} (notification_id bigint PRIMARY KEY, "
                "originator_id uuid NOT NULL, originator_version bigint NOT NULL, topic text NOT NULL, "
                "content_hash text NOT NULL, prev_hash text NOT NULL, hash text NOT NULL, "
                "chained_at timestamptz NOT NULL, backfilled boolean NOT NULL DEFAULT false, "
                "UNIQUE (originator_id, originator_version))"
            ).format(chain),
            SQL(
                "CREATE TABLE IF NOT EXISTS {0} (seq bigint PRIMARY KEY, period text NOT NULL UNIQUE, "
                "first_id bigint NOT NULL, last_id bigint NOT NULL, event_count bigint NOT NULL, "
                "events_digest text NOT NULL, prev_seal_hash text NOT NULL, seal_hash text NOT NULL, "
                "sealed_at timestamptz NOT NULL)"
            ).format(seals),
            SQL("CREATE INDEX IF NOT EXISTS {0} ON {1} (notification_id) WHERE backfilled").format(
                Identifier(f"{self.chain_table}_backfilled"), chain
            ),
            SQL(
                "CREATE OR REPLACE FUNCTION {0}() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
            ).format(guard),
        ]
        for table, name in ((chain, self.chain_table), (seals, self.seals_table)):
            self.sql_create_statements += [
                SQL(
                    "CREATE OR REPLACE TRIGGER {0} BEFORE UPDATE OR DELETE ON {1} "
                    "FOR EACH ROW EXECUTE FUNCTION {2}()"
                ).format(Identifier(f"{name}_append_only"), table, guard),
                SQL(
                    "CREATE OR REPLACE TRIGGER {0} BEFORE TRUNCATE ON {1} "
                    "FOR EACH STATEMENT EXECUTE FUNCTION {2}()"
                ).format(Identifier(f"{name}_no_truncate"), table, guard),
            ]
        self._select_links = SQL(
            "SELECT c.originator_id, c.originator_version, c.hash FROM {0} c "
            "JOIN unnest(%s::uuid[], %s::bigint[]) AS k(oid, v) "
            "ON c.originator_id = k.oid AND c.originator_version = k.v"
        ).format(chain)
        self._select_originator_events = SQL(
            "SELECT notification_id, originator_version, topic, state FROM {0} "
            "WHERE originator_id = %s AND originator_version <= %s ORDER BY originator_version"
        ).format(events)
        self._insert_links_statement = SQL(
            "INSERT INTO {0} SELECT * FROM unnest(%s::bigint[], %s::uuid[], %s::bigint[], %s::text[], "
            "%s::text[], %s::text[], %s::text[], %s::timestamptz[], %s::boolean[])"
        ).format(chain)
        self._insert_seal_statement = SQL("INSERT INTO {0} VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)").format(seals)
        self._select_unchained = SQL(
            "SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, e.state FROM {0} e "
            "WHERE NOT EXISTS (SELECT 1 FROM {1} k WHERE k.notification_id = e.notification_id) "
            "ORDER BY e.notification_id LIMIT %s"
        ).format(events, chain)

    def _fetch_ids_after_insert_events(self, curs: Cursor, stored_events: Sequence[StoredEvent], *,
                                       chain_prepared: list | None = None, **kwargs: Any) -> Sequence[int] | None:
        notification_ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        assert notification_ids is not None
        self.chain_events(curs, list(zip(notification_ids, stored_events)), prepared=chain_prepared)
        return notification_ids

    def _link_hashes(self, c: Cursor, keys: list[tuple[Any, int]]) -> dict[tuple[str, int], str]:
        if not keys:
            return {}
        c.execute(self._select_links, ([_uuid(k[0]) for k in keys], [k[1] for k in keys]))
        return {(str(r["originator_id"]), r["originator_version"]): r["hash"] for r in c.fetchall()}

    def _originator_events(self, c: Cursor, originator_id: Any, upto: int) -> list[tuple[int, int, str, bytes]]:
        c.execute(self._select_originator_events, (_uuid(originator_id), upto))
        return [
            (r["notification_id"], r["originator_version"], r["topic"], bytes(r["state"]))
            for r in c.fetchall()
        ]

    def _insert_links(self, c: Cursor, links: list[Link], chained_at: datetime) -> None:
        c.execute(
            self._insert_links_statement,
            (
                [l.notification_id for l in links], [UUID(l.originator_id) for l in links],
                [l.version for l in links], [l.topic for l in links], [l.content_hash for l in links],
                [l.prev_hash for l in links], [l.hash for l in links], [chained_at] * len(links),
                [l.backfilled for l in links],
            ),
        )

    # -- what integrity.py uses ---------------------------------------------------

    @contextmanager
    def chain_reader(self) -> Iterator[ChainReader]:
        with self.datastore.get_connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield PostgresChainReader(self, conn)

    @contextmanager
    def chain_writer(self) -> Iterator[Cursor]:
        """A write transaction that holds the events table's lock, like the writers do."""
        with self.datastore.transaction(commit=True) as curs:
            self._lock_table(curs)
            yield curs

    def insert_seal(self, seal: Seal) -> None:
        import psycopg

        try:
            with self.datastore.transaction(commit=True) as curs:
                curs.execute(
                    self._insert_seal_statement,
                    (seal.seq, seal.period, seal.first_id, seal.last_id, seal.count, seal.events_digest,
                     seal.prev_seal_hash, seal.seal_hash, seal.sealed_at),
                )
        except psycopg.IntegrityError as error:
            raise IntegrityError(str(error)) from error

    def backfill(self, batch: int = 10_000) -> int:
        total = 0
        while True:
            with self.chain_writer() as c:
                c.execute(self._select_unchained, (batch,))
                rows = c.fetchall()
                if not rows:
                    return total
                pairs = [
                    (r["notification_id"], StoredEvent(r["originator_id"], r["originator_version"], r["topic"], bytes(r["state"])))
                    for r in rows
                ]
                links = self.chain_events(c, pairs, backfilled=True)
                total += len({(l.originator_id, l.version) for l in links})


def _uuid(originator_id: Any) -> UUID:
    return originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))


def supports_chain(recorder: Any) -> bool:
    return isinstance(recorder, (ChainedSQLiteApplicationRecorder, ChainedPostgresApplicationRecorder))
