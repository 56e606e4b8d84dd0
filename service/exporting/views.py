"""The monitoring tables and the audit trail, as CSV or XLSX, from the projections'
read models.

Both are read through ``ReadModels`` as the reader, so the reader's role and area
decide what is in the file, in the same one place as for the API and the web UI.
Codes are written beside names (``programme`` and ``programme_name``) so a file can be
both filtered by a program and read by a person.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator

from openpyxl import Workbook

from projections.read_models import ReadModels
from service.access import Actor
from service.exporting.tables import TableFormatError, check_table_path, open_table

AUDIT_PAGE = 500
AUDIT_HEADERS = ["position", "recorded_at_utc", "effective_on", "household_id", "kk_number", "version",
                 "event_type", "actor", "source_ref", "summary"]
MONITORING_HEADERS = {
    "areas": ["area_code", "area_name", "category", "households", "persons"],
    "interventions": ["programme", "programme_name", "agency", "agency_name", "strategy", "status",
                      "interventions", "value_idr"],
    "convergence": ["agencies_reached", "extremely_poor_households"],
    "graduations": ["month", "graduated_households"],
}
MONITORING_TABLES = tuple(MONITORING_HEADERS)

Rows = Callable[[dict], Iterable[list]]


def _area_rows(summary: dict) -> Iterator[list]:
    for area in summary["by_area"]:
        for category, counts in sorted(area["categories"].items(), key=lambda item: item[0] or ""):
            yield [area["code"], area.get("name"), category or "", counts["households"], counts["persons"]]


def _intervention_rows(konvergen) -> Rows:
    programmes, agencies = konvergen.programmes.programmes, konvergen.programmes.agencies

    def rows(summary: dict) -> Iterator[list]:
        for row in summary["interventions"]:
            programme, agency = programmes.get(row["programme"]), agencies.get(row["agency"])
            yield [row["programme"], programme.name if programme else "", row["agency"], agency.name if agency else "",
                   row["strategy"], row["status"], row["interventions"], row["value_idr"]]

    return rows


def _convergence_rows(summary: dict) -> Iterator[list]:
    for bucket, households in summary["convergence"]["reached_by_agencies"].items():
        yield [bucket, households]


def _graduation_rows(summary: dict) -> Iterator[list]:
    for row in summary["graduations_by_month"]:
        yield [row["month"], row["households"]]


def monitoring_rows(konvergen) -> dict[str, Rows]:
    """Each monitoring table's rows, from one monitoring summary."""
    return {"areas": _area_rows, "interventions": _intervention_rows(konvergen),
            "convergence": _convergence_rows, "graduations": _graduation_rows}


def export_monitoring(konvergen, actor: Actor, path: str | Path, fmt: str | None = None, *,
                      tables: Iterable[str] = MONITORING_TABLES, kecamatan: str | None = None,
                      village: str | None = None) -> dict:
    """The monitoring tables for what ``actor`` may see: one table per CSV, or one
    worksheet per table in an XLSX. Returns how many rows each table has."""
    tables = list(tables)
    unknown = [name for name in tables if name not in MONITORING_HEADERS]
    if unknown or not tables:
        raise TableFormatError(f"monitoring tables are {', '.join(MONITORING_TABLES)} (not {', '.join(unknown)})")
    fmt = check_table_path(path, fmt)
    if fmt == "csv" and len(tables) != 1:
        raise TableFormatError(f"{path}: a CSV file holds one table; choose one ({', '.join(MONITORING_TABLES)}) "
                               "or write .xlsx for all of them")
    summary = ReadModels(konvergen).monitoring_summary(actor, kecamatan=kecamatan, village=village)
    rows = monitoring_rows(konvergen)
    if fmt == "csv":
        (name,) = tables
        with open_table(path, MONITORING_HEADERS[name], fmt=fmt) as writer:
            count = _write_all(writer.write, rows[name](summary))
        return {name: count}
    workbook = Workbook(write_only=True)
    counts = {}
    for name in tables:
        sheet = workbook.create_sheet(name)
        sheet.append(MONITORING_HEADERS[name])
        counts[name] = _write_all(sheet.append, rows[name](summary))
    workbook.save(path)
    return counts


def _write_all(write: Callable[[list], None], rows: Iterable[list]) -> int:
    count = 0
    for count, row in enumerate(rows, 1):
        write(row)
    return count


def every_page(read_page: Callable[..., dict], *, limit: int) -> Iterator[dict]:
    """Every item of a keyset-paginated read, page after page: ``read_page(cursor=,
    limit=)`` answers ``{"items": [...], "next_cursor": ...}``; no next cursor ends it."""
    cursor = None
    while True:
        page = read_page(cursor=cursor, limit=limit)
        yield from page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return


def iter_audit_events(konvergen, reader: Actor, **filters) -> Iterator[dict]:
    """Every audit-trail event the reader may see, newest first, page by page;
    ``actor``/``household_id``/``event_type``/``since``/``until`` narrow it (as the API)."""
    views = ReadModels(konvergen)
    return every_page(lambda **page: views.audit_events(reader, **page, **filters), limit=AUDIT_PAGE)


def audit_row(event: dict) -> list:
    recorded = event["recorded_at"].astimezone(timezone.utc).replace(tzinfo=None)
    return [event["position"], recorded.isoformat(timespec="seconds"), event["effective_on"], event["household_id"],
            event["kk_number"], event["version"], event["event_type"], event["actor"], event["source_ref"],
            event["summary"]]


def export_audit_trail(konvergen, actor: Actor, path: str | Path, fmt: str | None = None, *,
                       by: str | None = None, household_id: str | None = None, event_type: str | None = None,
                       since: datetime | None = None, until: datetime | None = None) -> dict:
    """The audit trail the actor may see (``since`` inclusive, ``until`` exclusive,
    naive times are UTC), newest first; ``by`` is the username that acted."""
    fmt = check_table_path(path, fmt)
    events = iter_audit_events(konvergen, actor, actor=by, household_id=household_id, event_type=event_type,
                               since=since, until=until)
    with open_table(path, AUDIT_HEADERS, fmt=fmt, sheet_title="audit trail") as writer:
        count = _write_all(writer.write, (audit_row(event) for event in events))
    return {"events": count}
