"""Streaming table writers: CSV (UTF-8 with BOM, so Excel shows Indonesian names
right) and XLSX (openpyxl's write-only mode, so memory stays flat)."""

from __future__ import annotations

import csv
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Protocol

from openpyxl import Workbook

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMATS = tuple(MEDIA_TYPES)


def attachment(filename: str) -> dict[str, str]:
    """The header that makes a browser save a download as ``filename``."""
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


class TableFormatError(ValueError):
    """The output path or format cannot be written."""


class TableWriter(Protocol):
    def write(self, row: list) -> None: ...


def format_of(path: str | Path, fmt: str | None = None) -> str:
    fmt = (fmt or Path(path).suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise TableFormatError(f"{path}: write .csv or .xlsx (not {fmt or 'a file without a suffix'})")
    return fmt


def check_table_path(path: str | Path, fmt: str | None = None) -> str:
    """The format to write, once it is clear the file can be written there; checked
    before any work is done, so a typo in a path does not waste an hour's import."""
    fmt = format_of(path, fmt)
    if not Path(path).parent.is_dir():
        raise TableFormatError(f"{path}: folder {Path(path).parent} does not exist")
    return fmt


class _CsvWriter:
    def __init__(self, stream):
        self._writer = csv.writer(stream)

    def write(self, row: list) -> None:
        self._writer.writerow(["" if value is None else value for value in row])


class _XlsxWriter:
    def __init__(self, sheet):
        self._sheet = sheet

    def write(self, row: list) -> None:
        self._sheet.append(row)


@contextmanager
def open_table(path: str | Path, headers: list[str], *, fmt: str | None = None,
               sheet_title: str = "Data") -> Iterator[TableWriter]:
    """Writes a header row, then whatever rows the caller writes; dates stay dates."""
    path = Path(path)
    fmt = check_table_path(path, fmt)
    if fmt == "csv":
        with open(path, "w", encoding="utf-8-sig", newline="") as stream:
            writer = _CsvWriter(stream)
            writer.write(headers)
            yield writer
        return
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    writer = _XlsxWriter(sheet)
    writer.write(headers)
    yield writer
    workbook.save(path)
