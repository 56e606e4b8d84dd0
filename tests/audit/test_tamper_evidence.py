"""Every event is chained as it is written, periods are sealed, and `verify` finds and
names any edit made behind the service's back: on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager

import pytest

from audit_helpers import Forger, categorise, days_later, plan, register
from service.audit.chain_rule import ZERO_HASH, content_hash, link_hash
from service.audit.integrity import SealRefused, backfill, seal_complete_periods, verify


@pytest.fixture(params=["compiled fast path", "pure Python"])
def verification_path(request, monkeypatch):
    """A test that verifies runs with the compiled fast path and without it: the answers
    are the same.
    (Worker processes of ``workers=2`` follow the switch only when they are forked.)"""
    from service.audit import verification

    if request.param == "pure Python":
        monkeypatch.setattr(verification, "_compiled", None)
    elif verification._compiled is None:
        pytest.skip("the compiled fast path is not built (test_fast_links says why)")


def chain_rows(konvergen):
    with konvergen.households.recorder.chain_reader() as reader:
        return list(reader.links())


@pytest.fixture
def story(store, clock):
    """Two households with a few events on 28 November, a third on the 29th."""
    households = store.households
    first = register(households, 1)
    categorise(households, first, desil=3)
    plan(households, first, delivered_on=clock.today())
    second = register(households, 2)
    categorise(households, second)
    days_later(clock, 1)
    third = register(households, 3)
    categorise(households, first, category="miskin", desil=4)
    return {"first": first, "second": second, "third": third}


def test_each_event_links_to_its_households_previous_event_by_the_documented_rule(store, story):
    rows = chain_rows(store)
    with store.households.recorder.chain_reader() as reader:
        assert len(rows) == reader.count_events()
    by_household: dict[str, list] = {}
    for nid, oid, version, topic, content, prev, link, _backfilled in rows:
        by_household.setdefault(oid, []).append((version, prev, link))
        assert link == link_hash(prev, oid, version, topic, content)
    first = by_household[story["first"]]
    assert [v for v, _, _ in first] == [1, 2, 3, 4, 5]
    assert first[0][1] == ZERO_HASH
    for (_, _, link_before), (_, prev, _) in zip(first, first[1:]):
        assert prev == link_before


def test_the_content_hash_is_the_sha256_of_the_stored_bytes_which_are_left_unchanged(store, story):
    forger = Forger(store)
    stored = forger.state(story["first"], 2)
    row = next(r for r in chain_rows(store) if r[1] == story["first"] and r[2] == 2)
    assert row[4] == content_hash(stored)
    assert b"miskin_ekstrem" in stored  # the library's own JSON, not rewritten


@pytest.mark.usefixtures("verification_path")
def test_an_untouched_store_verifies_every_event_household_and_seal(store, story, clock):
    days_later(clock, 1)
    seals = seal_complete_periods(store.households, clock.now())
    result = verify(store.households, clock.now())
    assert result.ok, result.problems
    assert result.events_checked == store.households.recorder.max_notification_id()
    assert result.households_checked == 6  # three households and their three KK index entries
    assert result.seals_checked == len(seals) == 2
    assert result.last_seal_hash == seals[-1].seal_hash


def test_sealing_waits_for_a_day_to_end_and_links_each_seal_to_the_one_before(store, story, clock):
    assert seal_complete_periods(store.households, clock.now()) and True  # the 28th has ended
    assert seal_complete_periods(store.households, clock.now()) == []  # the 29th has not
    days_later(clock, 1)
    [second] = seal_complete_periods(store.households, clock.now())
    with store.households.recorder.chain_reader() as reader:
        first, again = reader.seals()
    assert again == second
    assert (first.period, second.period) == ("2026-11-28", "2026-11-29")
    assert second.prev_seal_hash == first.seal_hash and first.prev_seal_hash == ZERO_HASH
    assert first.first_id == 1 and second.first_id == first.last_id + 1
    assert first.count + second.count == store.households.recorder.max_notification_id()


@pytest.mark.usefixtures("verification_path")
def test_altered_event_bytes_are_found_and_named_by_household_and_version(store, story, clock):
    forger = Forger(store)
    original = forger.state(story["first"], 2)
    forger.set_state(story["first"], 2, original.replace(b'"desil":3', b'"desil":9'))
    result = verify(store.households, clock.now())
    assert not result.ok
    problem = result.first_problem
    assert (problem.kind, problem.household_id, problem.version) == ("content_mismatch", story["first"], 2)
    assert f"household {story['first']} version 2" in problem.message
    assert result.problem_count == 1


@pytest.mark.usefixtures("verification_path")
def test_a_deleted_event_is_found_as_missing(store, story, clock):
    Forger(store).delete(story["second"], 2)
    result = verify(store.households, clock.now())
    assert (result.first_problem.kind, result.first_problem.household_id, result.first_problem.version) == (
        "missing_event", story["second"], 2,
    )
    assert "missing from the event store" in result.first_problem.message


@pytest.mark.usefixtures("verification_path")
def test_two_events_with_swapped_contents_are_found_as_reordered(store, story, clock):
    Forger(store).swap_states(story["first"], 2, 3)
    result = verify(store.households, clock.now())
    problem = result.first_problem
    assert (problem.kind, problem.household_id, problem.version) == ("order", story["first"], 2)
    assert "content recorded for version 3" in problem.message
    assert result.problem_count == 2


@pytest.mark.usefixtures("verification_path")
def test_two_events_with_swapped_versions_are_found_as_reordered(store, story, clock):
    Forger(store).swap_versions(story["first"], 2, 3)
    result = verify(store.households, clock.now())
    problem = result.first_problem
    assert (problem.kind, problem.household_id, problem.version) == ("order", story["first"], 2)
    assert "now holds household" in problem.message and "version 3" in problem.message


@pytest.mark.usefixtures("verification_path")
def test_a_forger_who_also_rewrites_the_chain_row_is_caught_by_the_seal(store, story, clock):
    days_later(clock, 2)
    seal_complete_periods(store.households, clock.now())
    forger = Forger(store)
    forged = forger.state(story["second"], 2).replace(b"miskin_ekstrem", b"tidak_miskin")
    forger.set_state(story["second"], 2, forged)
    prev = next(r[6] for r in chain_rows(store) if r[1] == story["second"] and r[2] == 1)
    topic = "domain.household:Household.Categorised"
    forger.rewrite_chain_row(
        story["second"], 2, content_hash=content_hash(forged),
        hash=link_hash(prev, story["second"], 2, topic, content_hash(forged)),
    )
    result = verify(store.households, clock.now())
    assert [p.kind for p in result.problems] == ["seal_digest"]
    assert "seal 1 (2026-11-28" in result.first_problem.message


@pytest.mark.usefixtures("verification_path")
def test_a_chain_row_whose_stored_previous_link_was_edited_is_a_broken_link(store, story, clock):
    Forger(store).rewrite_chain_row(story["first"], 3, prev_hash="f" * 64)

    result = verify(store.households, clock.now())

    assert [(p.kind, p.household_id, p.version) for p in result.problems] == [
        ("link_altered", story["first"], 3), ("broken_link", story["first"], 3),
    ]
    assert f"household {story['first']} version 3" in result.first_problem.message


@pytest.mark.usefixtures("verification_path")
def test_a_first_version_whose_stored_previous_link_is_not_zeros_is_a_broken_link(store, story, clock):
    Forger(store).rewrite_chain_row(story["third"], 1, prev_hash="f" * 64)

    result = verify(store.households, clock.now())

    assert ("broken_link", story["third"], 1) in [(p.kind, p.household_id, p.version) for p in result.problems]
    assert "must link to 64 zeros" in " ".join(p.message for p in result.problems)


def test_stitching_names_a_household_whose_chain_begins_again_in_a_later_range(store, story, clock):
    """Only a forger who also dropped the chain's unique key could store a second
    version 1; the ranges are checked apart, so the stitching must catch it."""
    from service.audit.verification import Verification, _Range, _stitch

    household = story["first"]
    with store.households.recorder.chain_reader() as reader:
        top = reader.max_chain_id()
        checked = Verification(events_checked=reader.count_events(top))  # every event, all in order
        earlier = _Range(checked, households=1, last={household: (4, "a" * 64)})
        later = _Range(Verification(), households=1, starts={household: 12})
        result = _stitch(reader, [earlier, later], top, clock.now())

    assert [(p.kind, p.household_id, p.version, p.notification_id) for p in result.problems] == [
        ("missing_version", household, 1, 12)
    ]


def test_chain_and_seal_rows_refuse_updates_and_deletes(store, story, clock):
    seal_complete_periods(store.households, clock.now())
    forger = Forger(store)
    for statement in (
        f"UPDATE {forger.chain} SET hash='x'",
        f"DELETE FROM {forger.chain}",
        f"DELETE FROM {store.households.recorder.seals_table}",
    ):
        with pytest.raises(Exception, match="append-only"):
            forger.execute(statement)


@contextmanager
def written_without_links(konvergen):
    """Events written inside this block get no chain rows, like a legacy store's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type(konvergen.households.recorder), "chain_events", lambda *args, **kwargs: [])
        yield


def test_sealing_refuses_while_older_events_have_no_chain_link(store, story, clock):
    with written_without_links(store):
        register(store.households, 9)
    register(store.households, 10)
    days_later(clock, 2)
    with pytest.raises(SealRefused, match="audit backfill"):
        seal_complete_periods(store.households, clock.now())


@pytest.mark.usefixtures("verification_path")
def test_a_store_written_before_tamper_evidence_is_reported_until_backfilled_once(store, clock):
    with written_without_links(store):
        first = register(store.households, 1)
        categorise(store.households, first)
    result = verify(store.households, clock.now())
    assert [p.kind for p in result.problems] == ["unchained_store"]
    assert "konvergen audit backfill" in result.first_problem.message
    assert backfill(store.households) == 3
    result = verify(store.households, clock.now())
    assert result.ok and result.events_checked == 3 and result.backfilled_links == 3


@pytest.mark.usefixtures("verification_path")
def test_a_new_event_on_a_household_from_before_the_chain_chains_its_earlier_events_first(store, clock):
    with written_without_links(store):
        first = register(store.households, 1)
    categorise(store.households, first)
    rows = [r for r in chain_rows(store) if r[1] == first]
    assert [(r[2], bool(r[7])) for r in rows] == [(1, True), (2, False)]
    assert rows[1][5] == rows[0][6]
    result = verify(store.households, clock.now())
    assert [p.kind for p in result.problems] == ["unchained_event"]  # only the KK index entry is left
    backfill(store.households)
    assert verify(store.households, clock.now()).ok


def more_sealed_days(store, story, clock, days: int) -> None:
    """Each household re-categorised on each of ``days`` more days, every finished day
    sealed: a log long enough to cut into several ranges."""
    for _day in range(days):
        days_later(clock, 1)
        for household in (story["first"], story["second"], story["third"]):
            categorise(store.households, household, desil=2)
    days_later(clock, 1)
    seal_complete_periods(store.households, clock.now())


@pytest.mark.usefixtures("verification_path")
def test_checking_ranges_in_two_processes_gives_the_same_answer_as_one(store, story, clock, monkeypatch):
    """Large stores are checked in parallel ranges cut at seal ends, then stitched."""
    from service.audit.verification import _boundaries

    more_sealed_days(store, story, clock, 2)  # so that a seal ends near the middle of the log
    with store.households.recorder.chain_reader() as reader:
        seals, top = reader.seals(), reader.max_chain_id()
    first_end = _boundaries(seals, top, 2)[0]
    assert first_end < top  # really two ranges
    Forger(store).delete(story["first"], 7)  # in the second range
    Forger(store).set_state(story["second"], 2, b"{}")  # in the first
    monkeypatch.setattr("service.audit.verification.PARALLEL_FROM", 0)
    one = verify(store.households, clock.now(), workers=1)
    two = verify(store.households, clock.now(), workers=2)
    assert [(p.kind, p.household_id, p.version) for p in two.problems] == [
        ("content_mismatch", story["second"], 2), ("missing_event", story["first"], 7),
    ]
    assert one.as_dict() == two.as_dict()
    assert two.seals_checked == 4 and two.events_checked == top == 17


@pytest.mark.usefixtures("verification_path")
def test_spawned_workers_claim_ranges_from_the_back_and_give_the_same_answer(store, story, clock, monkeypatch):
    """A process running other threads (the web server's check) spawns its workers: they
    start with nothing imported and share the range claims through the pool's initializer."""
    from service.audit import verification

    more_sealed_days(store, story, clock, 3)
    Forger(store).set_state(story["second"], 2, b"{}")
    counts: list[int] = []
    claimed_here: list[int] = []
    make_claims, claim_from_front = verification._Claims.__init__, verification._Claims.from_front

    def counting(claims, context, count):
        counts.append(count)
        make_claims(claims, context, count)

    def slowly_from_front(claims):
        """After its first range this process waits for the worker to claim one (or for
        30 s), so both ends are taken whatever the machine's speed."""
        if claimed_here:
            deadline = time.monotonic() + 30
            while claims.back.value == counts[0] and time.monotonic() < deadline:
                time.sleep(0.05)
        index = claim_from_front(claims)
        claimed_here.append(index)
        return index

    with monkeypatch.context() as patch:
        patch.setattr(verification, "PARALLEL_FROM", 0)
        patch.setattr(verification, "_start_method", lambda: "spawn")
        patch.setattr(verification._Claims, "__init__", counting)
        patch.setattr(verification._Claims, "from_front", slowly_from_front)
        two = verify(store.households, clock.now(), workers=2)
    one = verify(store.households, clock.now(), workers=1)
    assert two.as_dict() == one.as_dict()
    assert [(p.kind, p.household_id, p.version) for p in two.problems] == [("content_mismatch", story["second"], 2)]
    taken_here = [index for index in claimed_here if index is not None]
    assert taken_here == list(range(len(taken_here)))  # from the front, in order
    assert 0 < len(taken_here) < counts[0]  # the spawned worker took the rest, from the back


def test_a_range_boundary_never_cuts_a_seal():
    from service.audit.chain_store import Seal
    from service.audit.verification import _boundaries

    seals = [Seal(n, f"2026-11-{n:02d}", 1, last, 1, "", "", "", None) for n, last in enumerate((10, 40, 45, 90), 1)]
    assert _boundaries(seals, 100, 2) == [45, 100]
    assert _boundaries(seals, 100, 4) == [10, 45, 100]  # 75 falls inside the seal ending at 90
    assert _boundaries(seals, 300, 2) == [150, 300]  # past the last seal any end will do
    assert _boundaries([], 7, 3) == [2, 4, 7]


def test_an_error_in_this_process_leaves_the_workers_nothing_more_to_claim(store, story, clock, monkeypatch):
    """Without it the workers would check the rest of the log before the error is shown."""
    from service.audit import verification

    more_sealed_days(store, story, clock, 3)
    made: list = []
    make_claims, check_range, here = verification._Claims.__init__, verification._check_range, os.getpid()

    def remembered(claims, context, count):
        made.append(claims)
        make_claims(claims, context, count)

    def failing_here(reader, *job, **options):
        if os.getpid() == here:
            raise OSError("disk I/O error")
        return check_range(reader, *job, **options)

    monkeypatch.setattr(verification, "PARALLEL_FROM", 0)
    monkeypatch.setattr(verification, "_start_method", lambda: "fork")
    monkeypatch.setattr(verification._Claims, "__init__", remembered)
    monkeypatch.setattr(verification, "_check_range", failing_here)
    with pytest.raises(OSError, match="disk I/O error"):
        verify(store.households, clock.now(), workers=2)
    claims = made[0]
    assert claims.front.value == claims.back.value > 1  # the worker did not go on down to range 1


@pytest.mark.usefixtures("verification_path")
def test_a_verification_that_seals_reports_the_same_seals_as_the_next_verification(store, story, clock):
    from service.access import SYSTEM_ACTOR
    from service.audit import audit_for

    days_later(clock, 2)
    integrity = audit_for(store).integrity
    sealing, after = integrity.verify(SYSTEM_ACTOR), integrity.verify(SYSTEM_ACTOR)
    assert sealing.seals_checked == 2
    for field in ("seals_checked", "sealed_through", "sealed_through_id", "last_seal_hash", "unsealed_events"):
        assert getattr(sealing, field) == getattr(after, field), field


@pytest.mark.usefixtures("verification_path")
def test_concurrent_writers_leave_every_chain_intact(store, clock):
    """Writers racing on one household and on others: the store's own serialisation
    (the version key, SQLite's one writer, PostgreSQL's table lock) keeps links in order."""
    from concurrent.futures import ThreadPoolExecutor

    households = store.households
    shared = register(households, 1)
    others = [register(households, n) for n in range(2, 6)]

    def write(n: int) -> None:
        categorise(households, shared, desil=1 + n % 10)
        categorise(households, others[n % len(others)], desil=1 + n % 10)

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(write, range(24)))
    result = verify(store.households, clock.now())
    assert result.ok, result.problems[:3]
    assert result.events_checked == 10 + 48
