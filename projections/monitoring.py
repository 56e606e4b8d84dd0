"""Monitoring: counters per village, kept up to date incrementally.

Each household's *contribution* to the counters (its category and status, persons,
how many agencies reached it if it is extremely poor, its graduation month, and each
of its interventions by programme, agency, strategy and status with its value) is
computed before and after each batch of events, and only the difference is added to
aggregate rows keyed by village. A summary therefore sums a few hundred aggregate
rows, never the households, however many there are.

Definitions (what the summary's numbers mean):
* Closed households (moved away, all deceased, duplicate) drop out of every household
  count; the interventions they received still count, since they were delivered.
* Convergence: active households whose current category is miskin ekstrem, by the
  number of distinct agencies that *delivered* something to them (0, 1, 2, 3+).
* Progress toward zero: ``baseline`` households ever categorised miskin ekstrem,
  ``remaining`` still active and miskin ekstrem now; progress = 1 - remaining/baseline.
* Graduations by month: households graduated, by the month the graduation took effect.
"""

from __future__ import annotations

from typing import Sequence

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    Engine,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    func,
    select,
)

from domain.household import ACTIVE, CANCELLED, CLOSED, DELIVERED, EXTREME, GRADUATED, PLANNED, Household
from domain.reference import RegionCatalogue
from projections.engine import Projection
from projections.sql import (
    Counters,
    RowSet,
    Staged,
    correct_head,
    correct_identification,
    falls_back_in_view,
    metadata,
    region_name,
    remember_graduation,
    scope_clause,
)
from service.access import ReadScope

UNCATEGORISED = "uncategorised"
REACH_BUCKETS = ("0", "1", "2", "3+")
UNREACHED_LIST_LIMIT = 100

monitoring_households = Table(
    "monitoring_households",
    metadata,
    Column("household_id", String(36), primary_key=True),
    Column("kk_number", String(16), nullable=False),
    Column("head_nik", String(16), nullable=False),
    Column("head_name", String(200), nullable=False),
    Column("village_code", String(20), nullable=False),
    Column("kecamatan_code", String(20), nullable=True),
    Column("status", String(16), nullable=False),
    Column("category", String(20), nullable=True),
    Column("category_effective_on", Date, nullable=True),
    Column("persons", Integer, nullable=False),
    Column("ever_extreme", Boolean, nullable=False),
    Column("graduated_month", String(7), nullable=True),
    Column("reached_by", Integer, nullable=False),
    Column("unreached", Boolean, nullable=False),
    # {"before_closure": status, "interventions": {id: [programme, agency, strategy, status, value]}}
    Column("working", JSON, nullable=False),
    Index("ix_monitoring_unreached_village", "unreached", "village_code", "household_id"),
    Index("ix_monitoring_unreached_kecamatan", "unreached", "kecamatan_code", "village_code", "household_id"),
)


def _aggregate(name: str, keys: list[Column], values: list[str]) -> Table:
    return Table(
        name,
        metadata,
        Column("village_code", String(20), primary_key=True),
        *keys,
        Column("kecamatan_code", String(20), nullable=True, index=True),
        *(Column(v, BigInteger, nullable=False) for v in values),
    )


monitoring_categories = _aggregate(
    "monitoring_categories",
    [Column("category", String(20), primary_key=True), Column("status", String(16), primary_key=True)],
    ["households", "persons"],
)
monitoring_interventions = _aggregate(
    "monitoring_interventions",
    [
        Column("programme", String(40), primary_key=True),
        Column("agency", String(40), primary_key=True),
        Column("strategy", String(40), primary_key=True),
        Column("status", String(16), primary_key=True),
    ],
    ["interventions", "value_idr"],
)
monitoring_convergence = _aggregate(
    "monitoring_convergence", [Column("reached_by", SmallInteger, primary_key=True)], ["households"]
)
monitoring_graduations = _aggregate(
    "monitoring_graduations", [Column("month", String(7), primary_key=True)], ["households"]
)
monitoring_progress = _aggregate("monitoring_progress", [], ["baseline_extreme", "remaining_extreme", "graduated"])

# The same intervention counts rolled up per kecamatan, so a kabupaten-wide (or a
# supervisor's) summary sums a few hundred rows instead of every village's.
monitoring_interventions_by_kecamatan = Table(
    "monitoring_interventions_by_kecamatan",
    metadata,
    Column("kecamatan_code", String(20), primary_key=True),  # "" for a village outside the reference data
    Column("programme", String(40), primary_key=True),
    Column("agency", String(40), primary_key=True),
    Column("strategy", String(40), primary_key=True),
    Column("status", String(16), primary_key=True),
    Column("interventions", BigInteger, nullable=False),
    Column("value_idr", BigInteger, nullable=False),
)

CATEGORIES, CONVERGENCE, GRADUATIONS, PROGRESS, INTERVENTIONS, KECAMATAN_INTERVENTIONS = range(6)


class Monitoring(Projection):
    """Handlers only change each household's state row; once per batch, each touched
    household's contribution before and after the batch is compared and the
    difference added to the counters, so a batch costs one diff per household."""

    name = "monitoring"
    version = 2
    replay_cost = 4
    tables = (
        monitoring_households,
        monitoring_categories,
        monitoring_interventions,
        monitoring_interventions_by_kecamatan,
        monitoring_convergence,
        monitoring_graduations,
        monitoring_progress,
    )

    def __init__(self, regions: RegionCatalogue):
        super().__init__(regions)
        self.handlers = {
            Household.KKChanged: self._kk_changed,
            Household.IdentificationCorrected: self._identification_corrected,
            Household.MemberAdded: self._member_added,
            Household.MemberDetailsCorrected: self._member_corrected,
            Household.MemberLeft: self._member_left,
            Household.Categorised: self._categorised,
            Household.InterventionPlanned: self._intervention_planned,
            Household.InterventionDelivered: self._intervention_delivered,
            Household.InterventionCancelled: self._intervention_cancelled,
            Household.Graduated: self._graduated,
            Household.Closed: self._closed,
            Household.Reopened: self._reopened,
        }

    def stage(self, conn: Connection, events: Sequence[tuple[int, str, Household.Event]]) -> Staged:
        households = self.households = RowSet(monitoring_households, ["household_id"])
        ids = {household_id for _, household_id, _ in events}
        households.load(conn, ids)
        before = {household_id: _contribution(row) for household_id, row in households.rows.items()}
        handlers = self.handlers
        rows_get = households.rows.get
        for _, household_id, event in events:
            if type(event) is Household.Registered:
                self._registered(household_id, event)
                continue
            handler = handlers.get(type(event))
            if handler is None:
                continue
            row = rows_get(household_id)
            if row is None:
                raise LookupError(f"{type(event).__name__} for household {household_id} before its registration")
            handler(row, event)
        counters = (
            Counters(monitoring_categories, ["village_code", "category", "status"], ["kecamatan_code"], ["households", "persons"]),
            Counters(monitoring_convergence, ["village_code", "reached_by"], ["kecamatan_code"], ["households"]),
            Counters(monitoring_graduations, ["village_code", "month"], ["kecamatan_code"], ["households"]),
            Counters(
                monitoring_progress, ["village_code"], ["kecamatan_code"], ["baseline_extreme", "remaining_extreme", "graduated"]
            ),
            Counters(
                monitoring_interventions,
                ["village_code", "programme", "agency", "strategy", "status"],
                ["kecamatan_code"],
                ["interventions", "value_idr"],
            ),
            Counters(
                monitoring_interventions_by_kecamatan,
                ["kecamatan_code", "programme", "agency", "strategy", "status"],
                [],
                ["interventions", "value_idr"],
            ),
        )
        for household_id in ids:
            row = households.get(household_id)
            delivered = {item[1] for item in row["working"]["interventions"].values() if item[3] == DELIVERED}
            row["reached_by"] = len(delivered)
            row["unreached"] = row["status"] == ACTIVE and row["category"] == EXTREME and not delivered
            _count(counters, before.get(household_id, {}), _contribution(row))
        return Staged(households, *counters)

    # -- handlers: state only -------------------------------------------------------

    def _registered(self, household_id: str, event: Household.Registered) -> None:
        village = event.address["village_code"]
        self.households.add(
            {
                "household_id": household_id,
                "kk_number": event.kk_number,
                "head_nik": event.head["nik"],
                "head_name": event.head["name"],
                "village_code": village,
                "kecamatan_code": self.regions.kecamatan_of(village),
                "status": ACTIVE,
                "category": None,
                "category_effective_on": None,
                "persons": 1 + len(event.members),
                "ever_extreme": False,
                "graduated_month": None,
                "reached_by": 0,
                "unreached": False,
                "working": {"before_closure": None, "interventions": {}},
            }
        )

    def _kk_changed(self, row: dict, event: Household.KKChanged) -> None:
        row["kk_number"] = event.new_kk_number

    def _identification_corrected(self, row: dict, event: Household.IdentificationCorrected) -> None:
        correct_identification(row, event.changes, self.regions)

    def _member_added(self, row: dict, _event) -> None:
        row["persons"] += 1

    def _member_left(self, row: dict, _event) -> None:
        row["persons"] -= 1

    def _member_corrected(self, row: dict, event: Household.MemberDetailsCorrected) -> None:
        correct_head(row, event.nik, event.changes)

    def _categorised(self, row: dict, event: Household.Categorised) -> None:
        if event.category == EXTREME:
            row["ever_extreme"] = True
        if falls_back_in_view(row, event.category, event.effective_on):
            row["status"] = ACTIVE
        current = row["category_effective_on"]
        if current is None or event.effective_on >= current:
            row["category"] = event.category
            row["category_effective_on"] = event.effective_on

    def _intervention_planned(self, row: dict, event: Household.InterventionPlanned) -> None:
        row["working"]["interventions"][event.intervention_id] = [
            event.programme, event.agency, event.strategy, PLANNED, event.value_idr or 0
        ]

    def _intervention_delivered(self, row: dict, event: Household.InterventionDelivered) -> None:
        item = row["working"]["interventions"][event.intervention_id]
        item[3] = DELIVERED
        if event.value_idr is not None:
            item[4] = event.value_idr

    def _intervention_cancelled(self, row: dict, event: Household.InterventionCancelled) -> None:
        row["working"]["interventions"][event.intervention_id][3] = CANCELLED

    def _graduated(self, row: dict, event: Household.Graduated) -> None:
        row["status"] = GRADUATED
        row["graduated_month"] = event.effective_on.strftime("%Y-%m")
        remember_graduation(row, event.effective_on)

    def _closed(self, row: dict, _event) -> None:
        row["working"]["before_closure"] = row["status"]
        row["status"] = CLOSED

    def _reopened(self, row: dict, _event) -> None:
        row["status"] = row["working"]["before_closure"] or ACTIVE
        row["working"]["before_closure"] = None


def _contribution(row: dict) -> dict:
    """What one household adds to the counters: {(counter, key): (kecamatan, values)}."""
    village, kecamatan, status = row["village_code"], row["kecamatan_code"], row["status"]
    parts: dict = {}
    # Interventions count whatever became of the household: they were planned or delivered.
    for programme, agency, strategy, item_status, value in row["working"]["interventions"].values():
        for part in (
            (INTERVENTIONS, (village, programme, agency, strategy, item_status)),
            (KECAMATAN_INTERVENTIONS, (kecamatan or "", programme, agency, strategy, item_status)),
        ):
            count, total = parts.get(part, (kecamatan, (0, 0)))[1]
            parts[part] = (kecamatan, (count + 1, total + value))
    if status == CLOSED:
        return parts
    extreme_now = status == ACTIVE and row["category"] == EXTREME
    parts[(CATEGORIES, (village, row["category"] or UNCATEGORISED, status))] = (kecamatan, (1, row["persons"]))
    if extreme_now:
        parts[(CONVERGENCE, (village, min(row["reached_by"], 3)))] = (kecamatan, (1,))
    if row["graduated_month"]:
        parts[(GRADUATIONS, (village, row["graduated_month"]))] = (kecamatan, (1,))
    progress = (int(row["ever_extreme"]), int(extreme_now), int(status == GRADUATED))
    if any(progress):
        parts[(PROGRESS, (village,))] = (kecamatan, progress)
    return parts


def _count(counters: tuple[Counters, ...], before: dict, after: dict) -> None:
    """Adds ``after - before`` to the counters; what did not change costs nothing."""
    for part, (kecamatan, values) in after.items():
        old = before.get(part)
        counter = counters[part[0]]
        attributes = (kecamatan,) if counter.attributes else ()
        if old is None:
            counter.add(part[1], attributes, values)
        elif old[1] != values:
            counter.add(part[1], attributes, tuple(new - was for new, was in zip(values, old[1])))
    for part, (kecamatan, values) in before.items():
        if part not in after:
            counter = counters[part[0]]
            counter.add(part[1], (kecamatan,) if counter.attributes else (), values, -1)


# -- queries ---------------------------------------------------------------------------


def monitoring_summary(
    db: Engine,
    scope: ReadScope,
    *,
    kecamatan: str | None = None,
    village: str | None = None,
    regions: RegionCatalogue | None = None,
    unreached_limit: int = UNREACHED_LIST_LIMIT,
) -> dict:
    """Every monitoring number for what the reader may see, narrowed by area."""

    def where(table: Table) -> list:
        conditions = [scope_clause(scope, table.c.village_code, table.c.kecamatan_code)]
        if kecamatan:
            conditions.append(table.c.kecamatan_code == kecamatan)
        if village:
            conditions.append(table.c.village_code == village)
        return conditions

    c, i, v, g, p, h = (
        monitoring_categories,
        monitoring_interventions,
        monitoring_convergence,
        monitoring_graduations,
        monitoring_progress,
        monitoring_households,
    )
    by_village = bool(kecamatan or village)
    area = c.c.village_code if by_village else c.c.kecamatan_code
    with db.connect() as conn:
        categories = conn.execute(
            select(area, c.c.category, c.c.status, func.sum(c.c.households), func.sum(c.c.persons))
            .where(*where(c))
            .group_by(area, c.c.category, c.c.status)
        ).all()
        if village or scope.villages:
            conditions = where(i)
        else:  # whole kecamatan at most: the rollup has every number needed
            i = monitoring_interventions_by_kecamatan
            conditions = [] if scope.everything else [i.c.kecamatan_code.in_(sorted(scope.kecamatan))]
            if kecamatan:
                conditions.append(i.c.kecamatan_code == kecamatan)
        interventions = conn.execute(
            select(i.c.programme, i.c.agency, i.c.strategy, i.c.status, func.sum(i.c.interventions), func.sum(i.c.value_idr))
            .where(*conditions)
            .group_by(i.c.programme, i.c.agency, i.c.strategy, i.c.status)
            .order_by(i.c.programme, i.c.agency, i.c.strategy, i.c.status)
        ).all()
        reach = dict(
            conn.execute(select(v.c.reached_by, func.sum(v.c.households)).where(*where(v)).group_by(v.c.reached_by)).all()
        )
        graduations = conn.execute(
            select(g.c.month, func.sum(g.c.households)).where(*where(g)).group_by(g.c.month).order_by(g.c.month)
        ).all()
        baseline, remaining, graduated = conn.execute(
            select(func.sum(p.c.baseline_extreme), func.sum(p.c.remaining_extreme), func.sum(p.c.graduated)).where(*where(p))
        ).one()
        unreached = conn.execute(
            select(h.c.household_id, h.c.kk_number, h.c.head_name, h.c.village_code, h.c.kecamatan_code)
            .where(h.c.unreached.is_(True), *where(h))
            .order_by(h.c.village_code, h.c.household_id)
            .limit(unreached_limit)
        ).mappings().all()
    baseline, remaining, graduated = int(baseline or 0), int(remaining or 0), int(graduated or 0)
    unreached_count = int(reach.get(0, 0))
    return {
        "filters": {"kecamatan": kecamatan, "village": village},
        **household_counts(categories, "village" if by_village else "kecamatan", regions),
        "interventions": [
            {
                "programme": programme,
                "agency": agency,
                "strategy": strategy,
                "status": status,
                "interventions": int(count),
                "value_idr": int(value),
            }
            for programme, agency, strategy, status, count, value in interventions
        ],
        "convergence": {
            "reached_by_agencies": {bucket: int(reach.get(n, 0)) for n, bucket in enumerate(REACH_BUCKETS)},
            "unreached": {
                "count": unreached_count,
                "households": [
                    {
                        "id": row["household_id"],
                        "kk_number": row["kk_number"],
                        "head_name": row["head_name"],
                        "village_code": row["village_code"],
                        "kecamatan_code": row["kecamatan_code"],
                    }
                    for row in unreached
                ],
                "truncated": unreached_count > len(unreached),
            },
        },
        "graduations_by_month": [{"month": month, "households": int(n)} for month, n in graduations],
        "progress": {
            "baseline_extreme": baseline,
            "remaining_extreme": remaining,
            "graduated": graduated,
            "percent_toward_zero": round(100 * (baseline - remaining) / baseline, 1) if baseline else None,
        },
    }


def household_counts(rows, level: str, regions: RegionCatalogue | None) -> dict:
    """Households and persons by category, status and area, from rows of (area code,
    category, status, households, persons): the summary's shape, shared with the
    auditors' past summaries so both answer in the same terms."""
    totals = {"households": 0, "persons": 0}
    by_category: dict[str, dict] = {}
    by_status: dict[str, dict] = {}
    areas: dict[str, dict] = {}
    for code, category, status, households, persons in rows:
        households, persons = int(households), int(persons)
        area = areas.setdefault(
            code,
            {"code": code, "level": level, "households": 0, "persons": 0, "categories": {}},
        )
        for bucket in (
            totals,
            by_category.setdefault(category, {"category": category, "households": 0, "persons": 0}),
            by_status.setdefault(status, {"status": status, "households": 0, "persons": 0}),
            area,
            area["categories"].setdefault(category, {"households": 0, "persons": 0}),
        ):
            bucket["households"] += households
            bucket["persons"] += persons
    if regions is not None:
        for area in areas.values():
            area["name"] = region_name(regions, area["code"])
    return {
        "totals": totals,
        "by_category": sorted(by_category.values(), key=lambda b: b["category"]),
        "by_status": sorted(by_status.values(), key=lambda b: b["status"]),
        "by_area": [areas[code] for code in sorted(areas, key=lambda c: c or "")],
    }
