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

The figures mean what the live monitoring summary's mean (``projections.monitoring``):
closed households drop out of every household count but their interventions still
count; the current category is the one with the latest effective date (ties to the
later recorded); convergence counts active miskin ekstrem households by the distinct
agencies that delivered to them; progress compares those with every household ever
categorised miskin ekstrem. So "as recorded by now" equals the live summary.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Iterator

from eventsourcing.persistence import JSONTranscoder
from eventsourcing.utils import get_topic

from domain.errors import InvalidValue
from domain.household import ACTIVE, CANCELLED, CLOSED, DELIVERED, GRADUATED, PLANNED, Household, falls_back
from projections.monitoring import household_counts
from service.access import Actor
from service.audit import access_log as log
from service.audit.chain_store import supports_chain
from service.audit.history import parse_instant
from service.clock import WIB
from service.exporting.tables import FORMATS, MEDIA_TYPES

RECORDED, EFFECTIVE = "recorded", "effective"
BASES = (RECORDED, EFFECTIVE)
UNCATEGORISED = "uncategorised"
EXTREME = "miskin_ekstrem"
CONVERGENCE_BANDS = ("0", "1", "2", "3+")
UNREACHED_LISTED = 100
PAGE = 10_000

_H = Household
TOPICS = [
    get_topic(cls)
    for cls in (
        _H.Registered, _H.KKChanged, _H.IdentificationCorrected, _H.MemberAdded, _H.MemberDetailsCorrected,
        _H.MemberLeft,
        _H.Categorised,
        _H.InterventionPlanned, _H.InterventionDelivered, _H.InterventionCancelled,
        _H.Graduated, _H.Closed, _H.Reopened,
    )
]

KINDS = {topic: topic.rpartition(".")[2] for topic in TOPICS}


class _StoredEvent:
    """An event's stored JSON as attributes, its typed values (dates, times) decoded.

    Only for the library's ``JSONTranscoder`` format: ``{"_type_": name, "_data_": text}``
    at the top level, which is where this summary's dates and times are.
    """

    def __init__(self, data: dict, version: int):
        for key, value in data.items():
            if type(value) is dict and "_type_" in value:
                data[key] = _TYPED[value["_type_"]](value["_data_"])
        self.__dict__ = data
        self.originator_version = version


_TYPED = {"datetime_iso": datetime.fromisoformat, "date_iso": date.fromisoformat}
_decode = json.JSONDecoder().raw_decode  # the stored JSON has no surrounding whitespace


def _plain_json(mapper) -> bool:
    return isinstance(mapper.transcoder, JSONTranscoder) and not mapper.cipher and not mapper.compressor


@dataclass
class _Intervention:
    programme: str
    agency: str
    strategy: str
    value_idr: int | None
    planned: bool = False
    delivered: bool = False
    cancelled: bool = False

    @property
    def status(self) -> str | None:
        if self.delivered:
            return DELIVERED
        if self.cancelled:
            return CANCELLED
        return PLANNED if self.planned else None


@dataclass
class _Facts:
    """What the summary needs to know about one household, as of the cut-off."""

    village: str = ""
    kk_number: str = ""
    head_nik: str = ""
    head_name: str = ""
    registered: bool = False  # its registration falls within the view
    dated: bool = False  # some fact with a business date falls within the view
    status: str = ACTIVE
    status_before_closure: str = ACTIVE
    persons: int = 0
    ever_extreme: bool = False
    graduated_month: str | None = None
    graduated_on: date | None = None
    categorisations: list = field(default_factory=list)  # (effective_on, version, category)
    interventions: dict = field(default_factory=dict)

    @property
    def category(self) -> str:
        if not self.categorisations:
            return UNCATEGORISED
        return max(self.categorisations)[2]


def _planned_business_date(event: Any) -> date:
    """A plan counts from its planned date, or from when it was recorded if that is earlier."""
    return min(event.planned_on, event.timestamp.astimezone(WIB).date())


# The business date of each kind of event; kinds not listed count from their recorded date.
BUSINESS_DATES = {
    "KKChanged": lambda e: e.effective_on,
    "Categorised": lambda e: e.effective_on,
    "Graduated": lambda e: e.effective_on,
    "Closed": lambda e: e.effective_on,
    "InterventionPlanned": _planned_business_date,
    "InterventionDelivered": lambda e: e.delivered_on,
    "MemberLeft": lambda e: e.left_on,
    "MemberAdded": lambda e: e.joined_on,
}
CORRECTIONS = frozenset({"IdentificationCorrected", "MemberDetailsCorrected"})


def _inclusions(kind: str, event: Any, cutoff: datetime, day: date) -> tuple[bool, bool]:
    """(recorded by the cut-off, effective by the cut-off's day), worked out once per event."""
    recorded = event.timestamp <= cutoff
    if kind in CORRECTIONS:
        return recorded, True  # a correction fixes what was always true
    business_date = BUSINESS_DATES.get(kind)
    business = business_date(event) if business_date else None
    return recorded, (recorded if business is None else business <= day)


def _apply(facts: _Facts, kind: str, event: Any, included: bool, recorded: bool) -> None:
    """Applies an event to a household's facts; ``included``: it belongs to this view."""
    if kind == "Registered":
        facts.registered = recorded  # it frames the household in either view
        facts.village = event.address["village_code"]
        facts.kk_number = event.kk_number
        facts.head_nik, facts.head_name = event.head["nik"], event.head["name"]
        facts.persons = 1 + len(event.members)
    elif kind == "InterventionPlanned":
        facts.interventions[event.intervention_id] = _Intervention(
            event.programme, event.agency, event.strategy, event.value_idr, planned=included
        )
        facts.dated |= included
    elif not included:
        return
    elif kind == "IdentificationCorrected":
        if "address" in event.changes:
            facts.village = event.changes["address"]["village_code"]
        facts.head_name = event.changes.get("head_name", facts.head_name)
    elif kind == "MemberDetailsCorrected":
        if event.nik == facts.head_nik:
            facts.head_name = event.changes.get("name", facts.head_name)
            facts.head_nik = event.changes.get("nik", facts.head_nik)
    elif kind == "KKChanged":
        facts.kk_number = event.new_kk_number
    elif kind == "InterventionCancelled":
        facts.interventions[event.intervention_id].cancelled = True
    elif kind == "Reopened":
        if facts.status == CLOSED:
            facts.status = facts.status_before_closure
    else:
        _apply_dated(facts, kind, event)


def _apply_dated(facts: _Facts, kind: str, event: Any) -> None:
    facts.dated = True
    if kind == "Categorised":
        current = max(facts.categorisations)[0] if facts.categorisations else None
        if falls_back(facts.status, facts.graduated_on, event.category, event.effective_on, current):
            facts.status = ACTIVE
        facts.categorisations.append((event.effective_on, event.originator_version, event.category))
        facts.ever_extreme |= event.category == EXTREME
    elif kind == "InterventionDelivered":
        item = facts.interventions[event.intervention_id]
        item.delivered = item.planned = True  # a delivery brings its plan into view
        if event.value_idr is not None:
            item.value_idr = event.value_idr
    elif kind == "MemberAdded":
        facts.persons += 1
    elif kind == "MemberLeft":
        facts.persons -= 1
    elif kind == "Graduated":
        facts.status = GRADUATED
        facts.graduated_month = event.effective_on.strftime("%Y-%m")
        facts.graduated_on = event.effective_on
    elif kind == "Closed":
        facts.status_before_closure, facts.status = facts.status, CLOSED


class BitemporalReports:
    """The summary as recorded by a date, as effective by it, and the two side by side.

    Summaries have the shape of the live monitoring summary (``projections.monitoring``)
    with the same definitions, plus ``as_of`` and ``basis``, so the same schema and the
    same pages serve both.
    """

    def __init__(self, households, access: log.AccessLog):
        self.households = households
        self.access = access

    def summary(self, actor: Actor, as_of: Any, basis: str, *, kecamatan: str | None = None, village: str | None = None) -> dict:
        if basis not in BASES:
            raise InvalidValue("basis", "must be recorded or effective")
        cutoff = parse_instant(as_of)
        self._check_area(kecamatan, village)
        facts = self._replay(cutoff, [basis])[basis]
        return self._summarise(actor, facts, cutoff, basis, kecamatan, village)

    def compare(self, actor: Actor, as_of: Any, *, kecamatan: str | None = None, village: str | None = None) -> dict:
        """Both answers from one pass over the log, with every figure that differs."""
        cutoff = parse_instant(as_of)
        self._check_area(kecamatan, village)
        facts = self._replay(cutoff, list(BASES))
        recorded = self._summarise(actor, facts[RECORDED], cutoff, RECORDED, kecamatan, village)
        effective = self._summarise(actor, facts[EFFECTIVE], cutoff, EFFECTIVE, kecamatan, village)
        rows = comparison_rows(recorded, effective)
        return {
            "as_of": cutoff,
            "as_of_date": cutoff.astimezone(WIB).date(),
            "filters": {"kecamatan": kecamatan, "village": village},
            "recorded": recorded,
            "effective": effective,
            "rows": rows,
            "differences": [row for row in rows if row["difference"]],
        }

    def export_comparison(self, actor: Actor, as_of: Any, fmt: str, **area: str | None) -> tuple[bytes, str, str]:
        """(content, media type, file name) of the side-by-side table as CSV or XLSX."""
        if fmt not in FORMATS:
            raise InvalidValue("format", "must be csv or xlsx")
        comparison = self.compare(actor, as_of, **area)
        self.access.record(actor, log.REPORT, None, as_of=comparison["as_of"].isoformat(), format=fmt, **area)
        name = f"konvergen-summary-{comparison['as_of_date'].isoformat()}.{fmt}"
        content = comparison_csv(comparison).encode("utf-8") if fmt == "csv" else comparison_xlsx(comparison)
        return content, MEDIA_TYPES[fmt], name

    # plumbing

    def _check_area(self, kecamatan: str | None, village: str | None) -> None:
        if kecamatan:
            self.households.regions.check_kecamatan(kecamatan, "kecamatan")
        if village:
            self.households.regions.check_village(village, "village")

    def _events(self) -> Iterator[tuple[str, Any, Any]]:
        """(kind, household key, event) for the topics the summary needs, in log order.

        On the chained SQLite/PostgreSQL stores with the plain JSON transcoder, the stored
        JSON is read directly (a third of the cost of building event objects); otherwise
        through the library's mapper.
        """
        recorder, mapper = self.households.recorder, self.households.mapper
        if supports_chain(recorder) and _plain_json(mapper):
            with recorder.chain_reader() as reader:
                ids: dict = {}  # stored id -> canonical id text, once per household
                for _nid, raw, version, topic, state in reader.notifications(TOPICS):
                    oid = ids.get(raw) or ids.setdefault(raw, reader.canonical_id(raw))
                    yield KINDS[topic], oid, _StoredEvent(_decode(bytes(state).decode())[0], version)
            return
        start = 1
        while True:
            page = recorder.select_notifications(start, PAGE, topics=TOPICS)
            if not page:
                return
            for notification in page:
                event = mapper.to_domain_event(notification)
                yield type(event).__name__, event.originator_id, event
            start = page[-1].id + 1

    def _replay(self, cutoff: datetime, bases: list[str]) -> dict[str, dict[Any, _Facts]]:
        day = cutoff.astimezone(WIB).date()
        views = [(basis == RECORDED, defaultdict(_Facts)) for basis in bases]
        for kind, key, event in self._events():
            recorded, effective = _inclusions(kind, event, cutoff, day)
            for as_recorded, facts in views:
                _apply(facts[key], kind, event, recorded if as_recorded else effective, recorded)
        return {basis: facts for basis, (_, facts) in zip(bases, views)}

    def _summarise(
        self, actor: Actor, facts: dict[Any, _Facts], cutoff: datetime, basis: str,
        kecamatan: str | None, village: str | None,
    ) -> dict:
        regions = self.households.regions
        scope = self.households.access.read_scope(actor)
        level = "village" if kecamatan or village else "kecamatan"
        counts: Counter = Counter()  # (area, category, status) -> households; persons below
        persons: Counter = Counter()
        interventions: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        reach: Counter = Counter()
        unreached: list[tuple[str, Any, _Facts]] = []
        graduations: Counter = Counter()
        baseline = remaining = graduated = 0
        for household_id, household in facts.items():
            if not (household.registered or household.dated):
                continue
            code = household.village
            kecamatan_code = regions.kecamatan_of(code)
            if not scope.allows(code, kecamatan_code):
                continue
            if (kecamatan and kecamatan_code != kecamatan) or (village and code != village):
                continue
            for item in household.interventions.values():
                if item.status:
                    totals = interventions[(item.programme, item.agency, item.strategy, item.status)]
                    totals[0] += 1
                    totals[1] += item.value_idr or 0
            if household.status == CLOSED:
                continue  # a closed household counts only through what it received
            area = code if level == "village" else kecamatan_code
            key = (area, household.category, household.status)
            counts[key] += 1
            persons[key] += household.persons
            extreme_now = household.status == ACTIVE and household.category == EXTREME
            if extreme_now:
                agencies = len({i.agency for i in household.interventions.values() if i.delivered})
                reach[min(agencies, 3)] += 1
                if agencies == 0:
                    unreached.append((code, household_id, household))
            if household.graduated_month:
                graduations[household.graduated_month] += 1
            baseline += household.ever_extreme
            remaining += extreme_now
            graduated += household.status == GRADUATED
        unreached.sort(key=lambda item: (item[0], str(item[1])))
        return {
            "as_of": cutoff,
            "as_of_date": cutoff.astimezone(WIB).date(),
            "basis": basis,
            "filters": {"kecamatan": kecamatan, "village": village, "as_of": cutoff.isoformat(), "basis": basis},
            **_household_counts(counts, persons, level, regions),
            "interventions": [
                {"programme": p, "agency": a, "strategy": s, "status": st, "interventions": n, "value_idr": v}
                for (p, a, s, st), (n, v) in sorted(interventions.items())
            ],
            "convergence": {
                "reached_by_agencies": {band: reach[n] for n, band in enumerate(CONVERGENCE_BANDS)},
                "unreached": {
                    "count": len(unreached),
                    "households": [
                        {"id": str(household_id), "kk_number": h.kk_number, "head_name": h.head_name,
                         "village_code": code, "kecamatan_code": regions.kecamatan_of(code)}
                        for code, household_id, h in unreached[:UNREACHED_LISTED]
                    ],
                    "truncated": len(unreached) > UNREACHED_LISTED,
                },
            },
            "graduations_by_month": [{"month": m, "households": n} for m, n in sorted(graduations.items())],
            "progress": {
                "baseline_extreme": baseline,
                "remaining_extreme": remaining,
                "graduated": graduated,
                "percent_toward_zero": round(100 * (baseline - remaining) / baseline, 1) if baseline else None,
            },
        }


def _household_counts(counts: Counter, persons: Counter, level: str, regions) -> dict:
    rows = [(code, category, status, households, persons[(code, category, status)])
            for (code, category, status), households in counts.items()]
    return household_counts(rows, level, regions)


def _figures(summary: dict) -> dict[tuple[str, str], int]:
    """Every number of a summary under a (section, item) key, for side-by-side tables."""
    figures: dict[tuple[str, str], int] = {}
    for key in ("households", "persons"):
        figures[("totals", key)] = summary["totals"][key]
    for row in summary["by_category"]:
        figures[("households by category", row["category"])] = row["households"]
        figures[("persons by category", row["category"])] = row["persons"]
    for row in summary["by_status"]:
        figures[("households by status", row["status"])] = row["households"]
    for area in summary["by_area"]:
        for category, count in area["categories"].items():
            figures[(f"households by {area['level']}", f"{area['name']} / {category}")] = count["households"]
    for row in summary["interventions"]:
        item = f"{row['programme']} / {row['agency']} / {row['status']}"
        figures[("interventions", item)] = row["interventions"]
        figures[("intervention value (Rp)", item)] = row["value_idr"]
    for band, count in summary["convergence"]["reached_by_agencies"].items():
        figures[("extremely poor households by agencies reached", band)] = count
    for row in summary["graduations_by_month"]:
        figures[("graduations by month", row["month"])] = row["households"]
    for key in ("baseline_extreme", "remaining_extreme", "graduated"):
        figures[("progress", key)] = summary["progress"][key]
    return figures


def comparison_rows(recorded: dict, effective: dict) -> list[dict]:
    left, right = _figures(recorded), _figures(effective)
    keys = list(left) + [key for key in right if key not in left]
    rows = []
    for section, item in keys:
        a, b = left.get((section, item), 0), right.get((section, item), 0)
        rows.append({"section": section, "item": item, "recorded": a, "effective": b, "difference": b - a})
    return rows


HEADER = ("section", "item", "as recorded", "as effective (known now)", "difference")


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
