"""Reading a CSV or XLSX file as numbered rows of cells, streaming.

Line numbers are the row numbers a spreadsheet shows (the header is usually line 1),
so a rejection report points where the administrator will look.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from datetime import date, timezone
from pathlib import Path
from typing import Iterator

from openpyxl import load_workbook

from service.clock import WIB
from service.importing.errors import ImportFileError

CSV_SUFFIXES = (".csv", ".txt")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
DELIMITERS = (",", ";", "\t")


@dataclass(frozen=True)
class FileInfo:
    path: Path
    name: str
    kind: str  # "csv" or "xlsx"
    sha256: str
    size: int
    saved_on: date | None  # an XLSX workbook's own "modified" date, when it has one


def file_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in XLSX_SUFFIXES:
        return "xlsx"
    if suffix == ".xls":
        raise ImportFileError(f"{path.name}: .xls is the old Excel format; save it as .xlsx or CSV UTF-8")
    raise ImportFileError(f"{path.name}: unknown file type {suffix or '(none)'}; use .csv or .xlsx")


def inspect(path: str | Path) -> FileInfo:
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file")
    kind = file_kind(path)
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    saved_on = _workbook_saved_on(path) if kind == "xlsx" else None
    return FileInfo(path, path.name, kind, digest.hexdigest(), path.stat().st_size, saved_on)


def _workbook_saved_on(path: Path) -> date | None:
    workbook = _open_workbook(path)
    try:
        modified = workbook.properties.modified
    finally:
        workbook.close()
    if modified is None:
        return None
    if modified.tzinfo is None:  # the core properties are written in UTC
        modified = modified.replace(tzinfo=timezone.utc)
    return modified.astimezone(WIB).date()


def _open_workbook(path: Path):
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # zipfile.BadZipFile, KeyError, InvalidFileException...
        raise ImportFileError(f"{path.name}: not a readable .xlsx workbook ({error})") from None


def read_rows(info: FileInfo) -> Iterator[tuple[int, list]]:
    """Every row as (line number, cells); empty rows are skipped, numbers still count."""
    if info.kind == "csv":
        yield from _csv_rows(info.path)
    else:
        yield from _xlsx_rows(info.path)


def _csv_rows(path: Path) -> Iterator[tuple[int, list]]:
    with open(path, encoding="utf-8-sig", newline="") as stream:
        try:
            first = stream.readline()
            delimiter = detect_delimiter(first)
            stream.seek(0)
            reader = csv.reader(stream, delimiter=delimiter)
            line = 0
            for cells in reader:
                line += 1
                if any(cell.strip() for cell in cells):
                    yield line, cells
        except UnicodeDecodeError:
            raise ImportFileError(
                f"line {line + 1}: the file is not UTF-8 text; save it as 'CSV UTF-8'"
            ) from None
        except csv.Error as error:
            raise ImportFileError(f"line {line + 1}: {error}") from None


def detect_delimiter(header_line: str) -> str:
    """Comma or semicolon (Excel in an Indonesian locale writes ';'), or tab."""
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list]]:
    workbook = _open_workbook(path)
    try:
        sheet = workbook.worksheets[0]
        # Some tools write a wrong "used range"; trusting it would silently drop rows.
        sheet.reset_dimensions()
        for line, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            if any(cell is not None and str(cell).strip() for cell in cells):
                yield line, list(cells)
    finally:
        workbook.close()
