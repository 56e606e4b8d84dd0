"""Command benchmark: the event-sourced service layer against a plain SQLAlchemy CRUD baseline.

Run:  .venv/bin/python bench/commands.py [--commands 400] [--rounds 4] [--loads 200]

Both sides write to their own temporary SQLite file with the same durability: the
event store's connection is asked for its journal_mode and synchronous setting (the
eventsourcing SQLite module turns WAL on and leaves synchronous at SQLite's default)
and the baseline's engine sets exactly those on every connection.

1. register: through ``Konvergen(sqlite url).households.register_household`` (checks,
   Household + KK index saved in one transaction) against inserting a household row
   and its person rows and committing.
2. record intervention: through ``plan_intervention`` (load, access check, command,
   save) against loading the household row, inserting an intervention row, updating
   the household row's version and last activity (guarded by the loaded version, as
   the event store's key guards it) and committing.
   The two sides run in alternating rounds so a busy machine slows both alike; each
   ratio is service commands/s divided by baseline commands/s (goal >= 1.0). Both
   sides wait for the disk on every commit (synchronous FULL), which makes wall-clock
   rates noisy on a shared machine, so the CPU time per command is printed as well
   (its ratio is baseline CPU / service CPU: above 1.0 the service does less work).
3. household load for 10, 100, 1,000 and 1,049 events (1,049: a snapshot at 1,000 and
   the most events a load ever replays after one), median of ``--loads`` loads, and
   the ratio to 10 events (goal <= 2.0 for 1,000). Twice:
   - with events that keep the state the same size (address corrections and
     reschedulings): isolates what the number of events costs, which snapshots bound;
   - with the usual mix (interventions, deliveries, categorisations, follow-ups), whose
     state grows with the events, loaded four ways: cold (the first load in a
     process: latest snapshot plus later events); as a command gets it (the cached
     household, fast-forwarded from the store, under its lock); as other callers of
     the repository get it (the same, then copied); and through the read use case
     ``get_household`` (cache, no copy, plain data out).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path
from uuid import UUID, uuid4

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import (  # noqa: E402
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    insert,
    select,
    update,
)

from service.access import Actor  # noqa: E402
from service.clock import FixedClock  # noqa: E402
from service.container import Konvergen  # noqa: E402

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=timezone.utc)
ADMIN = Actor(username="admin", role="admin")
VILLAGES = ("32.04.05.2001", "32.04.05.2002", "32.04.06.1001", "32.04.06.2003")
SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


# -- the same commands for both sides -------------------------------------------------


def registration(n: int) -> dict:
    """A household of three: head, wife, child; distinct KK and NIKs per n."""
    return {
        "kk_number": f"320405{n:010d}",
        "head": {"nik": f"320405120380{n % 10000:04d}", "name": f"Kepala {n}", "sex": "L", "birth_date": date(1980, 3, 12)},
        "members": [
            {"nik": f"320405550685{n % 10000:04d}", "name": f"Istri {n}", "sex": "P", "birth_date": date(1985, 6, 15), "relationship": "istri"},
            {"nik": f"320405010710{n % 10000:04d}", "name": f"Anak {n}", "sex": "L", "birth_date": date(2010, 7, 1), "relationship": "anak"},
        ],
        "address": {"street": f"Jl. Raya {n}", "rt": str(1 + n % 20), "rw": str(1 + n % 9), "village_code": VILLAGES[n % len(VILLAGES)]},
        "location": {"lat": -6.9 - (n % 100) / 1000, "lon": 107.7 + (n % 100) / 1000},
    }


def intervention(n: int) -> dict:
    return {"programme": "pkh", "agency": "dinsos", "strategy": "pengurangan_beban",
            "planned_on": date(2026, 11, 1), "value_idr": 750_000 + n, "notes": f"tahap {n % 4 + 1}"}


# -- the service side ------------------------------------------------------------------


class Service:
    def __init__(self, path: Path):
        self.konvergen = Konvergen(f"sqlite:///{path}", clock=FixedClock(NOW))
        self.households = self.konvergen.households
        self.ids: list[str] = []

    def durability(self) -> tuple[str, int]:
        """The event store's own journal_mode and synchronous, read from its connection."""
        with self.households.recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute("PRAGMA journal_mode")
            journal_mode = cursor.fetchone()[0]
            cursor.execute("PRAGMA synchronous")
            synchronous = cursor.fetchone()[0]
        return journal_mode, synchronous

    def register(self, n: int) -> None:
        self.ids.append(self.households.register_household(ADMIN, **registration(n))["id"])

    def record_intervention(self, n: int) -> None:
        self.households.plan_intervention(ADMIN, self.ids[n % len(self.ids)], **intervention(n))

    def close(self) -> None:
        self.konvergen.close()


# -- the CRUD baseline -------------------------------------------------------------------

metadata = MetaData()
households_table = Table(
    "households", metadata,
    Column("id", String(36), primary_key=True),
    Column("kk_number", String(16), nullable=False, unique=True),
    Column("street", Text), Column("rt", String(3)), Column("rw", String(3)),
    Column("village_code", String(20), nullable=False, index=True),
    Column("lat", String(20)), Column("lon", String(20)),
    Column("status", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Column("registered_by", String(64), nullable=False),
    Column("last_activity_at", DateTime(timezone=True), nullable=False),
)
persons_table = Table(
    "persons", metadata,
    Column("id", Integer, primary_key=True),
    Column("household_id", String(36), ForeignKey("households.id"), nullable=False, index=True),
    Column("nik", String(16), nullable=False),
    Column("name", Text, nullable=False), Column("sex", String(1), nullable=False),
    Column("birth_date", Date, nullable=False), Column("relationship", String(20), nullable=False),
)
interventions_table = Table(
    "interventions", metadata,
    Column("id", String(32), primary_key=True),
    Column("household_id", String(36), ForeignKey("households.id"), nullable=False, index=True),
    Column("programme", String(40), nullable=False), Column("agency", String(40), nullable=False),
    Column("strategy", String(40), nullable=False), Column("planned_on", Date, nullable=False),
    Column("value_idr", Integer), Column("notes", Text), Column("status", String(20), nullable=False),
    Column("recorded_by", String(64), nullable=False),
)


class Crud:
    """Ordinary tables through SQLAlchemy Core: the fastest plain SQLAlchemy path."""

    def __init__(self, path: Path, journal_mode: str, synchronous: int):
        self.engine = create_engine(f"sqlite+pysqlite:///{path}")

        @event.listens_for(self.engine, "connect")
        def _same_durability(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA journal_mode={journal_mode}")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.close()

        metadata.create_all(self.engine)
        self.ids: list[str] = []

    def durability(self) -> tuple[str, int]:
        with self.engine.connect() as connection:
            journal_mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
            synchronous = connection.exec_driver_sql("PRAGMA synchronous").scalar()
        return journal_mode, synchronous

    def register(self, n: int) -> None:
        command = registration(n)
        household_id = str(uuid4())
        address, location = command["address"], command["location"]
        with self.engine.begin() as connection:
            connection.execute(insert(households_table).values(
                id=household_id, kk_number=command["kk_number"], street=address["street"],
                rt=address["rt"].zfill(3), rw=address["rw"].zfill(3), village_code=address["village_code"],
                lat=str(location["lat"]), lon=str(location["lon"]), status="active", version=1,
                registered_by=ADMIN.username, last_activity_at=NOW,
            ))
            people = [dict(command["head"], relationship="kepala_keluarga"), *command["members"]]
            connection.execute(insert(persons_table), [dict(p, household_id=household_id) for p in people])
        self.ids.append(household_id)

    def record_intervention(self, n: int) -> None:
        household_id = self.ids[n % len(self.ids)]
        with self.engine.begin() as connection:
            household = connection.execute(
                select(households_table).where(households_table.c.id == household_id)
            ).one()
            connection.execute(insert(interventions_table).values(
                id=uuid4().hex, household_id=household_id, status="planned", recorded_by=ADMIN.username,
                **intervention(n),
            ))
            changed = connection.execute(
                update(households_table)
                .where(households_table.c.id == household_id, households_table.c.version == household.version)
                .values(version=household.version + 1, last_activity_at=NOW)
            )
            assert changed.rowcount == 1

    def close(self) -> None:
        self.engine.dispose()


# -- measuring -----------------------------------------------------------------------------


def rate(sides: dict, command: str, count: int, rounds: int) -> tuple[dict[str, float], dict[str, float]]:
    """Commands per second per side (wall clock), and CPU milliseconds per command,
    over alternating rounds of ``count // rounds`` commands each."""
    per_round = max(1, count // rounds)
    elapsed = {name: 0.0 for name in sides}
    cpu = {name: 0.0 for name in sides}
    done = {name: 0 for name in sides}
    names = list(sides)
    for round_ in range(rounds):
        for name in names if round_ % 2 == 0 else reversed(names):
            run = getattr(sides[name], command)
            start_n = done[name]
            started, cpu_started = time.perf_counter(), time.process_time()
            for n in range(start_n, start_n + per_round):
                run(n)
            elapsed[name] += time.perf_counter() - started
            cpu[name] += time.process_time() - cpu_started
            done[name] += per_round
    return ({name: done[name] / elapsed[name] for name in sides},
            {name: cpu[name] / done[name] * 1000 for name in sides})


def steady_household(service: Service, events: int) -> UUID:
    """A household with exactly ``events`` events that keep its state the same size
    (address corrections and reschedulings back and forth): what snapshots bound."""
    households = service.households
    hid = households.register_household(ADMIN, **dict(registration(800_000 + events), address={
        "street": "Jl. Tetap", "rt": "3", "rw": "1", "village_code": VILLAGES[0]}))["id"]
    fid = households.schedule_follow_up(ADMIN, hid, due_on=date(2026, 12, 1), assigned_to="admin", purpose="visit")["follow_up_id"]
    version, n, rt, due = 2, 0, "1", 1
    while version < events:
        if n % 2:
            rt = "2" if rt == "1" else "1"
            version = households.correct_identification(ADMIN, hid, address={"rt": rt}, reason=f"check {n}")["version"]
        else:
            due = 2 if due == 1 else 1
            version = households.reschedule_follow_up(ADMIN, hid, fid, due_on=date(2026, 12, due), reason=f"away {n}")["version"]
        n += 1
    assert version == events
    return UUID(hid)


def grow_household(service: Service, events: int) -> UUID:
    """A household with exactly ``events`` events of the usual kinds (state grows with them)."""
    households = service.households
    hid = households.register_household(ADMIN, **registration(900_000 + events))["id"]
    version, n = 1, 0
    while version < events:
        left = events - version
        kind = n % 4
        if kind == 0 and left >= 2:
            version = households.plan_intervention(ADMIN, hid, delivered_on=date(2026, 11, 2), **intervention(n))["version"]
        elif kind == 1:
            version = households.categorise(ADMIN, hid, category="miskin_ekstrem" if n % 3 else "miskin", desil=1 + n % 10,
                                            source="field_verification", effective_on=date(2026, 1 + n % 10, 1), reason=f"visit {n}")["version"]
        elif kind == 2:
            version = households.schedule_follow_up(ADMIN, hid, due_on=date(2026, 12, 1 + n % 28), assigned_to="admin", purpose=f"visit {n}")["version"]
        else:
            version = households.plan_intervention(ADMIN, hid, **intervention(n))["version"]
        n += 1
    assert version == events
    return UUID(hid)


def median_ms(call, repeat: int) -> float:
    call()  # warm
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commands", type=int, default=600, help="commands of each kind per side")
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds per kind")
    parser.add_argument("--loads", type=int, default=200, help="loads per household size")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="konvergen-bench-") as tmp:
        service = Service(Path(tmp) / "service.db")
        service.konvergen.users.create_user(username="admin", password="bench-password", role="admin")
        journal_mode, synchronous = service.durability()
        crud = Crud(Path(tmp) / "crud.db", journal_mode, synchronous)
        assert crud.durability() == (journal_mode, synchronous), "both sides must be equally durable"
        sides = {"service": service, "crud": crud}
        print(f"SQLite {journal_mode=} synchronous={synchronous} ({SYNCHRONOUS.get(synchronous)}) on both sides, "
              f"files in {tmp}; recorder {type(service.households.recorder).__name__}; "
              f"snapshot every {list(service.households.snapshotting_intervals.values())[0]} events")

        for name in sides:  # warm both code paths; not counted
            for n in range(5):
                sides[name].register(1_000_000 + n)
        for label, command in (("register", "register"), ("record intervention", "record_intervention")):
            per_second, cpu_ms = rate(sides, command, args.commands, args.rounds)
            print(f"{label + ':':21s}service {per_second['service']:7.1f}/s   CRUD {per_second['crud']:7.1f}/s   "
                  f"ratio {per_second['service'] / per_second['crud']:.2f}x   "
                  f"(CPU per command: service {cpu_ms['service']:.2f} ms, CRUD {cpu_ms['crud']:.2f} ms, "
                  f"ratio {cpu_ms['crud'] / cpu_ms['service']:.2f}x)")

        households = service.households
        cache = households.repository.cache

        def cold(hid):
            cache.get(hid, evict=True)  # as the first load in a freshly started process
            return households.repository.get(hid)

        def show(label: str, by_size: dict) -> None:
            print(f"  {label:36s}" + ", ".join(f"{size:>4} {ms:5.2f} ms" for size, ms in by_size.items())
                  + f";  1000/10 = {by_size[1000] / by_size[10]:.2f}x, 1049/10 = {by_size[1049] / by_size[10]:.2f}x")

        sizes = (10, 100, 1000, 1049)  # 1049: the most events a load replays after a snapshot
        steady = {size: steady_household(service, size) for size in sizes}
        print("household load, events that keep the state the same size (what snapshotting bounds):")
        show("cold (snapshot + later events)", {s: median_ms(lambda h=steady[s]: cold(h), args.loads) for s in sizes})
        growing = {size: grow_household(service, size) for size in sizes}
        print("household load, the usual mix (at 1,000 events: 400 interventions, 200 categorisations, 200 follow-ups):")
        show("cold (snapshot + later events)", {s: median_ms(lambda h=growing[s]: cold(h), args.loads) for s in sizes})
        show("command (cache, fast-forwarded)", {s: median_ms(lambda h=growing[s]: households._load_readable(ADMIN, h, private=False), args.loads) for s in sizes})
        show("private copy (repository.get)", {s: median_ms(lambda h=growing[s]: households.repository.get(h), args.loads) for s in sizes})
        show("read use case (get_household)", {s: median_ms(lambda h=growing[s]: households.get_household(ADMIN, h), args.loads) for s in sizes})
        service.close()
        crud.close()


if __name__ == "__main__":
    main()
