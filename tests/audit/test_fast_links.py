"""The compiled verification fast path may only make verification faster: on any rows,
intact or tampered, a range checked with it gives exactly the answer the Python rule
gives alone. No database: the rows are built by the documented rule in the test."""

from __future__ import annotations

from datetime import datetime, timezone
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.audit import verification
from service.audit.chain_rule import ZERO_HASH, EventsDigest, content_hash, link_hash, seal_hash
from service.audit.chain_store import Seal

pass_rows = verification._compiled_pass_rows
TOPIC = "domain.household:Household.Categorised"


def test_the_compiled_fast_path_is_built_by_the_install():
    assert pass_rows is not None, (
        "service/audit/_fast_links.pyx was not compiled: `pip install -e .` needs gcc and the "
        "Python and OpenSSL headers (Debian: build-essential python3-dev libssl-dev); "
        "verification still gives the same answers without it, only slower"
    )


needs_compiled = pytest.mark.skipif(pass_rows is None, reason="the compiled fast path is not built")


class Rows:
    """Chain and event rows as the verification query returns them, ids stored as 32
    hexadecimal digits the way SQLite stores them."""

    def __init__(self, households: int, order: list[int]):
        self.raw = [UUID(int=n + 1).hex for n in range(households)]
        self.chain: dict[int, tuple] = {}
        self.rows: list[tuple] = []
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
    def verification_batches(self, after: int, upto: int):
        rows = [row for row in self.rows if after < row[0] <= upto]
        for start in range(0, len(rows), 3):  # small batches: rows meet batch edges
            yield rows[start:start + 3]

    def canonical_id(self, raw: str) -> str:
        return str(UUID(hex=raw))

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
        row[0], link_hash("e" * 64, str(UUID(hex=row[3])), *row[4:6], content_hash(row[6])), "e" * 64, *row[3:]
    ),
    "version": lambda row: (*row[:4], row[4] + 1, *row[5:]),
    "missing event": lambda row: (*row[:3], None, None, None, None),
    "topic": lambda row: (*row[:5], "domain.household:Household.Closed", row[6]),
    "non-ASCII topic": lambda row: (*row[:5], "domain.household:Rumah.Dikategorikan·", row[6]),
    "bytes as a memoryview": lambda row: (*row[:6], memoryview(row[6])),
    "version past 64 bits": lambda row: (*row[:4], 2**70, *row[5:]),
}
# Not from any database, so only the compiled path's refusal is tested, not the rule's answer.
ODD_TYPES = {"id as bytes": lambda row: (*row[:3], row[3].encode(), *row[4:])}


def check(rows: Rows, fast, *, seals: list[Seal], alone: bool, monkeypatch) -> verification._Range:
    with monkeypatch.context() as patch:
        patch.setattr(verification, "_pass_rows", fast)
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
)
def test_a_range_checked_with_the_compiled_path_gives_the_pure_rule_s_answer(
    data, households, events, seal_every, alone, start_at, monkeypatch
):
    order = data.draw(st.lists(st.integers(0, households - 1), min_size=events, max_size=events))
    rows = Rows(households, order)
    seals = rows.seals(seal_every)
    for where in data.draw(st.sets(st.integers(0, len(rows.rows) - 1), max_size=3)):
        rows.rows[where] = TAMPERINGS[data.draw(st.sampled_from(sorted(TAMPERINGS)))](rows.rows[where])
    rows.rows = rows.rows[min(start_at, len(rows.rows) - 1):]  # a later range: households begin above version 1
    compiled = check(rows, pass_rows, seals=seals, alone=alone, monkeypatch=monkeypatch)
    pure = check(rows, verification._pass_no_rows, seals=seals, alone=alone, monkeypatch=monkeypatch)
    assert compiled == pure


@needs_compiled
def test_intact_rows_pass_in_one_call_with_the_rule_s_effects():
    rows = Rows(3, [0, 1, 0, 2, 1, 0])
    households, links, starts = {}, [], {}
    assert pass_rows(rows.rows, 0, households, rows.canonical_id, links, float("inf"), starts, ZERO_HASH) == 6
    assert links == [row[1] for row in rows.rows]
    assert households[rows.raw[0]] == (rows.canonical_id(rows.raw[0]), rows.rows[5][1], 3)
    assert starts == {rows.canonical_id(raw): nid for nid, raw in ((1, rows.raw[0]), (2, rows.raw[1]), (4, rows.raw[2]))}


@needs_compiled
@pytest.mark.parametrize("tampering", sorted({**TAMPERINGS, **ODD_TYPES}))
def test_the_compiled_path_stops_at_a_row_it_cannot_pass_and_leaves_it_untouched(tampering):
    rows = Rows(2, [0, 1, 0, 1])
    rows.rows[2] = {**TAMPERINGS, **ODD_TYPES}[tampering](rows.rows[2])
    households, links = {}, []
    assert pass_rows(rows.rows, 0, households, rows.canonical_id, links, float("inf"), None, ZERO_HASH) == 2
    assert links == [rows.rows[0][1], rows.rows[1][1]]
    assert households[rows.raw[0]][2] == 1


@needs_compiled
def test_the_compiled_path_stops_where_the_open_seal_ends_and_goes_on_from_there():
    rows = Rows(1, [0, 0, 0, 0])
    households, links = {}, []
    assert pass_rows(rows.rows, 0, households, rows.canonical_id, links, 2, None, ZERO_HASH) == 2
    assert pass_rows(rows.rows, 2, households, rows.canonical_id, links, 4, None, ZERO_HASH) == 4
    assert links == [row[1] for row in rows.rows]


@needs_compiled
def test_a_household_first_met_above_version_one_is_left_to_the_python_rule():
    rows = Rows(1, [0, 0, 0])
    assert pass_rows(rows.rows[1:], 0, {}, rows.canonical_id, [], float("inf"), None, ZERO_HASH) == 0
