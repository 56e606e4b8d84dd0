"""Hand-made spreadsheets for the import tests: real-world mess, built in tmp_path.

People are described as dicts keyed by the file's own headers; ``person`` fills in a
valid Kabupaten Bandung resident (Cileunyi Kulon, 32.04.05.2001) for what a test
does not care about.
"""

from __future__ import annotations

import csv
import os
import time
from datetime import date
from pathlib import Path

from openpyxl import Workbook

from service.access import Actor
from service.importing import Importer, ImportOptions

CILEUNYI_KULON = "32.04.05.2001"
CILEUNYI_WETAN = "32.04.05.2002"
ADMIN = Actor(username="admin", role="admin", display_name="Admin")

HEADERS = ["No KK", "NIK", "Nama", "Hubungan", "Jenis Kelamin", "Tanggal Lahir", "Alamat", "RT", "RW",
           "Kode Desa", "Desil", "Kategori"]


INTERVENTION_HEADERS = ["No KK", "Program", "Instansi", "Status", "Tanggal Rencana", "Tanggal Realisasi",
                        "Nilai (Rp)", "Keterangan"]


def nik(born: date, sex: str, serial: int = 1, kecamatan: str = "05") -> str:
    """A NIK that the domain accepts: date part with day + 40 for women."""
    day = born.day + (40 if sex == "P" else 0)
    return f"3204{kecamatan}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


def kk(number: int) -> str:
    return f"32040512{number:08d}"


def person(kk_number: str, relationship: str, *, name: str = "Asep", sex: str = "L",
           born: date = date(1980, 5, 17), serial: int = 1, **cells) -> dict:
    row = {
        "No KK": kk_number,
        "NIK": nik(born, sex, serial),
        "Nama": name,
        "Hubungan": relationship,
        "Jenis Kelamin": sex,
        "Tanggal Lahir": born.isoformat(),
        "Alamat": "Jl. Cileunyi No. 5",
        "RT": "003",
        "RW": "007",
        "Kode Desa": CILEUNYI_KULON,
        "Desil": "1",
        "Kategori": "Miskin Ekstrem",
    }
    row.update(cells)
    return row


def family(number: int, *, children: int = 1, **cells) -> list[dict]:
    """A head, his wife and some children on KK ``kk(number)``."""
    kk_number = kk(number)
    rows = [
        person(kk_number, "Kepala Keluarga", name=f"Dadang {number}", serial=number * 10 + 1, **cells),
        person(kk_number, "Istri", name=f"Euis {number}", sex="P", born=date(1983, 2, 9),
               serial=number * 10 + 2, **cells),
    ]
    for child in range(children):
        rows.append(person(kk_number, "Anak", name=f"Rizky {number}.{child}", born=date(2010 + child, 7, 1),
                           serial=number * 10 + 3 + child, **cells))
    return rows


def line(kk_number: str, programme: str = "PKH", agency: str = "Dinas Sosial", status: str = "Direncanakan",
         planned: str = "2026-07-01", delivered: str = "", value: str = "Rp 750.000", notes: str = "") -> dict:
    """One row of an agency's intervention list."""
    return dict(zip(INTERVENTION_HEADERS, [kk_number, programme, agency, status, planned, delivered, value, notes]))


def write_csv(path: Path, rows: list[dict], *, headers: list[str] | None = None, delimiter: str = ",",
              bom: bool = False) -> Path:
    headers = headers or list(rows[0])
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as stream:
        writer = csv.writer(stream, delimiter=delimiter)
        writer.writerow(headers)
        for row in rows:
            writer.writerow([row.get(h, "") for h in headers])
    return path


def write_xlsx(path: Path, rows: list[dict], *, headers: list[str] | None = None,
               title_rows: list[list] = ()) -> Path:
    headers = headers or list(rows[0])
    workbook = Workbook()
    sheet = workbook.active
    for title in title_rows:
        sheet.append(title)
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(h) for h in headers])
    workbook.save(path)
    return path


def run_import(konvergen, path: Path, actor: Actor = ADMIN, batch_size: int = 500, **options):
    return Importer(konvergen, batch_size=batch_size).run(actor, path, ImportOptions(**options))


def household_for(konvergen, number_or_kk, actor: Actor = ADMIN) -> dict:
    kk_number = kk(number_or_kk) if isinstance(number_or_kk, int) else number_or_kk
    return konvergen.households.find_by_kk(actor, kk_number)


def rejected(summary) -> list[tuple[int, str, str]]:
    """(line, column, reason) of the first rejections, in line order."""
    return [(r.line, r.column, r.reason) for r in summary.rejections]


# -- helper processes of a parallel import (spawned: these are found by module name) ----

def _konvergen_whose_second_save(url: str, clock, then):
    from service.importing.parallel import open_konvergen

    konvergen = open_konvergen(url, clock)
    save = konvergen.households.save_aggregates  # what the import saves each batch with
    calls = []

    def save_unless_second(aggregates):
        calls.append(aggregates)
        if len(calls) == 2:
            then()
        return save(aggregates)

    konvergen.households.save_aggregates = save_unless_second
    return konvergen


def _database_went_away():
    raise ConnectionError("database went away")


def konvergen_failing_at_second_save(url: str, clock):
    """A helper's service whose second save fails, as a database that went away would."""
    return _konvergen_whose_second_save(url, clock, _database_went_away)


def konvergen_dying_at_second_save(url: str, clock):
    """A helper's service whose process ends at its second save, without a word."""
    return _konvergen_whose_second_save(url, clock, lambda: os._exit(7))


SLOW_SAVE_SECONDS = 0.01


def konvergen_saving_slowly(url: str, clock):
    """A helper's service that sleeps before each batch it saves, as a busy database
    would make it wait: it is still importing its share when it is told to stop."""
    from service.importing.parallel import open_konvergen

    konvergen = open_konvergen(url, clock)
    save = konvergen.households.save_aggregates

    def save_slowly(aggregates):
        time.sleep(SLOW_SAVE_SECONDS)
        return save(aggregates)

    konvergen.households.save_aggregates = save_slowly
    return konvergen


def konvergen_refused(url: str, clock):
    raise AssertionError("no helper process may be started")
