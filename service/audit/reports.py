"""The monitoring summary for a past date, in two time dimensions.

* **recorded**: what the district could have reported at the cut-off: only events
  recorded (stored) up to that instant.
* **effective**: what we now know was true on that date: every event whose business
  date is on or before it, including late entries recorded afterwards.

Both are computed by replaying the notification log into small per-household facts,
never from the live read models (which only know "now"). Business dates, per event:

| event | business date (effective basis) |
| --- | --- |
| Categorised, Graduated, Closed, KKChanged | ``effective_on`` |
| InterventionPlanned | the earlier of ``planned_on`` and the recorded date |
| InterventionDelivered | ``delivered_on`` |
| MemberAdded / MemberLeft | ``joined_on`` (else recorded date) / ``left_on`` |
| IdentificationCorrected, MemberDetailsCorrected | none: a correction fixes what was always true, so it applies to every date |
| Registered | none: it frames the household, which counts when it was registered by the date or when any of its dated facts is on or before the date |
| InterventionCancelled, Reopened | the recorded date |

Counts: households that are not closed, by current category (the categorisation with
the latest effective date, ties to the later one recorded) and by kecamatan; persons
present in them; interventions of every counted household by programme and status with
their summed value; and convergence: extremely poor households reached by 0, 1, 2 or 3+
distinct agencies through delivered interventions.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Iterator

from eventsourcing.utils import get_topic

from domain.errors import InvalidValue
from domain.household import CATEGORIES, CLOSED, DELIVERED, GRADUATED, Household
from service.access import Actor
from service.audit import access_log as log
from service.audit.history import parse_instant
from service.clock import WIB

RECORDED, EFFECTIVE = "recorded", "effective"
BASES = (RECORDED, EFFECTIVE)
UNCATEGORISED = "uncategorised"
CONVERGENCE_BANDS = ("0", "1", "2", "3+")
PAGE = 10_000

_H = Household
TOPICS = [
    get_topic(cls)
    for cls in (
        _H.Registered, _H.IdentificationCorrected, _H.MemberAdded, _H.MemberDetailsCorrected, _H.MemberLeft,
        _H.Categorised,
        _H.InterventionPlanned, _H.InterventionDelivered, _H.InterventionCancelled,
        _H.Graduated, _H.Closed, _H.Reopened,
    )
]


@dataclass
class _Intervention:
    programme: str
    agency: str
    value_idr: int | None
    planned: bool = False
    delivered: bool = False
    cancelled: bool = False

    @property
    def status(self) -> str | None:
        if self.delivered:
            return DELIVERED
        if self.cancelled:
            return "cancelled"
        return "planned" if self.planned else None


@dataclass
class _Facts:
    """What the summary needs to know about one household, as of the cut-off."""

    village: str = ""
    registered: bool = False  # its registration falls within the view
    dated: bool = False  # some fact with a business date falls within the view
    status: str = "active"
    status_before_closure: str = "active"
    persons: set = field(default_factory=set)
    categorisations: list = field(default_factory=list)  # (effective_on, version, category)
    interventions: dict = field(default_factory=dict)

    @property
    def category(self) -> str:
        if not self.categorisations:
            return UNCATEGORISED
        return max(self.categorisations)[2]


class _View:
    """Decides, for each event, whether it belongs to the view of the cut-off."""

    def __init__(self, cutoff: datetime, basis: str):
        self.cutoff = cutoff
        self.day = cutoff.astimezone(WIB).date()
        self.basis = basis

    def recorded(self, event: Any) -> bool:
        return event.timestamp <= self.cutoff

    def on(self, event: Any, business: date | None) -> bool:
        """For dated facts: by business date (effective) or by recording (recorded)."""
        if self.basis == RECORDED or business is None:
            return self.recorded(event)
        return business <= self.day


def _apply(facts: _Facts, event: Any, view: _View) -> None:
    kind = type(event).__name__
    if kind == "Registered":
        facts.registered = view.recorded(event)
        facts.village = event.address["village_code"]
        facts.persons = {event.head["nik"], *(m["nik"] for m in event.members)}
        return
    if kind == "IdentificationCorrected":
        if (view.basis == EFFECTIVE or view.recorded(event)) and "address" in event.changes:
            facts.village = event.changes["address"]["village_code"]
        return
    if kind == "MemberDetailsCorrected":
        if "nik" in event.changes and event.nik in facts.persons:
            facts.persons.discard(event.nik)
            facts.persons.add(event.changes["nik"])
        return
    if kind == "InterventionPlanned":
        business = min(event.planned_on, event.timestamp.astimezone(WIB).date())
        included = view.on(event, business)
        facts.interventions[event.intervention_id] = _Intervention(
            event.programme, event.agency, event.value_idr, planned=included
        )
        facts.dated |= included
        return
    if kind == "InterventionCancelled":
        if view.recorded(event):
            facts.interventions[event.intervention_id].cancelled = True
        return
    if kind == "Reopened":
        if view.recorded(event) and facts.status == CLOSED:
            facts.status = facts.status_before_closure
        return
    business = getattr(event, "effective_on", None) or getattr(event, "delivered_on", None) \
        or getattr(event, "left_on", None) or getattr(event, "joined_on", None)
    if not view.on(event, business):
        return
    facts.dated = True
    if kind == "Categorised":
        facts.categorisations.append((event.effective_on, event.originator_version, event.category))
    elif kind == "InterventionDelivered":
        item = facts.interventions[event.intervention_id]
        item.delivered = item.planned = True  # a delivery brings its plan into view
        if event.value_idr is not None:
            item.value_idr = event.value_idr
    elif kind == "MemberAdded":
        facts.persons.add(event.member["nik"])
    elif kind == "MemberLeft":
        facts.persons.discard(event.nik)
    elif kind == "Graduated":
        facts.status = GRADUATED
    elif kind == "Closed":
        facts.status_before_closure, facts.status = facts.status, CLOSED


class BitemporalReports:
    """The summary as recorded by a date, as effective by it, and the two side by side."""

    def __init__(self, households, access: log.AccessLog):
        self.households = households
        self.access = access

    def summary(self, actor: Actor, as_of: Any, basis: str) -> dict:
        if basis not in BASES:
            raise InvalidValue("basis", "must be recorded or effective")
        cutoff = parse_instant(as_of)
        return self._summarise(actor, self._replay(cutoff, [basis])[basis], cutoff, basis)

    def compare(self, actor: Actor, as_of: Any) -> dict:
        """Both answers from one pass over the log, with every figure that differs."""
        cutoff = parse_instant(as_of)
        facts = self._replay(cutoff, list(BASES))
        recorded = self._summarise(actor, facts[RECORDED], cutoff, RECORDED)
        effective = self._summarise(actor, facts[EFFECTIVE], cutoff, EFFECTIVE)
        rows = _comparison_rows(recorded, effective)
        return {
            "as_of": cutoff,
            "as_of_date": cutoff.astimezone(WIB).date(),
            "recorded": recorded,
            "effective": effective,
            "rows": rows,
            "differences": [row for row in rows if row["difference"]],
        }

    def export_comparison(self, actor: Actor, as_of: Any, fmt: str) -> tuple[bytes, str, str]:
        """(content, media type, file name) of the side-by-side table as CSV or XLSX."""
        if fmt not in ("csv", "xlsx"):
            raise InvalidValue("format", "must be csv or xlsx")
        comparison = self.compare(actor, as_of)
        self.access.record(actor, log.REPORT, None, as_of=comparison["as_of"].isoformat(), format=fmt)
        name = f"konvergen-summary-{comparison['as_of_date'].isoformat()}.{fmt}"
        if fmt == "csv":
            return comparison_csv(comparison).encode("utf-8"), "text/csv; charset=utf-8", name
        return comparison_xlsx(comparison), XLSX_TYPE, name

    # plumbing

    def _events(self) -> Iterator[Any]:
        recorder, mapper = self.households.recorder, self.households.mapper
        start = 1
        while True:
            page = recorder.select_notifications(start, PAGE, topics=TOPICS)
            if not page:
                return
            for notification in page:
                yield mapper.to_domain_event(notification)
            start = page[-1].id + 1

    def _replay(self, cutoff: datetime, bases: list[str]) -> dict[str, dict[Any, _Facts]]:
        views = [_View(cutoff, basis) for basis in bases]
        facts: dict[str, dict[Any, _Facts]] = {basis: defaultdict(_Facts) for basis in bases}
        for event in self._events():
            for view in views:
                _apply(facts[view.basis][event.originator_id], event, view)
        return facts

    def _summarise(self, actor: Actor, facts: dict[Any, _Facts], cutoff: datetime, basis: str) -> dict:
        regions = self.households.regions
        scope = self.households.access.read_scope(actor)
        by_category: Counter = Counter()
        persons: Counter = Counter()
        by_kecamatan: dict[str, Counter] = defaultdict(Counter)
        interventions: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        convergence: Counter = Counter({band: 0 for band in CONVERGENCE_BANDS})
        graduated = closed = 0
        for household in facts.values():
            if not (household.registered or household.dated):
                continue
            kecamatan = regions.kecamatan_of(household.village)
            if not scope.allows(household.village, kecamatan):
                continue
            for item in household.interventions.values():
                if item.status:
                    totals = interventions[(item.programme, item.status)]
                    totals[0] += 1
                    totals[1] += item.value_idr or 0
            if household.status == CLOSED:
                closed += 1
                continue
            graduated += household.status == GRADUATED
            category = household.category
            by_category[category] += 1
            persons[category] += len(household.persons)
            by_kecamatan[kecamatan or ""][category] += 1
            if category == "miskin_ekstrem":
                agencies = {i.agency for i in household.interventions.values() if i.delivered}
                convergence[CONVERGENCE_BANDS[min(len(agencies), 3)]] += 1
        categories = [*CATEGORIES, UNCATEGORISED]
        return {
            "as_of": cutoff,
            "as_of_date": cutoff.astimezone(WIB).date(),
            "basis": basis,
            "households": {
                "total": sum(by_category.values()),
                "by_category": {c: by_category[c] for c in categories},
                "graduated": graduated,
                "closed": closed,
            },
            "persons": {"total": sum(persons.values()), "by_category": {c: persons[c] for c in categories}},
            "by_kecamatan": [
                {
                    "kecamatan_code": code,
                    "kecamatan_name": regions.get(code).name if regions.get(code) else code,
                    "total": sum(counts.values()),
                    "by_category": {c: counts[c] for c in categories},
                }
                for code, counts in sorted(by_kecamatan.items())
            ],
            "interventions": [
                {"programme": programme, "status": status, "count": count, "value_idr": value}
                for (programme, status), (count, value) in sorted(interventions.items())
            ],
            "convergence": dict(convergence),
        }


def _figures(summary: dict) -> dict[tuple[str, str], int]:
    """Every number of a summary under a (section, item) key, for side-by-side tables."""
    figures: dict[tuple[str, str], int] = {("households", "total"): summary["households"]["total"]}
    for category, count in summary["households"]["by_category"].items():
        figures[("households by category", category)] = count
    figures[("households", "graduated")] = summary["households"]["graduated"]
    figures[("households", "closed")] = summary["households"]["closed"]
    for category, count in summary["persons"]["by_category"].items():
        figures[("persons by category", category)] = count
    for row in summary["by_kecamatan"]:
        for category, count in row["by_category"].items():
            if count:
                figures[("households by kecamatan", f"{row['kecamatan_name']} / {category}")] = count
    for row in summary["interventions"]:
        figures[("interventions", f"{row['programme']} / {row['status']}")] = row["count"]
        figures[("intervention value (Rp)", f"{row['programme']} / {row['status']}")] = row["value_idr"]
    for band, count in summary["convergence"].items():
        figures[("extremely poor households by agencies reached", band)] = count
    return figures


def _comparison_rows(recorded: dict, effective: dict) -> list[dict]:
    left, right = _figures(recorded), _figures(effective)
    keys = list(left) + [key for key in right if key not in left]
    rows = []
    for section, item in keys:
        a, b = left.get((section, item), 0), right.get((section, item), 0)
        rows.append({"section": section, "item": item, "recorded": a, "effective": b, "difference": b - a})
    return rows


HEADER = ("section", "item", "as recorded", "as effective (known now)", "difference")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def comparison_csv(comparison: dict) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([f"as of {comparison['as_of'].astimezone(WIB).isoformat()}"])
    writer.writerow(HEADER)
    for row in comparison["rows"]:
        writer.writerow([row["section"], row["item"], row["recorded"], row["effective"], row["difference"]])
    return buffer.getvalue()


def comparison_xlsx(comparison: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Summary"
    sheet.append([f"Monitoring summary as of {comparison['as_of'].astimezone(WIB).isoformat()}"])
    sheet.append(list(HEADER))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    highlight = PatternFill("solid", fgColor="FFF2CC")
    for row in comparison["rows"]:
        sheet.append([row["section"], row["item"], row["recorded"], row["effective"], row["difference"]])
        if row["difference"]:
            for cell in sheet[sheet.max_row]:
                cell.fill = highlight
    for column, width in zip("ABCDE", (40, 40, 14, 24, 12)):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
