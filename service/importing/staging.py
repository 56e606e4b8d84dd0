"""A temporary SQLite file that sorts the file's rows by KK and collects rejections.

Rows of one family card need not be next to each other in the file (an agency's
spreadsheet is often sorted by name or village), and a file of 500,000 rows must not
be held in memory. So the first pass writes each parsed row here, the second reads
them back ordered by KK, one household at a time. The file lives in a temporary
directory and is deleted with it.
"""

from __future__ import annotations

import pickle
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

BATCH = 2000


@dataclass(frozen=True)
class Rejection:
    line: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        shown = f" (value {self.value!r})" if self.value else ""
        return f"line {self.line}, {self.column}: {self.reason}{shown}"


class Staging:
    def __init__(self, directory: str | Path):
        self.db = sqlite3.connect(Path(directory) / "staging.sqlite", isolation_level=None)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        # Clustered by (KK, line): reading a household back is one sequential scan, and
        # files that keep a KK's rows together (most do) insert in order.
        self.db.execute(
            "CREATE TABLE rows (kk TEXT NOT NULL, line INTEGER NOT NULL, data BLOB NOT NULL, "
            "PRIMARY KEY (kk, line)) WITHOUT ROWID"
        )
        self.db.execute("CREATE TABLE rejections (line INTEGER, col TEXT, value TEXT, reason TEXT)")
        self._rows: list[tuple] = []
        self._rejections: list[tuple] = []

    # -- rows -----------------------------------------------------------------

    def add_row(self, kk: str, line: int, cells: list) -> None:
        """Keeps the row's cells as they came; they are parsed when their KK's turn comes."""
        self._rows.append((kk, line, pickle.dumps(cells, pickle.HIGHEST_PROTOCOL)))
        if len(self._rows) >= BATCH:
            self._flush_rows()

    def _flush_rows(self) -> None:
        if self._rows:
            self.db.execute("BEGIN")
            self.db.executemany("INSERT INTO rows VALUES (?, ?, ?)", self._rows)
            self.db.execute("COMMIT")
            self._rows.clear()

    def household_count(self) -> int:
        self._flush_rows()
        return self.db.execute("SELECT COUNT(DISTINCT kk) FROM rows").fetchone()[0]

    def groups(self) -> Iterator[tuple[str, list[tuple[int, list]]]]:
        """(KK, its rows as (line, cells) in file order), KK after KK, streaming."""
        self._flush_rows()
        cursor = self.db.execute("SELECT kk, line, data FROM rows ORDER BY kk, line")
        current, rows = None, []
        for kk, line, data in cursor:
            if kk != current and rows:
                yield current, rows
                rows = []
            current = kk
            rows.append((line, pickle.loads(data)))
        if rows:
            yield current, rows

    # -- rejections -------------------------------------------------------------

    def reject(self, line: int, column: str, value: str, reason: str) -> None:
        self._rejections.append((line, column, value, reason))
        if len(self._rejections) >= BATCH:
            self._flush_rejections()

    def _flush_rejections(self) -> None:
        if self._rejections:
            self.db.execute("BEGIN")
            self.db.executemany("INSERT INTO rejections VALUES (?, ?, ?, ?)", self._rejections)
            self.db.execute("COMMIT")
            self._rejections.clear()

    def rejections(self, limit: int | None = None) -> Iterator[Rejection]:
        """Ordered by line, then in the order they were found."""
        self._flush_rejections()
        sql = "SELECT line, col, value, reason FROM rejections ORDER BY line, rowid"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        for line, column, value, reason in self.db.execute(sql):
            yield Rejection(line, column, value, reason)

    def rejected_line_count(self) -> int:
        self._flush_rejections()
        return self.db.execute("SELECT COUNT(DISTINCT line) FROM rejections").fetchone()[0]

    def close(self) -> None:
        self.db.close()
