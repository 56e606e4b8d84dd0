"""Projection benchmark: rebuild speed against the raw notification-log read, and query latency.

Run:  .venv/bin/python bench/projections.py [--households 100000] [--seed 3204] [--keep FILE]

1. Generates households on a temporary SQLite file through the domain (registrations,
   categorisations, interventions planned/delivered/cancelled, follow-ups, members,
   graduations, closures), saved in batches: about seven events per household.
2. (a) Reads and decodes the whole notification log (select_notifications +
   mapper.to_domain_event): the floor any projection has to pay.
   (b) Rebuilds every view from scratch in this process, then (c) as
   `konvergen projections rebuild` does by default, sets of views in one process per
   CPU. Prints the rates and the ratios b/a and c/a (goal >= 0.3x).
3. Latency (median, p95) of the monitoring summary, an overdue follow-up list and a
   name search, called as the web UI calls them, plus the same through the JSON API
   with the Flask test client. Goal: each p95 under 50 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain.household import Household  # noqa: E402
from domain.kk_index import KKIndex  # noqa: E402
from projections.read_models import ReadModels  # noqa: E402
from projections.runner import build_engine  # noqa: E402
from service.access import Actor  # noqa: E402
from service.clock import FixedClock  # noqa: E402
from service.container import Konvergen  # noqa: E402

GENERATED_AT = datetime(2026, 6, 1, 3, 0, tzinfo=timezone.utc)
QUERIED_AT = datetime(2026, 7, 15, 3, 0, tzinfo=timezone.utc)  # some follow-ups are overdue by then
MALE = ("Asep", "Ujang", "Dadang", "Cecep", "Deden", "Iwan", "Yayan", "Agus", "Dede", "Jajang", "Endang", "Rahmat")
FEMALE = ("Euis", "Iis", "Cucu", "Neneng", "Imas", "Elis", "Lilis", "Yati", "Nining", "Siti", "Dewi", "Sri")
SURNAMES = ("Suryana", "Sutisna", "Hidayat", "Mulyana", "Permana", "Kusnadi", "Rahayu", "Nurhayati", "Setiawan")
CATEGORIES = (("miskin_ekstrem", 40), ("miskin", 30), ("rentan", 20), ("tidak_miskin", 10))
PROGRAMMES = (
    ("pkh", "dinsos", "pengurangan_beban"),
    ("bpnt", "dinsos", "pengurangan_beban"),
    ("pbi_jk", "dinkes", "pengurangan_beban"),
    ("blt_dd", "pemdes", "pengurangan_beban"),
    ("pip", "disdik", "pengurangan_beban"),
    ("rtlh", "disperkim", "penurunan_kantong_kemiskinan"),
    ("pelatihan_kerja", "disnaker", "peningkatan_pendapatan"),
    ("modal_usaha", "diskopukm", "peningkatan_pendapatan"),
)


def person(rng: random.Random, kecamatan: str, serial: int, relationship: str | None, adult: bool) -> dict:
    sex = rng.choice("LP")
    born = date(rng.randint(1950, 1995), rng.randint(1, 12), rng.randint(1, 28)) if adult else date(
        rng.randint(2005, 2020), rng.randint(1, 12), rng.randint(1, 28)
    )
    day = born.day + (40 if sex == "P" else 0)
    nik = f"3204{kecamatan}{day:02d}{born.month:02d}{born.year % 100:02d}{serial % 10000:04d}"
    first = rng.choice(MALE if sex == "L" else FEMALE)
    record = {"nik": nik, "name": f"{first} {rng.choice(SURNAMES)}", "sex": sex, "birth_date": born}
    if relationship:
        record["relationship"] = relationship
    return record


def household(konvergen: Konvergen, rng: random.Random, index: int, villages: list[str], today: date) -> Household:
    village = rng.choice(villages)
    kecamatan = village.split(".")[2]
    members = [person(rng, kecamatan, index * 7 + n, "anak" if n else "istri", adult=not n) for n in range(rng.randint(0, 4))]
    h = Household.register(
        household_id=UUID(int=rng.getrandbits(128)),
        kk_number=f"32{index:014d}",
        head=person(rng, kecamatan, index * 7 + 6, None, adult=True),
        address={"street": "Jl. Raya", "rt": str(rng.randint(1, 12)), "rw": str(rng.randint(1, 9)), "village_code": village},
        location=None,
        members=members,
        regions=konvergen.regions,
        today=today,
        actor="operator",
    )
    category = rng.choices([c for c, _ in CATEGORIES], [w for _, w in CATEGORIES])[0]
    h.categorise(category=category, desil=rng.randint(1, 4), source="p3ke_dtsen_import",
                 effective_on=today - timedelta(days=rng.randint(30, 200)), reason="P3KE", today=today, actor="admin")
    for n in range(rng.randint(0, 3)):
        programme, agency, strategy = rng.choice(PROGRAMMES)
        iid = f"i{n}"
        h.plan_intervention(intervention_id=iid, programme=programme, agency=agency, strategy=strategy,
                            planned_on=today - timedelta(days=rng.randint(0, 90)), value_idr=rng.randint(1, 90) * 10_000,
                            notes="", programmes=konvergen.programmes, actor=f"officer.{agency}")
        roll = rng.random()
        if roll < 0.7:
            h.deliver_intervention(intervention_id=iid, delivered_on=today, value_idr=None, notes="", today=today, actor=f"officer.{agency}")
        elif roll < 0.8:
            h.cancel_intervention(intervention_id=iid, reason="anggaran dialihkan", actor=f"officer.{agency}")
    for n in range(rng.randint(0, 2)):
        fid = f"f{n}"
        h.schedule_follow_up(follow_up_id=fid, due_on=today + timedelta(days=rng.randint(0, 90)),
                             assigned_to=f"pendamping.{kecamatan}", purpose="Kunjungan rumah", today=today, actor="supervisor")
        if rng.random() < 0.3:
            h.complete_follow_up(follow_up_id=fid, completed_on=today, outcome="ditemui", today=today, actor="pendamping")
    if category == "miskin_ekstrem" and rng.random() < 0.1:
        h.graduate(effective_on=today - timedelta(days=rng.randint(0, 60)), reason="verifikasi", today=today, actor="admin")
    elif rng.random() < 0.01:
        h.close(reason="moved_away", duplicate_of=None, effective_on=today, note="", today=today, actor="admin")
    return h


def generate(konvergen: Konvergen, households: int, seed: int, batch: int = 500) -> int:
    rng = random.Random(seed)
    villages = sorted(v.code for v in konvergen.regions.villages())
    today = konvergen.clock.today()
    pending: list = []
    for index in range(households):
        h = household(konvergen, rng, index, villages, today)
        pending += [h, KKIndex.reserve(kk_number=h.kk_number, household_id=h.id, actor="operator")]
        if len(pending) >= 2 * batch:
            konvergen.households.save(*pending)
            pending = []
    if pending:
        konvergen.households.save(*pending)
    return konvergen.households.recorder.max_notification_id() or 0


def raw_read(konvergen: Konvergen, batch: int = 5000) -> tuple[int, float]:
    """Every notification read and decoded into a domain event, nothing else."""
    recorder, mapper = konvergen.households.recorder, konvergen.households.mapper
    position, count = 0, 0
    started = time.perf_counter()
    while True:
        notifications = recorder.select_notifications(start=position + 1, limit=batch)
        if not notifications:
            break
        for notification in notifications:
            mapper.to_domain_event(notification)
        count += len(notifications)
        position = notifications[-1].id
    return count, time.perf_counter() - started


def timed(call) -> tuple:
    """(result, wall seconds, process CPU seconds) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def latency(call, repeat: int) -> tuple[float, float]:
    call()  # warm the caches once
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[max(0, int(round(0.95 * len(timings))) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=3204)
    parser.add_argument("--repeat", type=int, default=200, help="calls per latency figure")
    parser.add_argument("--workers", type=int, help="processes for the parallel rebuild (default: one per CPU)")
    parser.add_argument("--keep", type=Path, help="use (and keep) this SQLite file instead of a temporary one")
    args = parser.parse_args()

    folder = tempfile.TemporaryDirectory(prefix="konvergen-bench-")
    path = args.keep or Path(folder.name) / "bench.db"
    clock = FixedClock(GENERATED_AT)
    konvergen = Konvergen(f"sqlite:///{path}", clock=clock)
    started = time.perf_counter()
    head = konvergen.households.recorder.max_notification_id() or 0
    if not head:
        head = generate(konvergen, args.households, args.seed)
    print(f"log: {head:,} notifications for {args.households:,} households on SQLite "
          f"({time.perf_counter() - started:.1f} s to generate)")

    # Best of two runs each: this machine is shared, and a run can lose seconds to
    # another process's disk or CPU; process CPU time is printed too for that reason.
    raw_runs = [timed(lambda: raw_read(konvergen)) for _ in range(2)]
    (count, _), raw_wall, raw_cpu = min(raw_runs, key=lambda run: run[1])
    raw_rate = count / raw_wall
    print(f"(a) read + decode the notification log: {count:,} in {raw_wall:.2f} s = {raw_rate:,.0f} events/s "
          f"(cpu {raw_cpu:.2f} s)")

    engine = build_engine(konvergen)
    (_, single_wall, single_cpu) = timed(engine.rebuild)
    print(f"(b) rebuild of all {len(engine.projections)} views in one process: {head:,} in {single_wall:.2f} s = "
          f"{head / single_wall:,.0f} events/s (cpu {single_cpu:.2f} s): {head / single_wall / raw_rate:.2f}x")

    # What `konvergen projections rebuild` does by default: sets of views replayed side
    # by side, one process per CPU (process CPU time here is the parent's only).
    workers = args.workers or os.cpu_count() or 1
    rebuild_runs = [timed(lambda: engine.rebuild(workers=workers)) for _ in range(2)]
    _, rebuild_wall, _ = min(rebuild_runs, key=lambda run: run[1])
    rebuild_rate = head / rebuild_wall
    print(f"(c) rebuild of all views, {workers} processes (the CLI's default here): {head:,} in {rebuild_wall:.2f} s = "
          f"{rebuild_rate:,.0f} events/s (runs {', '.join(f'{r[1]:.1f} s' for r in rebuild_runs)})")
    print(f"rebuild / raw read: {rebuild_rate / raw_rate:.2f}x wall clock with {workers} processes, "
          f"{head / single_wall / raw_rate:.2f}x in one process, {raw_cpu / single_cpu:.2f}x cpu time (goal >= 0.30x)")

    clock.move_to(QUERIED_AT)
    views = ReadModels(konvergen)
    admin = Actor("admin", "admin")
    kecamatan = "32.04.05"
    supervisor = Actor("supervisor.cileunyi", "supervisor", kecamatan=kecamatan)
    prefixes = iter([name.lower() for name in MALE + FEMALE] * (args.repeat + 1))
    overdue_total = len(views.follow_ups(admin, status="overdue", limit=200)["items"])
    print(f"latency over {args.repeat} calls each ({overdue_total} overdue follow-ups on the first page):")
    cases = {
        "monitoring summary, whole kabupaten": lambda: views.monitoring_summary(admin),
        "monitoring summary, supervisor's kecamatan": lambda: views.monitoring_summary(supervisor),
        "overdue follow-ups, first page of 50": lambda: views.follow_ups(admin, status="overdue"),
        "overdue follow-ups, supervisor's kecamatan": lambda: views.follow_ups(supervisor, status="overdue"),
        "name search (prefix), first page of 50": lambda: views.households(admin, q=next(prefixes)),
        "name search in one kecamatan": lambda: views.households(supervisor, q=next(prefixes)),
    }
    worst = 0.0
    for label, call in cases.items():
        median, p95 = latency(call, args.repeat)
        worst = max(worst, p95)
        print(f"  {label:<45} median {median:6.2f} ms   p95 {p95:6.2f} ms")

    from service.app import create_app

    if not konvergen.users.exists("bench.admin"):  # a --keep file has it from an earlier run
        konvergen.users.create_user(username="bench.admin", password="bench-password-1", role="admin")
    token = konvergen.users.issue_token("bench.admin")
    client = create_app(konvergen).test_client()
    headers = {"Authorization": f"Bearer {token}"}
    api_cases = {
        "GET /api/v1/monitoring/summary": "/api/v1/monitoring/summary",
        "GET /api/v1/follow-ups?status=overdue": "/api/v1/follow-ups?status=overdue",
        "GET /api/v1/households?q=asep": "/api/v1/households?q=asep",
    }
    print("through the JSON API (Flask test client, token check included):")
    for label, url in api_cases.items():
        median, p95 = latency(lambda url=url: client.get(url, headers=headers), args.repeat)
        print(f"  {label:<45} median {median:6.2f} ms   p95 {p95:6.2f} ms")
    print(f"worst query p95: {worst:.2f} ms (goal < 50 ms)")
    konvergen.close()
    folder.cleanup()


if __name__ == "__main__":  # the rebuild's processes import this module too
    main()
