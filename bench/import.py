"""Import speed: a generated P3KE-like CSV on SQLite against raw batched inserts.

    .venv/bin/python bench/import.py                    # 100,000 households (~350,000 rows)
    .venv/bin/python bench/import.py --households 10000 # quicker

1. Generates a CSV of N households (one row per person, rows of a KK together, mixed
   date formats) into a temporary folder.
2. Imports it with ``konvergen import``'s use case into a fresh SQLite database, as
   the importer chooses (one process per core for a file this large; ``--processes``
   to choose): households per second, and the peak memory of this process before
   and after and of its largest helper process. Then, unless ``--no-one-process``,
   the same in one process into another fresh database, for comparison; that import
   runs in a (spawned) process of its own, so the peak memory it reports is its own
   (this process's high-water mark already holds the first import's).
3. Baselines, in the same run: the very events the import wrote, read back from its
   store, inserted with ``executemany`` in batches into a plain table shaped like
   eventsourcing's ``stored_events``, in a fresh SQLite file with the same journal
   mode; once as stored bytes (insert only) and once encoded again from the domain
   events by the application's mapper (encode + insert). Each is turned into
   households per second, and the import's rate is printed as a ratio of each.
Goal: the import runs at >= 0.2x the raw batched insert rate.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import random
import resource
import sqlite3
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.access import Actor  # noqa: E402
from service.container import Konvergen  # noqa: E402
from service.importing import Importer  # noqa: E402
from service.importing.importer import SAVE_BATCH  # noqa: E402
from service.importing.layouts import HOUSEHOLDS  # noqa: E402

ADMIN = Actor(username="bench.admin", role="admin")
BATCH_EVENTS = 1000
CATEGORY_BY_DESIL = {1: "Miskin Ekstrem", 2: "Miskin", 3: "Miskin", 4: "Rentan"}
CHILD_NAMES = ("Ahmad", "Siti", "Dewi", "Rizky", "Nur", "Asep", "Euis", "Dadang", "Ma'ruf", "Yayah")


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports KiB


def own_peak_rss_mb() -> float:
    """This process's own peak (Linux's VmHWM). A spawned process's ``ru_maxrss``
    starts at its parent's peak (Linux keeps it across fork and exec), so it cannot
    tell a child's own memory below the parent's."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError("no VmHWM in /proc/self/status")


def nik(kecamatan: str, born: date, sex: str, serial: int) -> str:
    day = born.day + (40 if sex == "P" else 0)
    return f"3204{kecamatan}{day:02d}{born.month:02d}{born.year % 100:02d}{serial % 10000:04d}"


def generate(path: Path, households: int, villages: list[str], seed: int = 7) -> int:
    rng = random.Random(seed)
    rows = 0
    with open(path, "w", encoding="utf-8", newline="") as stream:
        out = csv.writer(stream)
        out.writerow(["No KK", "NIK", "Nama", "Hubungan", "Jenis Kelamin", "Tanggal Lahir", "Alamat",
                      "RT", "RW", "Kode Desa", "Desil", "Kategori"])
        for index in range(households):
            village = villages[index % len(villages)]
            kecamatan = village.split(".")[2]
            kk = f"3204{kecamatan}{index:010d}"
            desil = rng.randint(1, 4)
            shared = [f"Kp. Babakan No. {rng.randint(1, 200)}", rng.randint(1, 15), rng.randint(1, 12),
                      village, desil, CATEGORY_BY_DESIL[desil]]
            head_born = date(1950, 1, 1) + timedelta(days=rng.randint(0, 18000))
            people = [("Kepala Keluarga", "L", head_born, f"Bapak {index}")]
            if rng.random() < 0.8:
                people.append(("Istri", "P", head_born + timedelta(days=rng.randint(-2000, 2000)), f"Ibu {index}"))
            for child in range(rng.choice((0, 1, 1, 2, 2, 2, 3, 4))):
                sex = rng.choice("LP")
                born = head_born + timedelta(days=7000 + rng.randint(0, 5000))
                people.append(("Anak", sex, min(born, date(2024, 1, 1)), f"{rng.choice(CHILD_NAMES)} {index}"))
            for serial, (relationship, sex, born, name) in enumerate(people, start=1):
                shown = born.isoformat() if serial % 2 else born.strftime("%d/%m/%Y")
                out.writerow([kk, nik(kecamatan, born, sex, index * 5 + serial), name, relationship, sex,
                              shown, *shared])
                rows += 1
    return rows


def stored_events(database: Path):
    """The import's stored events in notification order, in batches (not timed)."""
    connection = sqlite3.connect(database)
    cursor = connection.execute(
        "SELECT originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid"
    )
    while batch := cursor.fetchmany(BATCH_EVENTS):
        yield batch
    connection.close()


def plain_table(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(
        "CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, topic TEXT, "
        "state BLOB, PRIMARY KEY (originator_id, originator_version))"
    )
    return connection


def baseline_insert_only(source: Path, target: Path) -> tuple[float, int]:
    connection = plain_table(target)
    elapsed, count = 0.0, 0
    for batch in stored_events(source):
        started = time.perf_counter()
        connection.execute("BEGIN")
        connection.executemany("INSERT INTO stored_events VALUES (?, ?, ?, ?)", batch)
        connection.execute("COMMIT")
        elapsed += time.perf_counter() - started
        count += len(batch)
    connection.close()
    return elapsed, count


def baseline_encode_and_insert(konvergen: Konvergen, source: Path, target: Path) -> tuple[float, int]:
    from eventsourcing.persistence import StoredEvent

    mapper = konvergen.households.mapper
    connection = plain_table(target)
    elapsed, count = 0.0, 0
    for batch in stored_events(source):
        events = [mapper.to_domain_event(StoredEvent(*row)) for row in batch]  # not timed
        started = time.perf_counter()
        rows = []
        for event in events:
            stored = mapper.to_stored_event(event)
            rows.append((stored.originator_id.hex, stored.originator_version, stored.topic, stored.state))
        connection.execute("BEGIN")
        connection.executemany("INSERT INTO stored_events VALUES (?, ?, ?, ?)", rows)
        connection.execute("COMMIT")
        elapsed += time.perf_counter() - started
        count += len(batch)
    connection.close()
    return elapsed, count


def timed_import(konvergen: Konvergen, csv_path: Path, args, processes: int | None) -> float:
    """Seconds to import the file; exits when a household was not taken."""
    started = time.perf_counter()
    summary = Importer(konvergen, batch_size=args.batch_size, processes=processes).run(ADMIN, csv_path)
    seconds = time.perf_counter() - started
    if summary.counts["households_created"] != args.households or summary.rows_rejected:
        sys.exit(f"the import did not take every household: {summary.counts}")
    return seconds


def _import_alone(csv_path: Path, database: Path, args, connection) -> None:
    """In a process of its own: the import in one process, and this process's peak
    memory before and after it."""
    alone = Konvergen(f"sqlite:///{database}")
    before = own_peak_rss_mb()
    seconds = timed_import(alone, csv_path, args, 1)
    after = own_peak_rss_mb()
    alone.close()
    connection.send((seconds, before, after))
    connection.close()


def import_in_one_process(csv_path: Path, database: Path, args) -> tuple[float, float, float]:
    """Seconds, and peak MB before and after, of the import in one process, run in a
    spawned process so that its peak memory is not hidden under this one's."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_import_alone, args=(csv_path, database, args, theirs))
    process.start()
    theirs.close()
    try:
        result = ours.recv()
    except EOFError:
        process.join()
        sys.exit(f"the import in one process failed (exit code {process.exitcode})")
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=SAVE_BATCH,
                        help=f"households saved per transaction (default: the importer's, {SAVE_BATCH})")
    parser.add_argument("--processes", type=int, default=None,
                        help="processes sharing pass 2 (default: the importer's choice)")
    parser.add_argument("--no-one-process", action="store_true",
                        help="skip the comparison import in one process")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="konvergen-bench-import-") as directory:
        folder = Path(directory)
        database = folder / "import.db"
        konvergen = Konvergen(f"sqlite:///{database}")
        villages = sorted(v.code for v in konvergen.regions.villages())
        csv_path = folder / "p3ke.csv"
        rows = generate(csv_path, args.households, villages)
        print(f"generated {rows:,} rows for {args.households:,} households "
              f"({csv_path.stat().st_size / 1e6:.1f} MB, layout {HOUSEHOLDS.name})")

        rss_before = peak_rss_mb()
        import_seconds = timed_import(konvergen, csv_path, args, args.processes)
        rss_after, rss_helper = peak_rss_mb(), peak_rss_mb(resource.RUSAGE_CHILDREN)
        import_rate = args.households / import_seconds
        konvergen.close()
        one_seconds = None
        if not args.no_one_process:
            one_seconds, rss_one_before, rss_one_after = import_in_one_process(
                csv_path, folder / "one_process.db", args)

        insert_seconds, events = baseline_insert_only(database, folder / "baseline_insert.db")
        konvergen = Konvergen(f"sqlite:///{database}")
        encode_seconds, _ = baseline_encode_and_insert(konvergen, database, folder / "baseline_encode.db")
        konvergen.close()

    insert_rate = args.households / insert_seconds
    encode_rate = args.households / encode_seconds
    print(f"import:                 {import_seconds:8.1f} s  {import_rate:9,.0f} households/s "
          f"({rows / import_seconds:,.0f} rows/s, {events:,} events)")
    print(f"baseline insert only:   {insert_seconds:8.1f} s  {insert_rate:9,.0f} households/s "
          f"(executemany, {BATCH_EVENTS} events a batch)")
    print(f"baseline encode+insert: {encode_seconds:8.1f} s  {encode_rate:9,.0f} households/s")
    if one_seconds is not None:
        one_rate = args.households / one_seconds
        print(f"import in one process:  {one_seconds:8.1f} s  {one_rate:9,.0f} households/s")
    print(f"peak memory: {rss_before:,.0f} MB before the import, {rss_after:,.0f} MB after "
          f"(+{rss_after - rss_before:,.0f} MB); largest helper process {rss_helper:,.0f} MB")
    if one_seconds is not None:
        print(f"peak memory of the import in one process (a process of its own): {rss_one_before:,.0f} MB "
              f"before, {rss_one_after:,.0f} MB after (+{rss_one_after - rss_one_before:,.0f} MB)")
    print(f"import vs raw batched inserts of its events:          {import_rate / insert_rate:.2f}x  (goal >= 0.20x)")
    print(f"import vs encoding + batched inserts of its events:   {import_rate / encode_rate:.2f}x  (goal >= 0.20x)")
    if one_seconds is not None:
        print(f"one process vs raw batched inserts:                   {one_rate / insert_rate:.2f}x")


if __name__ == "__main__":
    main()
