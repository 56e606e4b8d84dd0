"""A temporary SQLite file that sorts the file's rows by KK and collects rejections.

Rows of one family card need not be next to each other in the file (an agency's
spreadsheet is often sorted by name or village), and a file of 500,000 rows must not
be held in memory. So the first pass writes each parsed row here, the second reads
them back ordered by KK, one household at a time. The file lives in a temporary
directory and is deleted with it.

When pass 2 is split across processes (``parallel``), each row is staged under its
share (a stable hash of its KK), so every process reads its own households with one
range scan. Each process keeps its rejections in a file of its own (a reader of the
rows file would block a writer of it), merged into this one at the end.
"""

from __future__ import annotations

import pickle
import sqlite3
import zlib
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


def share_of(kk: str, shares: int) -> int:
    """Which process's share a KK is in: the same on every run, machine and process."""
    return zlib.crc32(kk.encode()) % shares if shares > 1 else 0


class Staging:
    def __init__(self, directory: str | Path, *, shares: int = 1, name: str = "staging.sqlite",
                 rows_from: Path | None = None):
        """``rows_from``: the staging file whose rows this one reads: a share's own
        file, which holds only that process's rejections."""
        self.path = Path(directory) / name
        self.shares = shares
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        if rows_from is None:
            self.rows_table = "rows"
            # Clustered by (share, KK, line): reading a household back is one sequential
            # scan, and files that keep a KK's rows together (most do) insert in order.
            self.db.execute(
                "CREATE TABLE rows (share INTEGER NOT NULL, kk TEXT NOT NULL, line INTEGER NOT NULL, "
                "data BLOB NOT NULL, PRIMARY KEY (share, kk, line)) WITHOUT ROWID"
            )
        else:
            self.db.execute("ATTACH DATABASE ? AS staged", (str(rows_from),))
            self.rows_table = "staged.rows"
        self.db.execute("CREATE TABLE rejections (line INTEGER, col TEXT, value TEXT, reason TEXT)")
        self._rows: list[tuple] = []
        self._rejections: list[tuple] = []

    # -- rows -----------------------------------------------------------------

    def add_row(self, kk: str, line: int, cells: list) -> None:
        """Keeps the row's cells as they came; they are parsed when their KK's turn comes."""
        self._rows.append((share_of(kk, self.shares), kk, line, pickle.dumps(cells, pickle.HIGHEST_PROTOCOL)))
        if len(self._rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        """Writes the rows still held here: processes reading this file (``rows_from``)
        see only what is written."""
        if self._rows:
            self.db.execute("BEGIN")
            self.db.executemany("INSERT INTO rows VALUES (?, ?, ?, ?)", self._rows)
            self.db.execute("COMMIT")
            self._rows.clear()

    def household_count(self) -> int:
        """Every share's."""
        self.flush()
        return self.db.execute("SELECT COUNT(DISTINCT kk) FROM rows").fetchone()[0]

    def groups(self, share: int = 0) -> Iterator[tuple[str, list[tuple[int, list]]]]:
        """(KK, its rows as (line, cells) in file order), KK after KK, streaming."""
        if self.rows_table == "rows":
            self.flush()
        cursor = self.db.execute(
            f"SELECT kk, line, data FROM {self.rows_table} WHERE share = ? ORDER BY kk, line", (share,)
        )
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

    def merge_rejections(self, path: Path) -> None:
        """Appends a share's rejections, in the order found. Lines are never in two
        shares, so ordering by line, then as found, reads as in one process."""
        self._flush_rejections()
        self.db.execute("ATTACH DATABASE ? AS share", (str(path),))
        try:
            self.db.execute("BEGIN")
            self.db.execute("INSERT INTO rejections SELECT line, col, value, reason FROM share.rejections ORDER BY rowid")
            self.db.execute("COMMIT")
        finally:
            self.db.execute("DETACH DATABASE share")

    def rejected_line_count(self) -> int:
        self._flush_rejections()
        return self.db.execute("SELECT COUNT(DISTINCT line) FROM rejections").fetchone()[0]

    def close(self) -> None:
        """Writes what is pending (a share's rejections are merged from its file)."""
        self._flush_rejections()
        self.db.close()
