"""Concurrent writers, threads and processes, on SQLite and PostgreSQL: nothing lost, nothing overwritten.

Every test starts its workers on a barrier so they hit the store at the same moment,
then counts what the store holds, both per household and in the notification log.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from uuid import UUID

import pytest

from store_workers import ACTOR, ProcessWorkers, open_konvergen, run_in_threads

KK = "3204050101200001"
WORKERS = {"threads": 6, "processes": 4}
INTERVENTIONS_EACH = 5


@pytest.fixture(scope="module")
def process_workers():
    """Spawned once for the module (start-up and imports cost seconds on two cores)."""
    workers = ProcessWorkers(WORKERS["processes"])
    yield workers
    workers.close()


@pytest.fixture(params=["threads", "processes"])
def run_workers(request, database_url):
    """Runs ``command`` once per argument tuple, concurrently, the way the param says."""
    konvergen = open_konvergen(database_url)
    mode = request.param
    processes = request.getfixturevalue("process_workers") if mode == "processes" else None

    def run(command: str, args_per_worker: list[tuple]) -> list[tuple]:
        if processes is None:
            per_worker = run_in_threads(konvergen, command, args_per_worker)
        else:
            per_worker = processes.run(database_url, command, args_per_worker)
        outcomes = [o for worker in per_worker for o in worker]
        crashed = [o for o in outcomes if o[0] == "crashed"]
        assert not crashed, "\n".join(o[2] for o in crashed)
        return outcomes

    run.konvergen = konvergen
    run.workers = WORKERS[mode]
    yield run
    konvergen.close()


def register(konvergen) -> str:
    from store_workers import register_kk

    ((status, household_id),) = register_kk(konvergen, KK, "setup")
    assert status == "ok", household_id
    return household_id


def notifications(konvergen) -> list:
    """The whole notification log, in order, read a section at a time."""
    log = konvergen.households.notification_log
    found, start = [], 1
    while True:
        section = log.select(start=start, limit=log.section_size)
        found.extend(section)
        if len(section) < log.section_size:
            return found
        start = section[-1].id + 1


def events_of(konvergen, household_id: str) -> list:
    return list(konvergen.households.events.get(UUID(household_id)))


def test_workers_recording_interventions_on_one_household_at_once_all_succeed_and_every_event_is_stored(run_workers):
    konvergen = run_workers.konvergen
    hid = register(konvergen)
    n, m = run_workers.workers, INTERVENTIONS_EACH

    outcomes = run_workers("record_interventions", [(hid, m, f"w{w}") for w in range(n)])

    assert [o[0] for o in outcomes] == ["ok"] * (n * m)
    assert sorted(o[1] for o in outcomes) == list(range(2, 2 + n * m))  # every version handed out once
    events = events_of(konvergen, hid)
    assert len(events) == 1 + n * m
    assert [e.originator_version for e in events] == list(range(1, 2 + n * m))
    in_log = [x for x in notifications(konvergen) if str(x.originator_id) == hid]
    assert len(in_log) == 1 + n * m
    ids = [x.id for x in notifications(konvergen)]
    assert len(ids) == len(set(ids)) == 2 + n * m  # plus the KK index
    household = konvergen.households.get_household(ACTOR, hid)
    assert len(household["interventions"]) == n * m
    assert {i["id"] for i in household["interventions"]} == {f"w{w}-{k}" for w in range(n) for k in range(m)}


def test_workers_delivering_the_same_intervention_at_once_deliver_it_exactly_once(run_workers):
    konvergen = run_workers.konvergen
    hid = register(konvergen)
    iid = konvergen.households.plan_intervention(ACTOR, hid, programme="pkh", agency="dinsos", planned_on=date(2026, 11, 1))["intervention_id"]
    k = run_workers.workers

    outcomes = run_workers("deliver", [(hid, iid, f"w{w}") for w in range(k)])

    assert Counter(o[0] for o in outcomes) == {"ok": 1, "refused": k - 1}
    refusals = [o for o in outcomes if o[0] == "refused"]
    assert {o[1] for o in refusals} == {"InvalidState"}
    assert all("already delivered" in o[2] for o in refusals)
    types = [type(e).__name__ for e in events_of(konvergen, hid)]
    assert types.count("InterventionDelivered") == 1
    assert len(types) == 3


def test_workers_sending_the_same_expected_version_at_once_let_exactly_one_win(run_workers):
    konvergen = run_workers.konvergen
    hid = register(konvergen)
    k = run_workers.workers

    outcomes = run_workers("plan_at_version", [(hid, 1, f"w{w}") for w in range(k)])

    assert Counter(o[0] for o in outcomes) == {"ok": 1, "refused": k - 1}
    refusals = [o for o in outcomes if o[0] == "refused"]
    assert {o[1] for o in refusals} == {"VersionConflict"}
    assert all(o[3]["current"] == 2 and o[3]["expected"] == 1 for o in refusals)
    assert all("is at version 2, not 1" in o[2] for o in refusals)
    assert len(events_of(konvergen, hid)) == 2


def test_workers_registering_the_same_kk_at_once_create_one_household_and_the_rest_hear_its_id(run_workers):
    konvergen = run_workers.konvergen
    k = run_workers.workers

    outcomes = run_workers("register_kk", [(KK, f"w{w}") for w in range(k)])

    winners = [o[1] for o in outcomes if o[0] == "ok"]
    assert len(winners) == 1
    refusals = [o for o in outcomes if o[0] == "refused"]
    assert len(refusals) == k - 1
    assert {o[1] for o in refusals} == {"DuplicateKK"}
    assert {o[3]["existing_id"] for o in refusals} == {winners[0]}
    topics = [x.topic.rsplit(".", 1)[-1] for x in notifications(konvergen)]
    assert Counter(topics) == {"Registered": 1, "Reserved": 1}
    assert konvergen.households.find_by_kk(ACTOR, KK)["id"] == winners[0]
