"""Recompute every chain link and seal, and name the first broken link.

The notification log is cut into ranges at seal boundaries; each range is checked on
its own (in parallel processes when the store is large), and the ranges are then
stitched together: a household's first link in one range must follow its last link
in the ranges before. Inside a range each link is recomputed from the event's bytes,
household, version and topic and the household's previous link, and compared with the
stored link: equal means content, place and order are intact. Only a row that fails is
looked at closely, to say what differs. The rows that pass are passed by compiled code
(``_fast_links``) where it was built; it hands every other row to ``_check_row``.
"""

from __future__ import annotations

import _sqlite3
import ctypes
import sys
import threading
from bisect import bisect_right
from collections.abc import Iterator
from functools import cache
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from hashlib import sha256
from multiprocessing import get_all_start_methods, get_context

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment

from domain.errors import InvalidState
from service.audit.chain_rule import ZERO_HASH, content_hash, link_hash, seal_hash
from service.audit.chain_store import SQLITE_MMAP_BYTES, ChainReader, Seal

try:
    from service.audit import _fast_links as _compiled
except ImportError:  # installed without a C compiler or the headers it needs (pyproject.toml)
    _compiled = None

MAX_LISTED_PROBLEMS = 100
PARALLEL_FROM = 300_000  # events; below this, starting a second process costs more than it saves
RANGES_PER_WORKER = 8  # small enough that whoever finishes first waits little for the other


class ChainChangedDuringVerification(InvalidState):
    """A chain row below the log's end appeared while verifying (a backfill ran meanwhile)."""

    code = "chain_changed_during_verification"


@dataclass(frozen=True)
class Problem:
    """One broken link, located: which household, which version, what differs."""

    kind: str
    message: str
    household_id: str | None = None
    version: int | None = None
    notification_id: int | None = None
    seal: int | None = None


@dataclass
class Verification:
    events_checked: int = 0
    households_checked: int = 0
    seals_checked: int = 0
    sealed_through: str | None = None
    sealed_through_id: int = 0
    last_seal_hash: str | None = None
    backfilled_links: int = 0
    unsealed_events: int = 0
    problem_count: int = 0
    problems: list[Problem] = field(default_factory=list)
    checked_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def first_problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def add(self, problem: Problem) -> None:
        self.problem_count += 1
        self.problems.append(problem)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["ok"] = self.ok
        data["first_problem"] = asdict(self.first_problem) if self.first_problem else None
        return data


@dataclass
class _Range:
    """What one range's check found, and what the stitching needs from it."""

    result: Verification
    missing: int = 0
    households: int = 0  # distinct households with a row here
    firsts: dict = field(default_factory=dict)  # oid -> (version, prev_hash, nid): first row here, version > 1
    starts: dict = field(default_factory=dict)  # oid -> nid of its version 1 here (a later range's duplicate)
    last: dict = field(default_factory=dict)  # oid -> (version, link) of its last row here


# -- one range -------------------------------------------------------------------------


class _SealCursor:
    """Walks the range's seals alongside its chain rows, checking each when its range ends.

    The caller appends each row's link hash to ``links``; crossing ``boundary`` (the
    open seal's last notification id) closes that seal and starts a new list, so the
    caller reads ``links`` afresh after each ``advance``.
    """

    def __init__(self, seals: list[Seal], prev_hash: str, result: Verification):
        self.seals = seals
        self.result = result
        self.index = 0
        self.prev_hash = prev_hash
        self.links: list[str] = []
        self.rows = 0
        self.boundary = seals[0].last_id if seals else _NO_SEAL

    def advance(self, notification_id: int) -> None:
        while notification_id > self.boundary:
            self._close()

    def finish(self) -> None:
        while self.index < len(self.seals):
            self._close()
        self.result.unsealed_events = len(self.links)
        self.rows += len(self.links)

    def _close(self) -> None:
        seal = self.seals[self.index]
        result = self.result
        where = f"seal {seal.seq} ({seal.period}, notifications up to {seal.last_id})"
        digest = sha256(("\n".join(self.links) + "\n" if self.links else "").encode()).hexdigest()
        expected_hash = seal_hash(
            seal.prev_seal_hash, seal.period, seal.first_id, seal.last_id, seal.count, seal.events_digest
        )
        if seal.prev_seal_hash != self.prev_hash:
            result.add(Problem("seal_link", f"{where} does not link to the seal before it", notification_id=seal.last_id, seal=seal.seq))
        elif expected_hash != seal.seal_hash:
            result.add(Problem("seal_altered", f"{where}: its own hash does not match its fields", notification_id=seal.last_id, seal=seal.seq))
        elif len(self.links) != seal.count:
            result.add(Problem(
                "seal_count",
                f"{where} sealed {seal.count} events, the chain now holds {len(self.links)} in that range",
                notification_id=seal.last_id, seal=seal.seq,
            ))
        elif digest != seal.events_digest:
            result.add(Problem(
                "seal_digest",
                f"{where}: the chain's link hashes in that range differ from the sealed ones",
                notification_id=seal.last_id, seal=seal.seq,
            ))
        result.seals_checked += 1
        result.sealed_through = seal.period
        result.sealed_through_id = seal.last_id
        result.last_seal_hash = seal.seal_hash
        self.prev_hash = seal.seal_hash
        self.index += 1
        self.rows += len(self.links)
        self.links = []
        self.boundary = self.seals[self.index].last_id if self.index < len(self.seals) else _NO_SEAL


_NO_SEAL = float("inf")


def _check_range(reader: ChainReader, after: int, upto: int, seals: list[Seal], prev_seal_hash: str,
                 alone: bool = True) -> _Range:
    """Every row of one range, in notification order, seals closed as their ranges end.

    Each household's running state is one tuple, ``(canonical id, last link, last
    version)``, keyed by the id as the events table stores it, so no row converts its
    id to canonical text. Tuples, not lists: a tuple of strings and numbers leaves the
    garbage collector's watch after its first collection, so a million rows do not make
    every full collection walk every household. The compiled fast path passes the rows
    that pass; every other row, including the first past the open seal's end, goes to
    ``_check_row``. A range checked ``alone`` (the whole log) keeps nothing for stitching.
    """
    found = _Range(Verification())
    households: dict = {}
    cursor = _SealCursor(seals, prev_seal_hash, found.result)
    for row in _rows_left(reader, after, upto, households, None if alone else found.starts, cursor):
        if row[0] > cursor.boundary:
            cursor.advance(row[0])
        _check_row(reader, found, households, cursor.links, row, alone)
    cursor.finish()
    found.result.events_checked = cursor.rows
    found.households = len(households)
    if not alone:
        found.last = {oid: (version, last) for oid, last, version in households.values()}
    return found


def _rows_left(reader: ChainReader, after: int, upto: int, households: dict, starts: dict | None,
               cursor: _SealCursor) -> Iterator[tuple]:
    """The range's rows that the compiled fast path did not pass (all of them without it).

    On a SQLite file the compiled path reads the rows itself; elsewhere it checks the
    batches the reader fetched. ``cursor.links`` and ``cursor.boundary`` are read afresh
    on every call, as the caller closes seals between rows.
    """
    compiled = _compiled
    if compiled is None:
        for batch in reader.verification_batches(after, upto):
            yield from batch
        return
    rule = compiled.Rule(households, reader.canonical_id, starts, ZERO_HASH)
    path = reader.database_file() if _same_sqlite(compiled) else None
    if path is not None:
        text, params = reader.verification_query(after, upto)
        with compiled.SQLiteRows(path, reader.sql(text), params, SQLITE_MMAP_BYTES) as rows:
            while (row := rows.next_left(rule, cursor.links, cursor.boundary)) is not None:
                yield row
        return
    for batch in reader.verification_batches(after, upto):
        index, size = 0, len(batch)
        while (index := rule.pass_rows(batch, index, cursor.links, cursor.boundary)) < size:
            yield batch[index]
            index += 1


@cache
def _same_sqlite(compiled) -> bool:
    """Does the compiled reader use the very SQLite library Python's ``sqlite3`` uses?

    Two copies of SQLite in one process must not open the same file: closing a file in
    one drops the POSIX locks the other holds (sqlite.org/howtocorrupt.html, 2.2.1).
    Where Python carries its own copy, the compiled path checks fetched batches instead.
    """
    try:
        python_sqlite = ctypes.CDLL(_sqlite3.__file__).sqlite3_libversion
    except (AttributeError, OSError):
        return False
    return ctypes.cast(python_sqlite, ctypes.c_void_p).value == compiled.sqlite_libversion_address()


def _check_row(reader: ChainReader, found: _Range, households: dict, links: list, row: tuple, alone: bool) -> None:
    """One row, by the rule: it passes only if its version follows the household's last
    one, its stored previous link is that household's last link (64 zeros for version
    1), and its link recomputes from them and the event's own bytes, id, version and
    topic. A household's first row in a range above version 1 is linked to the ranges
    before it when stitching. Any other row is diagnosed."""
    nid, link, prev_stored, e_oid, e_version, e_topic, e_state = row
    links.append(link)
    household = households.get(e_oid)
    if household is not None:
        oid, last, version = household
        if (
            e_version == version + 1
            and prev_stored == last
            and link_hash(last, oid, e_version, e_topic, content_hash(e_state)) == link
        ):
            households[e_oid] = (oid, link, e_version)
            return
    elif e_state is not None:
        oid = reader.canonical_id(e_oid)
        if (e_version != 1 or prev_stored == ZERO_HASH) and link_hash(
            prev_stored, oid, e_version, e_topic, content_hash(e_state)
        ) == link:
            households[e_oid] = (oid, link, e_version)
            if e_version != 1:
                found.firsts[oid] = (e_version, prev_stored, nid)
            elif not alone:
                found.starts[oid] = nid
            return
    else:
        found.missing += 1
    chain_row = reader.link(nid)
    if chain_row is None:  # the compiled reader's own snapshot is newer than this one
        raise ChainChangedDuringVerification(
            f"notification {nid} was chained after this verification began "
            "(`konvergen audit backfill` running at the same time?); verify again"
        )
    _diagnose(reader, found, households, chain_row, e_oid and reader.canonical_id(e_oid), e_version, e_topic, e_state)


def _diagnose(reader: ChainReader, found: _Range, households: dict, row: tuple, e_oid, e_version, e_topic, e_state) -> None:
    """Says what differs for a chain row whose link did not recompute (or whose version jumped)."""
    nid, oid, version, topic, content, prev, link, _backfilled = row
    result = found.result
    problems_before = result.problem_count
    where = f"household {oid} version {version} (notification {nid})"
    if link_hash(prev, oid, version, topic, content) != link:
        result.add(Problem("link_altered", f"{where}: its chain row was altered", oid, version, nid))
    key = reader.id_param(oid)  # the chain row's household, as the events table stores its id
    household = households.get(key)
    if household is None:
        if version != 1:
            found.firsts[oid] = (version, prev, nid)  # linked to earlier ranges when stitching
        else:
            found.starts[oid] = nid
            start = _linkage_problem(where, oid, version, prev, nid, None)
            if start:
                result.add(start)
    else:
        linkage = _linkage_problem(where, oid, version, prev, nid, (household[2], household[1]))
        if linkage:
            result.add(linkage)
    households[key] = (oid, link, version)
    if e_state is None:
        result.add(Problem("missing_event", f"{where}: the event is missing from the event store", oid, version, nid))
    elif e_oid != oid or e_version != version:
        result.add(Problem(
            "order",
            f"{where}: notification {nid} now holds household {e_oid} version {e_version}; events were moved or reordered",
            oid, version, nid,
        ))
    elif e_topic != topic:
        result.add(Problem("content_mismatch", f"{where}: its event type was changed to {e_topic}", oid, version, nid))
    elif content_hash(bytes(e_state)) != content:
        result.add(_content_problem(reader, where, oid, version, nid, content_hash(bytes(e_state))))
    elif result.problem_count == problems_before and household is not None:  # pragma: no cover
        result.add(Problem("link_altered", f"{where}: its link does not recompute", oid, version, nid))


def _linkage_problem(where: str, oid: str, version: int, prev: str, nid: int, previous: tuple | None) -> Problem | None:
    """Does a chain row follow the household's previous link (or start the chain)?"""
    if previous is None:
        if version != 1:
            return Problem("missing_version", f"{where}: versions 1 to {version - 1} are missing from the chain", oid, version, nid)
        if prev != ZERO_HASH:
            return Problem("broken_link", f"{where}: the first version must link to 64 zeros", oid, version, nid)
        return None
    if version != previous[0] + 1:
        return Problem(
            "missing_version",
            f"{where}: version {previous[0] + 1} is missing from the chain (or out of order)",
            oid, version, nid,
        )
    if prev != previous[1]:
        return Problem("broken_link", f"{where} does not link to version {previous[0]}", oid, version, nid)
    return None


def _content_problem(reader: ChainReader, where: str, oid: str, version: int, nid: int, actual: str) -> Problem:
    """A stored event's bytes changed; if they are another version's bytes, say so."""
    other = reader.content_hashes(oid).get(actual)
    if other is not None and other != version:
        return Problem(
            "order",
            f"{where} holds the content recorded for version {other}; events were reordered",
            oid, version, nid,
        )
    return Problem("content_mismatch", f"{where}: its stored bytes do not match the recorded content hash", oid, version, nid)


# -- the whole log ---------------------------------------------------------------------


def _boundaries(seals: list[Seal], top: int, parts: int) -> list[int]:
    """Range ends near equal shares of the log, each at a seal's end or past the last seal."""
    ends = [seal.last_id for seal in seals]
    sealed = ends[-1] if ends else 0
    chosen: list[int] = []
    for part in range(1, parts):
        target = top * part // parts
        end = target if target >= sealed else (ends[bisect_right(ends, target) - 1] if bisect_right(ends, target) else 0)
        if end > (chosen[-1] if chosen else 0) and end < top:
            chosen.append(end)
    return [*chosen, top]


class _Claims:
    """Which ranges are taken: this process claims them from the front of the log, the
    workers from the back, each one at a time, until the two ends meet. Shared by
    inheritance with the workers (the pool's initializer), so claiming costs no round
    trip through the pool, whose threads in this process wait for the GIL that the
    compiled check holds."""

    def __init__(self, context, count: int):
        self.lock = context.Lock()
        self.front = context.RawValue("q", 0)  # the next range from the front
        self.back = context.RawValue("q", count)  # one past the next range from the back

    def from_front(self) -> int | None:
        with self.lock:
            if self.front.value >= self.back.value:
                return None
            self.front.value += 1
            return self.front.value - 1

    def from_back(self) -> int | None:
        with self.lock:
            if self.front.value >= self.back.value:
                return None
            self.back.value -= 1
            return self.back.value

    def stop(self) -> None:
        """Leaves nothing more to claim: the workers finish the range they are on."""
        with self.lock:
            self.front.value = self.back.value


_worker_claims: _Claims | None = None


def _share_claims(claims: _Claims) -> None:
    """The pool's initializer: each worker keeps the claims it inherited."""
    global _worker_claims
    _worker_claims = claims


def _check_from_back(env: dict, name: str, jobs: list[tuple]) -> dict[int, _Range]:
    """A worker process: its own connection and read transaction, ranges claimed from
    the back until it meets this process's claims."""
    assert _worker_claims is not None, "the pool's initializer shares the claims"
    factory = InfrastructureFactory.construct(Environment(name, {**env, "CREATE_TABLE": "n"}))
    recorder = factory.application_recorder()
    found: dict[int, _Range] = {}
    try:
        with recorder.chain_reader() as reader:
            while (index := _worker_claims.from_back()) is not None:
                found[index] = _check_range(reader, *jobs[index], alone=False)
    finally:
        factory.close()
    return found


def verify(recorder, now: datetime, *, env: dict | None = None, name: str = "", workers: int = 1) -> Verification:
    """Every content hash, link and seal, recomputed; problems come in notification order.

    With ``env`` (the application's environment), a large store and ``workers`` above
    one, the log is cut into many ranges shared between this process and ``workers - 1``
    others (see ``_check_shared``). One is the default: on a machine whose cores are
    busy serving, a second process can cost more than it saves (bench/audit.py measures both).
    """
    with recorder.chain_reader() as reader:
        seals = reader.seals()
        top = reader.max_chain_id()
    shared = env is not None and workers > 1 and top >= PARALLEL_FROM
    ends = _boundaries(seals, top, workers * RANGES_PER_WORKER if shared else 1)
    jobs, after = [], 0
    for upto in ends:
        inside = [s for s in seals if after < s.last_id <= upto]
        before = [s for s in seals if s.last_id <= after]
        jobs.append((after, upto, inside, before[-1].seal_hash if before else ZERO_HASH))
        after = upto
    if len(jobs) == 1:
        with recorder.chain_reader() as reader:
            ranges = [_check_range(reader, *jobs[0])]
    else:
        ranges = _check_shared(recorder, env, name, jobs, workers)
    with recorder.chain_reader() as reader:
        return _stitch(reader, ranges, top, now)


def _check_shared(recorder, env: dict, name: str, jobs: list[tuple], workers: int) -> list[_Range]:
    """This process claims ranges from the front of the log, the workers from the back.

    A spawned worker needs most of a second to start (it imports the application), so
    a fixed even split would leave this process idle, or the work waiting on a worker
    that has not started. Instead each process claims one range at a time until the
    claims meet (``_Claims``): on a busy machine the workers may do little, and nothing
    waits for them beyond the range they are on.
    """
    context = get_context(_start_method())
    claims = _Claims(context, len(jobs))
    found: list = [None] * len(jobs)
    with ProcessPoolExecutor(workers - 1, mp_context=context, initializer=_share_claims, initargs=(claims,)) as pool:
        helping = [pool.submit(_check_from_back, env, name, jobs) for _ in range(workers - 1)]
        try:
            with recorder.chain_reader() as reader:
                while (index := claims.from_front()) is not None:
                    found[index] = _check_range(reader, *jobs[index], alone=False)
        except BaseException:  # the error is shown once the workers end their current range
            claims.stop()
            raise
        for future in helping:
            for index, part in future.result().items():
                found[index] = part
    return found


def _start_method() -> str:
    """``fork`` on Linux when this process runs no other thread (the CLI, a benchmark):
    the worker starts at once with everything imported, where a spawned one needs most
    of a second. Otherwise ``spawn``: a fork copies other threads' locks (a web server's,
    a connection pool's) in whatever state they happen to be, and on macOS system
    libraries may have started threads of their own."""
    forkable = sys.platform.startswith("linux") and "fork" in get_all_start_methods()
    return "fork" if forkable and threading.active_count() == 1 else "spawn"


def _stitch(reader: ChainReader, ranges: list[_Range], top: int, now: datetime) -> Verification:
    """Joins the ranges: each household's first link in a range follows its last before."""
    result = Verification(checked_at=now)
    households: dict[str, tuple[int, str]] = {}
    missing = 0
    for found in ranges:
        part = found.result
        result.problems += part.problems
        result.problem_count += part.problem_count
        result.events_checked += part.events_checked
        result.seals_checked += part.seals_checked
        if part.sealed_through:
            result.sealed_through, result.sealed_through_id = part.sealed_through, part.sealed_through_id
            result.last_seal_hash = part.last_seal_hash
        result.unsealed_events += part.unsealed_events
        missing += found.missing
        for oid, (version, prev, nid) in found.firsts.items():
            where = f"household {oid} version {version} (notification {nid})"
            problem = _linkage_problem(where, oid, version, prev, nid, households.get(oid))
            if problem:
                result.add(problem)
        for oid in found.starts.keys() & households.keys():  # a chain begun again
            nid = found.starts[oid]
            result.add(_linkage_problem(f"household {oid} version 1 (notification {nid})", oid, 1, "", nid, households[oid]))
        households.update(found.last)
    result.households_checked = len(households) if len(ranges) > 1 else ranges[0].households
    result.backfilled_links = reader.count_backfilled()
    # Unchained: events in the checked range that no chain row matched, and any later ones.
    unchained = reader.count_events(top) - (result.events_checked - missing) + reader.count_unchained_after(top)
    if unchained > 0:
        listed = reader.unchained_events(MAX_LISTED_PROBLEMS)
        if result.events_checked == 0:
            result.add(Problem(
                "unchained_store",
                f"none of the {unchained} stored events is chained: they were recorded before tamper "
                "evidence was enabled; run `konvergen audit backfill` once",
                notification_id=listed[0][0],
            ))
        else:
            for nid, oid, version in listed:
                result.add(Problem("unchained_event", f"household {oid} version {version} (notification {nid}) has no chain link", oid, version, nid))
            result.problem_count += max(0, unchained - len(listed))
    result.problems.sort(key=lambda p: p.notification_id if p.notification_id is not None else 0)
    del result.problems[MAX_LISTED_PROBLEMS:]
    return result
