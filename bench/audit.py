"""Audit benchmark: verifying the hash chain against plain sha256, and an as-of report.

Run:  .venv/bin/python bench/audit.py [--events 1000000] [--seed 3204] [--keep FILE] [--no-report]

1. Generates about ``--events`` events on a temporary SQLite file through the domain and
   ``Households.save`` in big batches (ten events a household: registration and its KK
   index entry, categorisations, interventions planned and delivered, a follow-up),
   recorded over ten months, so every event is chained exactly as in production.
2. Verification: ``konvergen audit verify``'s code over the whole store (every content
   hash, link and seal recomputed), in events per second, against two baselines run in
   the same process over the same stored bytes:
   (a) plain sha256 of every event's bytes already in memory (hashlib, one call each);
   (b) reading every event's bytes from the same database and sha256-ing them
   (each baseline the best of three runs). Verification runs once in one process and
   once sharing the log with ``os.cpu_count() - 1`` workers (``--workers``; forked,
   as this process runs no other thread);
   the faster is printed as ratios like ``0.42x`` (goal >= 0.25x against (a)). It runs
   the compiled fast path when the install built it (the output says which).
3. The as-of report: the monitoring summary for a past date on both bases (as recorded
   and as effective), side by side, over every household, in seconds.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from hashlib import sha256
from pathlib import Path
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import eventsourcing.domain  # noqa: E402

from domain.household import Household  # noqa: E402
from domain.kk_index import KKIndex  # noqa: E402
from service.access import SYSTEM_ACTOR  # noqa: E402
from service.audit import audit_for  # noqa: E402
from service.audit.integrity import seal_complete_periods, verify  # noqa: E402
from service.audit.verification import PARALLEL_FROM, _compiled  # noqa: E402
from service.clock import WIB, FixedClock  # noqa: E402
from service.container import Konvergen  # noqa: E402

START = datetime(2026, 1, 5, 1, 0, tzinfo=timezone.utc)
SPAN = timedelta(days=300)
TODAY = datetime(2026, 11, 28, 3, 0, tzinfo=timezone.utc)
AS_OF = "2026-06-30"
EVENTS_PER_HOUSEHOLD = 10
BATCH = 1_000  # households per save: one transaction
PROGRAMMES = (("pkh", "dinsos"), ("bpnt", "dinsos"), ("pbi_jk", "dinkes"), ("rtlh", "disperkim"),
              ("pip", "disdik"), ("pelatihan_kerja", "disnaker"), ("modal_usaha", "diskopukm"))
CATEGORIES = ("miskin_ekstrem", "miskin", "rentan", "tidak_miskin")


class SyntheticTime:
    """The library's clock during generation: recorded times spread over the span."""

    def __init__(self) -> None:
        self.at = START

    def __call__(self) -> datetime:
        return self.at


def household(konvergen: Konvergen, rng: random.Random, index: int, villages: list[str], recorded: date) -> list:
    village = rng.choice(villages)
    kecamatan = village.split(".")[2]
    head = {"nik": f"3204{kecamatan}1203{80 + index % 15:02d}{index % 10000:04d}", "name": f"Kepala {index}",
            "sex": "L", "birth_date": date(1980 + index % 15, 3, 12)}
    h = Household.register(
        household_id=UUID(int=rng.getrandbits(128)), kk_number=f"32{index:014d}", head=head,
        address={"street": "Jl. Raya", "rt": "1", "rw": "2", "village_code": village}, location=None,
        regions=konvergen.regions, today=recorded, actor="admin",
    )
    for effective in (recorded - timedelta(days=rng.randint(0, 60)), recorded):
        h.categorise(category=rng.choice(CATEGORIES), desil=rng.randint(1, 10), source="p3ke_dtsen_import",
                     effective_on=effective, reason="P3KE", today=recorded, actor="admin")
    for n in range(3):
        programme, agency = PROGRAMMES[(index + n) % len(PROGRAMMES)]
        item = f"{index}-{n}"
        h.plan_intervention(intervention_id=item, programme=programme, agency=agency,
                            strategy=konvergen.programmes.programmes[programme].strategy,
                            planned_on=recorded, value_idr=300_000, notes="",
                            programmes=konvergen.programmes, actor="admin")
        if n < 2:
            h.deliver_intervention(intervention_id=item, delivered_on=recorded - timedelta(days=rng.randint(0, 20)),
                                   value_idr=None, notes="", today=recorded, actor="admin")
    h.schedule_follow_up(follow_up_id=f"f{index}", due_on=recorded + timedelta(days=30), assigned_to="admin",
                         purpose="kunjungan", today=recorded, actor="admin")
    index_entry = KKIndex.reserve(kk_number=h.kk_number, household_id=h.id, actor="admin")
    return [h, index_entry]


def generate(konvergen: Konvergen, events: int, seed: int) -> int:
    rng = random.Random(seed)
    villages = sorted(r.code for r in konvergen.regions.villages())
    count = max(1, events // EVENTS_PER_HOUSEHOLD)
    clock = SyntheticTime()
    eventsourcing.domain.datetime_now_with_tzinfo = clock
    done = 0
    started = time.perf_counter()
    while done < count:
        size = min(BATCH, count - done)
        clock.at = START + SPAN * (done / count)
        recorded = clock.at.astimezone(WIB).date()
        aggregates = []
        for index in range(done, done + size):
            aggregates += household(konvergen, rng, index, villages, recorded)
        konvergen.households.save(*aggregates)
        done += size
        print(f"\r  generated {done:,} households", end="", flush=True)
    print(f" in {time.perf_counter() - started:.0f} s")
    eventsourcing.domain.datetime_now_with_tzinfo = lambda: TODAY
    return count


def stored_states(db_file: str) -> list[bytes]:
    with sqlite3.connect(db_file) as conn:
        return [row[0] for row in conn.execute("SELECT state FROM stored_events ORDER BY rowid")]


def hash_in_memory(states: list[bytes]) -> float:
    started = time.perf_counter()
    for state in states:
        sha256(state).hexdigest()
    return time.perf_counter() - started


def read_and_hash_once(db_file: str) -> tuple[int, float]:
    started = time.perf_counter()
    with sqlite3.connect(db_file) as conn:
        count = 0
        for (state,) in conn.execute("SELECT state FROM stored_events ORDER BY rowid"):
            sha256(state).hexdigest()
            count += 1
    return count, time.perf_counter() - started


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f} events/s ({seconds:.2f} s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=3204)
    parser.add_argument("--keep", help="keep the generated SQLite file at this path (reused if it exists)")
    parser.add_argument("--no-report", action="store_true", help="measure verification only, not the as-of report")
    args = parser.parse_args()
    directory = tempfile.mkdtemp(prefix="konvergen-bench-audit-")
    db_file = args.keep or f"{directory}/bench.db"
    reuse = Path(db_file).exists()
    konvergen = Konvergen(f"sqlite:///{db_file}", clock=FixedClock(TODAY))
    print(f"SQLite file {db_file}" + (" (reused)" if reuse else ""), flush=True)
    if reuse:
        eventsourcing.domain.datetime_now_with_tzinfo = lambda: TODAY
        households = sum(1 for _ in stored_states(db_file)) // EVENTS_PER_HOUSEHOLD
    else:
        households = generate(konvergen, args.events, args.seed)
    seals = seal_complete_periods(konvergen.households, TODAY)
    print(f"  sealed {len(seals)} days")

    # The baselines are cheap, so each is the best of three: on a shared machine a single
    # slow run would flatter the ratios below.
    states = stored_states(db_file)
    total = len(states)
    in_memory = min(hash_in_memory(states) for _ in range(3))
    del states
    read_count, read_and_hash = min((read_and_hash_once(db_file) for _ in range(3)), key=lambda pair: pair[1])

    started = time.perf_counter()
    result = verify(konvergen.households, TODAY, workers=1)
    one_process = time.perf_counter() - started
    assert result.ok and result.events_checked == total, result.problems[:3]
    started = time.perf_counter()
    result = verify(konvergen.households, TODAY, workers=os.cpu_count() or 1)
    verifying = time.perf_counter() - started
    assert result.ok and result.events_checked == total, result.problems[:3]

    print(f"\nVerification of {total:,} events ({result.households_checked:,} aggregates, {result.seals_checked} seals)")
    print(f"  path: {'compiled (service/audit/_fast_links)' if _compiled else 'pure Python (the fast path is not built)'}")
    print(f"  (a) plain sha256, bytes in memory : {rate(total, in_memory)}")
    print(f"  (b) read from SQLite + sha256     : {rate(read_count, read_and_hash)}")
    print(f"  audit verify, one process         : {rate(total, one_process)}")
    processes = (os.cpu_count() or 1) if total >= PARALLEL_FROM else 1
    print(f"  audit verify, {processes} process{'es' if processes > 1 else ''} (--workers)  : {rate(total, verifying)}")
    best = min(one_process, verifying)
    print(f"  ratio verify / (a): {in_memory / best:.2f}x   (goal >= 0.25x)")
    print(f"  ratio verify / (b): {read_and_hash / best:.2f}x")

    if args.no_report:
        konvergen.close()
        return
    reports = audit_for(konvergen).reports
    started = time.perf_counter()
    comparison = reports.compare(SYSTEM_ACTOR, AS_OF)
    report_seconds = time.perf_counter() - started
    recorded, effective = comparison["recorded"]["totals"], comparison["effective"]["totals"]
    print(f"\nAs-of report for {AS_OF} over {households:,} households, both bases side by side: {report_seconds:.1f} s")
    print(f"  households counted: {recorded['households']:,} as recorded, {effective['households']:,} as effective; "
          f"{len(comparison['differences'])} figures differ")
    konvergen.close()


if __name__ == "__main__":
    main()
