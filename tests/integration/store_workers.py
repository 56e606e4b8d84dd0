"""Concurrent writers for the integration tests: the same commands from threads or processes.

Each worker waits on a barrier so they really start together, runs its commands and
reports plain outcomes (exceptions do not cross a process boundary intact). Processes
use the 'spawn' context and build their own ``Konvergen(url)``, as separate web
workers would.
"""

from __future__ import annotations

import multiprocessing
import threading
import traceback
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import date, datetime, timezone

from domain.errors import DomainError
from service.access import Actor
from service.clock import FixedClock

ACTOR = Actor(username="admin", role="admin")
NOW = datetime(2026, 11, 28, 3, 0, tzinfo=timezone.utc)
BARRIER_TIMEOUT = 30


def outcome(call) -> tuple:
    """('ok', result) or ('refused', error class name, message, details)."""
    try:
        return ("ok", call())
    except DomainError as error:
        details = {k: getattr(error, k) for k in ("existing_id", "current", "expected", "field") if hasattr(error, k)}
        return ("refused", type(error).__name__, str(error), details)
    except Exception as error:  # reported, so the test shows what broke instead of hanging
        return ("crashed", type(error).__name__, f"{error}\n{traceback.format_exc()}", {})


# -- the commands ----------------------------------------------------------------


def record_interventions(konvergen, household_id: str, count: int, tag: str) -> list[tuple]:
    return [
        outcome(lambda n=n: konvergen.households.plan_intervention(
            ACTOR, household_id, programme="pkh", agency="dinsos", planned_on=date(2026, 11, 1),
            value_idr=100_000 + n, intervention_id=f"{tag}-{n}",
        )["version"])
        for n in range(count)
    ]


def deliver(konvergen, household_id: str, intervention_id: str, tag: str) -> list[tuple]:
    return [outcome(lambda: konvergen.households.deliver_intervention(
        ACTOR, household_id, intervention_id, delivered_on=date(2026, 11, 20), notes=tag,
    )["version"])]


def plan_at_version(konvergen, household_id: str, expected_version: int, tag: str) -> list[tuple]:
    return [outcome(lambda: konvergen.households.plan_intervention(
        ACTOR, household_id, expected_version=expected_version, programme="pkh", agency="dinsos",
        planned_on=date(2026, 11, 1), intervention_id=tag,
    )["version"])]


def register_kk(konvergen, kk_number: str, tag: str) -> list[tuple]:
    return [outcome(lambda: konvergen.households.register_household(
        ACTOR, kk_number=kk_number,
        head={"nik": "3204051203800001", "name": f"Kepala {tag}", "sex": "L", "birth_date": date(1980, 3, 12)},
        address={"street": "Jl. Raya", "rt": "1", "rw": "1", "village_code": "32.04.05.2001"},
    )["id"])]


COMMANDS = {f.__name__: f for f in (record_interventions, deliver, plan_at_version, register_kk)}


def open_konvergen(url: str):
    from service.container import Konvergen

    return Konvergen(url, clock=FixedClock(NOW))


# -- threads ---------------------------------------------------------------------


def run_in_threads(konvergen, command: str, args_per_worker: list[tuple]) -> list[list[tuple]]:
    """One thread per argument tuple, all on one shared Konvergen (one web process)."""
    barrier = threading.Barrier(len(args_per_worker))

    def work(args):
        barrier.wait(BARRIER_TIMEOUT)
        return COMMANDS[command](konvergen, *args)

    with ThreadPoolExecutor(max_workers=len(args_per_worker)) as pool:
        return list(pool.map(work, args_per_worker))


# -- processes -------------------------------------------------------------------

_barrier = None


def _process_init(barrier) -> None:
    """Runs once per spawned process: keeps the barrier, pays the imports up front."""
    global _barrier
    _barrier = barrier
    import service.container  # noqa: F401


def _process_task(url: str, command: str, args: tuple) -> list[tuple]:
    try:
        konvergen = open_konvergen(url)
    except Exception as error:
        _barrier.abort()
        return [("crashed", type(error).__name__, traceback.format_exc(), {})]
    try:
        _barrier.wait(BARRIER_TIMEOUT)
        return COMMANDS[command](konvergen, *args)
    except Exception as error:
        return [("crashed", type(error).__name__, traceback.format_exc(), {})]
    finally:
        konvergen.close()


class ProcessWorkers:
    """A fixed set of spawned processes; each task opens its own Konvergen(url).

    With as many tasks as processes and every task blocking on the shared barrier until
    all have arrived, each process takes exactly one task per batch.
    """

    def __init__(self, count: int):
        context = multiprocessing.get_context("spawn")
        self.count = count
        self.barrier = context.Barrier(count)
        self.pool = ProcessPoolExecutor(
            max_workers=count, mp_context=context, initializer=_process_init, initargs=(self.barrier,)
        )

    def run(self, url: str, command: str, args_per_worker: list[tuple]) -> list[list[tuple]]:
        assert len(args_per_worker) == self.count, "one task per process, or the barrier never opens"
        futures = [self.pool.submit(_process_task, url, command, args) for args in args_per_worker]
        try:
            return [future.result(timeout=BARRIER_TIMEOUT + 30) for future in futures]
        finally:
            if self.barrier.broken:
                self.barrier.reset()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
