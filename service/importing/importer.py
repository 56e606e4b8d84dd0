"""The import use case: read, validate, group by KK, write, record, report.

Two passes. The first reads the file once, parses every row and stages it in a
temporary SQLite file (see ``staging``); file-level problems (unreadable file, missing
columns) stop the import here, before anything is written. The second reads the
staged rows back one KK at a time, checks each household against the domain and the
case file, and saves households in batches. Memory holds one batch, not the file.
A large households file on a store other processes can open has its pass 2 split
across one process per core, each taking the KKs of its share (see ``parallel``).

The web UI calls ``preview`` (a dry run that also returns the first rows) and then
``run`` with ``expected_sha256`` so that what is imported is what was previewed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Callable, Mapping
from uuid import uuid4

from service.access import AGENCY_OFFICER, Actor
from service.errors import Forbidden
from service.exporting.tables import check_table_path
from service.importing.context import ImportContext
from service.importing.errors import ImportFileError
from service.importing.layouts import HOUSEHOLDS, LAYOUTS, ColumnMap, Layout, resolve_columns
from service.importing.readers import FileInfo, inspect, read_rows
from service.importing.records import ALREADY_IMPORTED, COMPLETED, COUNTS, FAILED, ImportLog
from service.importing.report import write_report
from service.importing.cells import text
from service.importing.parallel import Helpers, open_konvergen, processes_available
from service.importing.rows import RowParser
from service.importing.shares import ShareJob, fewer_collections, import_share, parser_for
from service.importing.staging import Rejection, Staging

HEADER_SEARCH_ROWS = 20  # title rows above the header ("DATA P3KE KAB. BANDUNG") are skipped
PREVIEW_ROWS = 10
SAMPLE_REJECTIONS = 20
PROGRESS_EVERY = 1000

# Households saved per transaction: each save has a fixed cost (a commit that syncs
# the log). Measured on 20,000 households, quiet machine: 1,000 a batch was no faster
# than 500 and held 10 MB more. Memory stays flat: one batch, whatever the file.
SAVE_BATCH = 500

# stage ("rows" or "households"), how many more are done, total when known
Progress = Callable[[str, int, "int | None"], None]


@dataclass(frozen=True)
class ImportOptions:
    layout: str = HOUSEHOLDS.name
    mapping: Mapping[str, str] | None = None
    file_date: date | None = None
    dry_run: bool = False
    report_path: str | Path | None = None
    expected_sha256: str | None = None


@dataclass
class ImportSummary:
    import_id: str | None
    file_name: str
    sha256: str
    layout: str
    status: str
    dry_run: bool
    file_date: date
    file_date_source: str
    counts: dict
    columns: dict = field(default_factory=dict)
    first_rows: list = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)  # the first few, in line order
    report_path: str | None = None
    previous_import: dict | None = None

    @property
    def rows_rejected(self) -> int:
        return self.counts.get("rows_rejected", 0)

    def as_dict(self) -> dict:
        return {
            "import_id": self.import_id,
            "file_name": self.file_name,
            "sha256": self.sha256,
            "layout": self.layout,
            "status": self.status,
            "dry_run": self.dry_run,
            "file_date": self.file_date,
            "file_date_source": self.file_date_source,
            "counts": dict(self.counts),
            "columns": dict(self.columns),
            "first_rows": list(self.first_rows),
            "rejections": [vars(r) for r in self.rejections],
            "report_path": self.report_path,
            "previous_import": self.previous_import,
        }


# A households file at least this big is imported by one process per core, when the
# store can be opened by other processes (see ``parallel``). A spawned helper needs
# 0.6-1 s to start, hidden behind pass 1 only for large files; measured on 2 cores:
# 5,000 households (2 MB) 1.2 s alone, 1.3 s in two processes; 10,000 (4 MB) 2.4 s
# alone, 1.9 s in two.
PARALLEL_MIN_BYTES = 4_000_000
SHAREABLE_STORES = ("sqlite", "postgresql")


class Importer:
    def __init__(self, konvergen, *, batch_size: int = SAVE_BATCH, processes: int | None = None,
                 open_service: Callable = open_konvergen):
        """``processes``: how many share pass 2 (default: one per core for a large
        households file on a shareable store); ``open_service(url, clock)``: how a
        helper process opens its own service."""
        self.konvergen = konvergen
        self.households = konvergen.households
        self.log = ImportLog(konvergen.sessions)
        self.batch_size = batch_size
        self.processes = processes
        self.open_service = open_service

    # -- the two steps of the web UI --------------------------------------------------

    def preview(self, actor: Actor, path: str | Path, *, layout: str = HOUSEHOLDS.name,
                mapping: Mapping[str, str] | None = None, file_date: date | None = None) -> dict:
        """What importing the file would do, without writing anything: the column
        mapping, the first rows, the counts and the first rejections."""
        options = ImportOptions(layout=layout, mapping=mapping, file_date=file_date, dry_run=True)
        return self.run(actor, path, options).as_dict()

    def confirm(self, actor: Actor, path: str | Path, *, sha256: str, layout: str = HOUSEHOLDS.name,
                mapping: Mapping[str, str] | None = None, file_date: date | None = None,
                progress: Progress | None = None) -> ImportSummary:
        """Imports the previewed file; refuses if it is not the file that was previewed."""
        options = ImportOptions(layout=layout, mapping=mapping, file_date=file_date, expected_sha256=sha256)
        return self.run(actor, path, options, progress)

    def imports(self, limit: int = 50) -> list[dict]:
        """The latest imports, newest first: what an import page lists."""
        return self.log.recent(limit)

    def write_report(self, import_id: str, path: str | Path) -> int:
        """An earlier import's rejection report, as .csv or .xlsx; how many rows it lists."""
        if self.log.get(import_id) is None:
            raise ImportFileError(f"no import {import_id}")
        return write_report(path, self.log.rejections(import_id))

    # -- the import -------------------------------------------------------------------

    def run(self, actor: Actor, path: str | Path, options: ImportOptions = ImportOptions(),
            progress: Progress | None = None) -> ImportSummary:
        """Imports (or, with ``dry_run``, only checks) one file; see the module docstring."""
        progress = progress or (lambda stage, advance, total: None)
        layout = LAYOUTS.get(options.layout)
        if layout is None:
            raise ImportFileError(f"unknown layout {options.layout!r}; use {' or '.join(LAYOUTS)}")
        self._check_may_import(actor, layout)
        if options.report_path:
            check_table_path(options.report_path)
        info = inspect(path)
        if options.expected_sha256 and options.expected_sha256 != info.sha256:
            raise ImportFileError(f"{info.name} is not the file that was previewed (its content changed)")
        today = self.konvergen.clock.today()
        file_date, file_date_source = self._file_date(options.file_date, info, today)
        summary = ImportSummary(
            import_id=None, file_name=info.name, sha256=info.sha256, layout=layout.name, status=COMPLETED,
            dry_run=options.dry_run, file_date=file_date, file_date_source=file_date_source,
            counts={name: 0 for name in COUNTS},
        )
        earlier = self.log.clean_import_of(info.sha256, layout.name)
        summary.previous_import = earlier
        if earlier and not options.dry_run:
            return self._already_imported(actor, summary, earlier)
        processes = self._processes_for(layout, info)
        with TemporaryDirectory(prefix="konvergen-import-") as directory:
            staging = Staging(directory, shares=processes)
            helpers = None
            try:
                if processes > 1:  # started now: they open the service while pass 1 reads the file
                    helpers = Helpers(self.konvergen.storage.url, self.konvergen.clock, processes - 1,
                                      Path(directory), self.open_service)
                columns, parser = self._stage(info, layout, options.mapping, staging, today, summary, progress)
                if not options.dry_run:
                    self._start_record(actor, summary)
                self._write_on_record(actor, layout, columns, parser, staging, summary, today, progress, helpers)
                self._finish(summary, staging, options.report_path)
            finally:
                if helpers is not None:
                    helpers.close()
                staging.close()
        return summary

    def _processes_for(self, layout: Layout, info: FileInfo) -> int:
        """How many processes share pass 2; one where others could not (or need not) help."""
        if layout is not HOUSEHOLDS or self.konvergen.storage.kind not in SHAREABLE_STORES:
            return 1
        if self.processes is not None:
            return max(1, self.processes)
        return processes_available() if info.size >= PARALLEL_MIN_BYTES else 1

    def _start_record(self, actor: Actor, summary: ImportSummary) -> None:
        summary.import_id = uuid4().hex
        self.log.start(
            id=summary.import_id, file_name=summary.file_name, sha256=summary.sha256, layout=summary.layout,
            username=actor.username, started_at=self.konvergen.clock.now(),
            file_date=summary.file_date, file_date_source=summary.file_date_source,
        )

    def _write_on_record(self, actor: Actor, layout: Layout, columns: ColumnMap, parser: RowParser,
                         staging: Staging, summary: ImportSummary, today: date, progress: Progress,
                         helpers: Helpers | None) -> None:
        """Pass 2; if it breaks off (an error, Ctrl-C, in any process) the import is
        recorded as failed, once every helper has stopped. What was saved stays saved:
        running the file again completes it."""
        try:
            with fewer_collections():
                self._write(actor, layout, columns, parser, staging, summary, today, progress, helpers)
        except BaseException as error:
            if helpers is not None:
                helpers.close()
            if summary.import_id:
                self.log.finish(summary.import_id, status=FAILED, finished_at=self.konvergen.clock.now(),
                                message=f"{type(error).__name__}: {error}"[:2000], **summary.counts)
            raise

    def _finish(self, summary: ImportSummary, staging: Staging, report_path: str | Path | None) -> None:
        """Counts the rejected rows, keeps them with the record and writes the report."""
        summary.counts["rows_rejected"] = staging.rejected_line_count()
        summary.rejections = list(staging.rejections(limit=SAMPLE_REJECTIONS))
        if summary.import_id:
            self.log.add_rejections(summary.import_id, staging.rejections())
            self.log.finish(summary.import_id, status=COMPLETED, finished_at=self.konvergen.clock.now(),
                            **summary.counts)
        if report_path:
            write_report(report_path, staging.rejections())
            summary.report_path = str(report_path)

    @staticmethod
    def _check_may_import(actor: Actor, layout: Layout) -> None:
        if actor.is_read_only:
            raise Forbidden(f"{actor.username} ({actor.role}) is read-only and may not import")
        if actor.role == AGENCY_OFFICER and layout is HOUSEHOLDS:
            raise Forbidden(f"{actor.username} (agency officer) imports intervention lists, not households")

    @staticmethod
    def _file_date(given: date | None, info: FileInfo, today: date) -> tuple[date, str]:
        """The date the file's categorisations take effect: given, the workbook's own
        saved date, or else the day of the import (said in the summary)."""
        if given is not None:
            if given > today:
                raise ImportFileError(f"file date {given.isoformat()} is in the future")
            return given, "option"
        if info.saved_on is not None and info.saved_on <= today:
            return info.saved_on, "workbook"
        return today, "import date"

    def _already_imported(self, actor: Actor, summary: ImportSummary, earlier: dict) -> ImportSummary:
        """The same bytes were imported before and nothing was rejected: nothing to do."""
        summary.status = ALREADY_IMPORTED
        self._start_record(actor, summary)
        self.log.finish(summary.import_id, status=ALREADY_IMPORTED, finished_at=self.konvergen.clock.now(),
                        message=f"same file as import {earlier['id']}; nothing changed")
        return summary

    # -- pass 1: read and stage -------------------------------------------------------

    def _stage(self, info: FileInfo, layout: Layout, mapping, staging: Staging, today: date,
               summary: ImportSummary, progress: Progress) -> tuple[ColumnMap, RowParser]:
        """Pass 1: every row's KK, to stage the row under it (or reject it without one)."""
        rows = read_rows(info)
        columns = self._find_header(rows, layout, mapping)
        summary.columns = columns.describe()
        parser = parser_for(layout, columns, self.households, today)
        count = 0
        for line, cells in rows:
            count += 1
            if len(summary.first_rows) < PREVIEW_ROWS:
                raw = parser.raw(cells)
                summary.first_rows.append(
                    {"line": line, "cells": {c.header: text(raw.get(f)) for f, c in columns.columns.items()}}
                )
            kk, _reason = parser.kk_of(cells)
            if kk:
                staging.add_row(kk, line, cells)
            else:
                # Without a family-card number the row belongs to no household.
                row = parser(line, cells)
                for name, reason in row.problems:
                    staging.reject(line, columns.header_of(name), text(row.raw.get(name)), reason)
            if count % PROGRESS_EVERY == 0:
                progress("rows", PROGRESS_EVERY, None)
        progress("rows", count % PROGRESS_EVERY, None)
        summary.counts["rows"] = count
        return columns, parser

    @staticmethod
    def _find_header(rows, layout: Layout, mapping) -> ColumnMap:
        first_error = None
        for attempt, (line, cells) in enumerate(rows):
            try:
                return resolve_columns(cells, layout, mapping, line=line)
            except ImportFileError as error:
                first_error = first_error or error
                if attempt + 1 >= HEADER_SEARCH_ROWS:
                    break
        raise first_error or ImportFileError("the file is empty")

    # -- pass 2: households, one KK at a time -----------------------------------------

    def _write(self, actor: Actor, layout: Layout, columns: ColumnMap, parser: RowParser, staging: Staging,
               summary: ImportSummary, today: date, progress: Progress, helpers: Helpers | None) -> None:
        """Pass 2: KK by KK, the rows parsed and checked, the household saved in a
        batch; with helpers, each process takes its share of the KKs."""
        job = ShareJob(
            share=0,
            actor=actor,
            layout=layout.name,
            columns=columns,
            today=today,
            file_date=summary.file_date,
            file_name=summary.file_name,
            import_id=summary.import_id or "dry-run",
            dry_run=summary.dry_run,
            store_was_empty=not self.households.recorder.max_notification_id(),
            batch_size=self.batch_size,
        )
        total = staging.household_count()

        def advance(done: int) -> None:
            progress("households", done, total)

        if helpers is None:
            counts = import_share(self.households, job, staging, parser, advance)
        else:
            counts = helpers.import_shares(self.households, job, staging, parser, advance)
        for name in COUNTS:
            if name != "rows":
                summary.counts[name] = counts.get(name, 0)
