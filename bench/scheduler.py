"""Scheduler benchmark: one reminder pass against reading the follow-up view.

Run:  .venv/bin/python bench/scheduler.py [--follow-ups 100000] [--due 10000] [--database-url URL]

1. Generates households with four open follow-ups each (through the domain, saved in
   batches) on a temporary SQLite file (or the given database), of which ``--due``
   are due tomorrow and the rest later, and builds the projections' follow-up view.
2. Baseline: reads every open follow-up from the view (all ``--follow-ups`` rows),
   and the rows a pass actually asks for (due by tomorrow).
3. One reminder pass (decide, write the outbox, record each reminder on its
   household), then one delivery round (in-app). Prints seconds and the ratios
   pass / read-all and pass / read-due, like ``0.42x``.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from argon2 import PasswordHasher  # noqa: E402

import service.users  # noqa: E402
from domain.household import Household  # noqa: E402
from domain.kk_index import KKIndex  # noqa: E402
from projections.runner import build_engine  # noqa: E402
from service.clock import WIB, FixedClock  # noqa: E402
from service.container import Konvergen  # noqa: E402
from service.scheduler import Scheduler, SchedulerConfig  # noqa: E402
from service.scheduler.sources import ProjectionFollowUps  # noqa: E402

GENERATED_AT = datetime(2026, 11, 1, 0, 0, tzinfo=timezone.utc)
PASS_AT = datetime(2026, 11, 28, 0, 0, tzinfo=timezone.utc)  # 07:00 WIB
PER_HOUSEHOLD = 4
BATCH = 500


def generate(konvergen: Konvergen, follow_ups: int, due: int, seed: int) -> int:
    """Households with PER_HOUSEHOLD follow-ups each; ``due`` of them due tomorrow."""
    rng = random.Random(seed)
    kecamatan = sorted(k.code for k in konvergen.regions.kecamatan())
    villages = {k: sorted(v.code for v in konvergen.regions.villages(k)) for k in kecamatan}
    today = GENERATED_AT.astimezone(WIB).date()
    tomorrow = PASS_AT.astimezone(WIB).date() + timedelta(days=1)
    due_slots = set(rng.sample(range(follow_ups), due))
    app = konvergen.households
    pending: list = []
    households = (follow_ups + PER_HOUSEHOLD - 1) // PER_HOUSEHOLD
    for index in range(households):
        code = kecamatan[index % len(kecamatan)]
        born = date(rng.randint(1950, 1995), rng.randint(1, 12), rng.randint(1, 28))
        household = Household.register(
            household_id=UUID(int=rng.getrandbits(128)),
            kk_number=f"32{index:014d}",
            head={"nik": f"3204{code.split('.')[2]}{born:%d%m%y}{index % 10000:04d}", "name": "Kepala Keluarga",
                  "sex": "L", "birth_date": born},
            address={"street": "Jl. Raya", "rt": "1", "rw": "2", "village_code": rng.choice(villages[code])},
            location=None,
            regions=konvergen.regions,
            today=today,
            actor="bench",
        )
        for n in range(PER_HOUSEHOLD):
            slot = index * PER_HOUSEHOLD + n
            if slot >= follow_ups:
                break
            due_on = tomorrow if slot in due_slots else tomorrow + timedelta(days=rng.randint(2, 90))
            household.schedule_follow_up(
                follow_up_id=f"f{slot:07d}", due_on=due_on, assigned_to=f"pendamping.{code}", purpose="Kunjungan rutin",
                today=today, actor="bench",
            )
        pending += [household, KKIndex.reserve(kk_number=household.kk_number, household_id=household.id, actor="bench")]
        if len(pending) >= BATCH:
            app.save(*pending)
            pending = []
    if pending:
        app.save(*pending)
    return households


def people(konvergen: Konvergen) -> None:
    """A case worker and a supervisor per kecamatan (cheap hashes: nobody logs in)."""
    service.users._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    for kecamatan in konvergen.regions.kecamatan():
        village = konvergen.regions.villages(kecamatan.code)[0].code
        konvergen.users.create_user(username=f"pendamping.{kecamatan.code}", password="bench-password",
                                    role="case_worker", villages=[village])
        konvergen.users.create_user(username=f"kasi.{kecamatan.code}", password="bench-password",
                                    role="supervisor", kecamatan=kecamatan.code)


def timed(work):
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--follow-ups", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=None, help="how many are due (default: a tenth)")
    parser.add_argument("--seed", type=int, default=3204)
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    args = parser.parse_args()
    due = args.due if args.due is not None else args.follow_ups // 10
    if not 0 < due <= args.follow_ups:
        parser.error("--due must be between 1 and --follow-ups")

    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite:///{Path(scratch) / 'bench.db'}"
        clock = FixedClock(GENERATED_AT)
        konvergen = Konvergen(url, clock=clock)
        try:
            people(konvergen)
            seconds, households = timed(lambda: generate(konvergen, args.follow_ups, due, args.seed))
            print(f"generated {households:,} households with {args.follow_ups:,} open follow-ups in {seconds:.1f} s")
            view = build_engine(konvergen)
            seconds, _ = timed(lambda: (view.prepare(), view.catch_up()))
            print(f"built the projections (the follow-up view among them) in {seconds:.1f} s")

            clock.move_to(PASS_AT)
            today = clock.today()
            source = ProjectionFollowUps(konvergen)
            read_all, rows = timed(lambda: list(source.open_follow_ups(date.max)))
            read_due, due_rows = timed(lambda: list(source.open_follow_ups(today + timedelta(days=1))))
            assert len(rows) == args.follow_ups and len(due_rows) == due, (len(rows), len(due_rows))

            scheduler = Scheduler(konvergen, SchedulerConfig(), source=source)
            pass_seconds, report = timed(lambda: scheduler.run_reminders(today))
            deliver_seconds, delivered = timed(scheduler.deliver)
            assert report.recorded == due and delivered.sent == due, (report, delivered)
            again_seconds, again = timed(lambda: scheduler.run_reminders(today))
            assert again.enqueued == 0 and again.recorded == 0
        finally:
            konvergen.close()

    print(f"read all {args.follow_ups:,} open follow-ups from the view: {read_all:.3f} s")
    print(f"read the {due:,} due by tomorrow (what a pass reads):    {read_due:.3f} s")
    print(f"reminder pass ({due:,} reminders recorded on their households): {pass_seconds:.2f} s "
          f"({due / pass_seconds:,.0f} reminders/s)")
    print(f"delivery round ({delivered.sent:,} in-app): {deliver_seconds:.2f} s")
    print(f"second pass the same day (everything already sent): {again_seconds:.2f} s")
    print(f"pass / read all:  {pass_seconds / read_all:.2f}x")
    print(f"pass / read due:  {pass_seconds / read_due:.2f}x")


if __name__ == "__main__":
    main()
