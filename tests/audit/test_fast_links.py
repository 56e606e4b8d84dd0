"""The compiled verification fast path may only make verification faster: on any rows,
intact or tampered, a range checked with it gives exactly the answer the Python rule
gives alone. No database: the rows are built by the documented rule in the test."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.audit import verification
from service.audit.chain_rule import ZERO_HASH, EventsDigest, content_hash, link_hash, seal_hash
from service.audit.chain_store import Seal

compiled = verification._compiled
TOPIC = "domain.household:Household.Categorised"
NO_SEAL = float("inf")


def test_the_compiled_fast_path_is_built_by_the_install():
    assert compiled is not None, (
        "service/audit/_fast_links.pyx was not compiled: `pip install -e .` needs gcc and the "
        "Python, OpenSSL 3.0+ and SQLite headers (Debian 12: build-essential python3-dev "
        "libssl-dev libsqlite3-dev); verification still gives the same answers without it, only slower"
    )


needs_compiled = pytest.mark.skipif(compiled is None, reason="the compiled fast path is not built")


def canonical(raw: str) -> str:
    """SQLite's stored hex id with hyphens; other ids as they are."""
    return str(UUID(hex=raw)) if len(raw) == 32 else raw


ID_KINDS = {
    "uuid": lambda n: UUID(int=n + 1).hex,
    "long": lambda n: f"{n:070d}",  # longer than the compiled run keeps
    "non-ASCII": lambda n: f"rumah-{n}-ñ",
}


class Rows:
    """Chain and event rows as the verification query returns them, ids stored as 32
    hexadecimal digits the way SQLite stores them; fetched from memory, or written to a
    SQLite file (``to_file``) and read from there like the real reader does."""

    def __init__(self, households: int, order: list[int], ids: str = "uuid"):
        self.raw = [ID_KINDS[ids](n) for n in range(households)]
        self.chain: dict[int, tuple] = {}
        self.rows: list[tuple] = []
        self.file: str | None = None
        versions, lasts = [0] * households, [ZERO_HASH] * households
        for nid, who in enumerate(order, 1):
            versions[who] += 1
            oid, version = self.canonical_id(self.raw[who]), versions[who]
            state = f'{{"n": {nid}, "desil": {version}}}'.encode()
            content = content_hash(state)
            link = link_hash(lasts[who], oid, version, TOPIC, content)
            self.chain[nid] = (nid, oid, version, TOPIC, content, lasts[who], link, False)
            self.rows.append((nid, link, lasts[who], self.raw[who], version, TOPIC, state))
            lasts[who] = link

    def to_file(self, path: str) -> None:
        """The rows as a chain table and an events table typed like the real ones; a row
        whose event is gone has none, and a number too big for SQLite is given as text
        (which the column's INTEGER affinity keeps as a REAL)."""
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE chain (notification_id INTEGER PRIMARY KEY, hash TEXT, prev_hash TEXT)")
            db.execute(
                "CREATE TABLE events (id INTEGER PRIMARY KEY, originator_id TEXT, originator_version INTEGER, "
                "topic TEXT, state BLOB)"
            )
            for nid, link, prev, *event in self.rows:
                db.execute("INSERT INTO chain VALUES (?, ?, ?)", (nid, link, prev))
                if event[0] is not None:
                    version = event[1] if -(2**63) <= event[1] < 2**63 else str(event[1])
                    db.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?)", (nid, event[0], version, *event[2:]))
        db.close()
        self.file = path

    def seals(self, every: int) -> list[Seal]:
        """Honest seals over every ``every`` rows."""
        seals, prev = [], ZERO_HASH
        for start in range(0, len(self.rows) - every + 1, every):
            digest = EventsDigest()
            for row in self.rows[start:start + every]:
                digest.add(row[1])
            first, last = start + 1, start + every
            value = seal_hash(prev, f"p{len(seals)}", first, last, every, digest.hexdigest())
            seals.append(Seal(len(seals) + 1, f"p{len(seals)}", first, last, every, digest.hexdigest(), prev, value,
                              datetime(2026, 11, 28, tzinfo=timezone.utc)))
            prev = value
        return seals

    # the ChainReader methods a range check uses
    def sql(self, text: str) -> str:
        return text

    def verification_query(self, after: int, upto: int) -> tuple[str, tuple]:
        return (
            "SELECT c.notification_id, c.hash, c.prev_hash, e.originator_id, e.originator_version, e.topic, e.state "
            "FROM chain c LEFT JOIN events e ON e.id = c.notification_id "
            "WHERE c.notification_id > ? AND c.notification_id <= ? ORDER BY c.notification_id",
            (after, upto),
        )

    def verification_batches(self, after: int, upto: int):
        if self.file is None:
            rows = [row for row in self.rows if after < row[0] <= upto]
        else:
            with sqlite3.connect(self.file) as db:
                rows = db.execute(*self.verification_query(after, upto)).fetchall()
            db.close()
        for start in range(0, len(rows), 3):  # small batches: rows meet batch edges
            yield rows[start:start + 3]

    def database_file(self) -> str | None:
        return self.file

    def canonical_id(self, raw: str) -> str:
        return canonical(raw)

    def id_param(self, originator_id: str) -> str:
        return originator_id.replace("-", "")

    def link(self, notification_id: int) -> tuple | None:
        return self.chain.get(notification_id)

    def content_hashes(self, originator_id: str) -> dict[str, int]:
        return {row[4]: row[2] for row in self.chain.values() if row[1] == originator_id}


TAMPERINGS = {
    "bytes": lambda row: (*row[:6], row[6] + b" "),
    "link": lambda row: (row[0], "f" * 64, *row[2:]),
    "previous link": lambda row: (*row[:2], "e" * 64, *row[3:]),
    "chain row rewritten by a forger": lambda row: (
        row[0], link_hash("e" * 64, canonical(row[3]), *row[4:6], content_hash(row[6])), "e" * 64, *row[3:]
    ),
    "version": lambda row: (*row[:4], row[4] + 1, *row[5:]),
    "missing event": lambda row: (*row[:3], None, None, None, None),
    "topic": lambda row: (*row[:5], "domain.household:Household.Closed", row[6]),
    "non-ASCII topic": lambda row: (*row[:5], "domain.household:Rumah.Dikategorikan·", row[6]),
    "bytes as a memoryview": lambda row: (*row[:6], memoryview(row[6])),
    "bytes empty": lambda row: (*row[:6], b""),
    "version past 64 bits": lambda row: (*row[:4], 2**70, *row[5:]),
}
# What a tampered chain row may say its version is; Python records it for a row it diagnoses.
CHAIN_VERSIONS = (lambda v: v + 0.5, lambda v: v + 1, lambda v: 2**63 - 1, lambda v: True)

# Not from any database, so only the compiled path's refusal is tested, not the rule's answer.
ODD_TYPES = {
    "id as bytes": lambda row: (*row[:3], row[3].encode(), *row[4:]),
    "bytes as text": lambda row: (*row[:6], row[6].decode()),
    "version as a fraction": lambda row: (*row[:4], row[4] + 0.5, *row[5:]),
}


def check(rows: Rows, module, *, seals: list[Seal], alone: bool, monkeypatch) -> verification._Range:
    with monkeypatch.context() as patch:
        patch.setattr(verification, "_compiled", module)
        return verification._check_range(rows, 0, rows.rows[-1][0], seals, ZERO_HASH, alone=alone)


@needs_compiled
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.data(),
    households=st.integers(1, 4),
    events=st.integers(1, 14),
    seal_every=st.integers(1, 6),
    alone=st.booleans(),
    start_at=st.integers(0, 6),
    from_file=st.booleans(),
    ids=st.sampled_from(sorted(ID_KINDS)),
)
def test_a_range_checked_with_the_compiled_path_gives_the_pure_rule_s_answer(
    data, households, events, seal_every, alone, start_at, from_file, ids, monkeypatch, tmp_path_factory
):
    order = data.draw(st.lists(st.integers(0, households - 1), min_size=events, max_size=events))
    rows = Rows(households, order, ids)
    seals = rows.seals(seal_every)
    for where in data.draw(st.sets(st.integers(0, len(rows.rows) - 1), max_size=3)):
        rows.rows[where] = TAMPERINGS[data.draw(st.sampled_from(sorted(TAMPERINGS)))](rows.rows[where])
    for nid in data.draw(st.sets(st.integers(1, len(rows.rows)), max_size=2)):  # a chain row's own version
        chain_row = rows.chain[nid]
        rows.chain[nid] = (*chain_row[:2], data.draw(st.sampled_from(CHAIN_VERSIONS))(chain_row[2]), *chain_row[3:])
    rows.rows = rows.rows[min(start_at, len(rows.rows) - 1):]  # a later range: households begin above version 1
    if from_file:
        rows.to_file(str(tmp_path_factory.mktemp("rows") / "chain.db"))
    with_compiled = check(rows, compiled, seals=seals, alone=alone, monkeypatch=monkeypatch)
    pure = check(rows, None, seals=seals, alone=alone, monkeypatch=monkeypatch)
    assert with_compiled == pure


def fresh_rule(rows: Rows, starts: dict | None = None):
    households: dict = {}
    return households, compiled.Rule(households, rows.canonical_id, starts, ZERO_HASH)


@needs_compiled
def test_intact_rows_pass_in_one_call_with_the_rule_s_effects():
    rows = Rows(3, [0, 1, 0, 2, 1, 0])
    starts: dict = {}
    households, rule = fresh_rule(rows, starts)
    links: list = []
    assert rule.pass_rows(rows.rows, 0, links, NO_SEAL) == 6
    assert links == [row[1] for row in rows.rows]
    assert households[rows.raw[0]] == (rows.canonical_id(rows.raw[0]), rows.rows[5][1], 3)
    assert starts == {rows.canonical_id(raw): nid for nid, raw in ((1, rows.raw[0]), (2, rows.raw[1]), (4, rows.raw[2]))}


@needs_compiled
def test_intact_rows_read_from_a_sqlite_file_pass_with_the_same_effects(tmp_path):
    rows = Rows(3, [0, 1, 0, 2, 1, 0])
    rows.to_file(str(tmp_path / "chain.db"))
    households, rule = fresh_rule(rows)
    links: list = []
    with compiled.SQLiteRows(rows.file, *rows.verification_query(0, 6)) as read:
        assert read.next_left(rule, links, NO_SEAL) is None
    assert links == [row[1] for row in rows.rows]
    assert households[rows.raw[0]] == (rows.canonical_id(rows.raw[0]), rows.rows[5][1], 3)


@needs_compiled
@pytest.mark.parametrize("tampering", sorted({**TAMPERINGS, **ODD_TYPES}))
def test_the_compiled_path_stops_at_a_row_it_cannot_pass_and_leaves_it_untouched(tampering):
    rows = Rows(2, [0, 1, 0, 1])
    rows.rows[2] = {**TAMPERINGS, **ODD_TYPES}[tampering](rows.rows[2])
    households, rule = fresh_rule(rows)
    links: list = []
    assert rule.pass_rows(rows.rows, 0, links, NO_SEAL) == 2
    assert links == [rows.rows[0][1], rows.rows[1][1]]
    assert households[rows.raw[0]][2] == 1


@needs_compiled
@pytest.mark.parametrize("tampering", sorted({**TAMPERINGS, **ODD_TYPES}.keys() - {"bytes as a memoryview"}))
def test_the_sqlite_reader_hands_back_the_row_it_cannot_pass_as_python_s_sqlite3_would(tampering, tmp_path):
    rows = Rows(2, [0, 1, 0, 1])
    rows.rows[2] = {**TAMPERINGS, **ODD_TYPES}[tampering](rows.rows[2])
    rows.to_file(str(tmp_path / "chain.db"))
    expected = next(row for batch in rows.verification_batches(0, 4) for row in batch if row[0] == 3)
    households, rule = fresh_rule(rows)
    links: list = []
    with compiled.SQLiteRows(rows.file, *rows.verification_query(0, 4)) as read:
        assert read.next_left(rule, links, NO_SEAL) == expected
        assert links == [rows.rows[0][1], rows.rows[1][1]]
        assert read.next_left(rule, links, NO_SEAL) is None  # the other household's row still passes
    assert links == [rows.rows[0][1], rows.rows[1][1], rows.rows[3][1]]


@needs_compiled
def test_the_compiled_path_stops_where_the_open_seal_ends(tmp_path):
    rows = Rows(1, [0, 0, 0, 0])
    households, rule = fresh_rule(rows)
    links: list = []
    assert rule.pass_rows(rows.rows, 0, links, 2) == 2
    assert rule.pass_rows(rows.rows, 2, links, 4) == 4
    assert links == [row[1] for row in rows.rows]
    rows.to_file(str(tmp_path / "chain.db"))
    households, rule = fresh_rule(rows)
    with compiled.SQLiteRows(rows.file, *rows.verification_query(0, 4)) as read:
        assert read.next_left(rule, [], 2) == rows.rows[2]


@needs_compiled
def test_a_household_first_met_above_version_one_is_left_to_the_python_rule():
    rows = Rows(1, [0, 0, 0])
    households, rule = fresh_rule(rows)
    assert rule.pass_rows(rows.rows[1:], 0, [], NO_SEAL) == 0
    assert households == {}


@needs_compiled
def test_a_sqlite_file_that_cannot_be_opened_is_an_error_that_names_the_file_s_problem(tmp_path):
    with pytest.raises(OSError, match="could not open the SQLite file"):
        compiled.SQLiteRows(str(tmp_path / "absent.db"), "SELECT 1", ())


def rows_at_versions(versions: list[int]) -> Rows:
    """One household's rows at these versions, each linked to the one before by the rule
    (the first to a made-up earlier link, as in a later range)."""
    rows, raw, last = Rows(1, []), UUID(int=7).hex, "a" * 64
    for nid, version in enumerate(versions, 1):
        state = f'{{"n": {nid}}}'.encode()
        content = content_hash(state)
        link = link_hash(last, canonical(raw), version, TOPIC, content)
        rows.rows.append((nid, link, last, raw, version, TOPIC, state))
        rows.chain[nid] = (nid, canonical(raw), version, TOPIC, content, last, link, False)
        last = link
    return rows


@needs_compiled
def test_a_version_that_wraps_past_the_largest_64_bit_number_does_not_follow_it(monkeypatch):
    rows = rows_at_versions([2**63 - 1, -(2**63)])
    with_compiled = check(rows, compiled, seals=[], alone=False, monkeypatch=monkeypatch)
    pure = check(rows, None, seals=[], alone=False, monkeypatch=monkeypatch)
    assert [p.kind for p in pure.result.problems] == ["missing_version"]
    assert with_compiled == pure


@needs_compiled
def test_a_version_python_recorded_from_a_tampered_chain_row_is_compared_exactly(monkeypatch):
    rows = Rows(1, [0, 0, 0])
    rows.rows[0] = TAMPERINGS["bytes"](rows.rows[0])
    chain_row = rows.chain[1]
    rows.chain[1] = (*chain_row[:2], 1.5, *chain_row[3:])  # diagnosing row 1 records version 1.5
    with_compiled = check(rows, compiled, seals=[], alone=True, monkeypatch=monkeypatch)
    pure = check(rows, None, seals=[], alone=True, monkeypatch=monkeypatch)
    assert "missing_version" in [p.kind for p in pure.result.problems]
    assert with_compiled == pure


@needs_compiled
def test_misuse_is_refused_rather_than_read_out_of_bounds(tmp_path):
    rows = Rows(1, [0, 0])
    households, rule = fresh_rule(rows)
    with pytest.raises(ValueError, match="start"):
        rule.pass_rows(rows.rows, -1, [], NO_SEAL)
    rows.to_file(str(tmp_path / "chain.db"))
    with compiled.SQLiteRows(rows.file, *rows.verification_query(0, 2)) as read, pytest.raises(TypeError):
        read.next_left(None, [], NO_SEAL)


@needs_compiled
def test_text_that_is_not_utf8_is_refused_as_python_s_sqlite3_refuses_it(tmp_path):
    rows = Rows(1, [0])
    rows.rows[0] = (*rows.rows[0][:5], b"\xff\xfe", rows.rows[0][6])
    rows.to_file(str(tmp_path / "chain.db"))
    with sqlite3.connect(rows.file) as db:
        db.execute("UPDATE events SET topic = CAST(x'fffe' AS TEXT)")
    db.close()
    with pytest.raises(sqlite3.OperationalError, match="Could not decode to UTF-8"):
        list(rows.verification_batches(0, 1))
    with compiled.SQLiteRows(rows.file, *rows.verification_query(0, 1)) as read:
        with pytest.raises(sqlite3.OperationalError, match="Could not decode to UTF-8"):
            read.next_left(fresh_rule(rows)[1], [], NO_SEAL)


@pytest.mark.parametrize("module", [compiled, None], ids=["compiled", "pure Python"])
def test_a_row_the_verification_s_own_snapshot_does_not_hold_is_reported_as_a_change_meanwhile(module, monkeypatch):
    """The compiled reader's snapshot can be newer than the caller's: only a backfill
    adds chain rows inside the log, and verifying again is the answer."""
    rows = Rows(1, [0, 0])
    rows.rows[1] = TAMPERINGS["bytes"](rows.rows[1])
    del rows.chain[2]
    with pytest.raises(verification.ChainChangedDuringVerification, match="notification 2 was chained after"):
        check(rows, module, seals=[], alone=True, monkeypatch=monkeypatch)


@needs_compiled
def test_the_compiled_reader_opens_the_file_only_with_the_sqlite_python_itself_uses(monkeypatch, tmp_path):
    """Two copies of SQLite in one process must not open one file; on this machine both
    are the system's library, and with another copy the batches Python fetched are used."""
    assert verification._same_sqlite(compiled)
    rows = Rows(2, [0, 1, 0, 1])
    rows.rows[2] = TAMPERINGS["bytes"](rows.rows[2])
    rows.to_file(str(tmp_path / "chain.db"))
    reading_the_file = check(rows, compiled, seals=[], alone=True, monkeypatch=monkeypatch)
    opened: list = []
    monkeypatch.setattr(verification, "_same_sqlite", lambda module: False)
    monkeypatch.setattr(compiled, "SQLiteRows", lambda *args: opened.append(args))
    assert check(rows, compiled, seals=[], alone=True, monkeypatch=monkeypatch) == reading_the_file
    assert opened == []
