"""The rejection report: each rejected row's line, column, value and reason."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from service.exporting.tables import open_table
from service.importing.staging import Rejection

REPORT_HEADERS = ["line", "column", "value", "reason"]


def write_report(path: str | Path, rejections: Iterable[Rejection]) -> int:
    """Writes CSV or XLSX by the path's suffix; returns how many entries it wrote."""
    count = 0
    with open_table(path, REPORT_HEADERS, sheet_title="Rejected rows") as table:
        for rejection in rejections:
            table.write([rejection.line, rejection.column, rejection.value, rejection.reason])
            count += 1
    return count
