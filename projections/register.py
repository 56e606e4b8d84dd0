"""The household register: one row per household, searchable and filterable.

Search by KK or NIK (exact; a NIK matches any member still in the household, through
the members table) or by name prefix (case- and accent-insensitive, through the
normalised ``name_key`` column). "Planned" counts interventions still planned, not
yet delivered or cancelled. "Has an overdue follow-up" is decided at query time from
the earliest open due date and today's date, never stored. The coordinates (``lat``,
``lon``; empty when not recorded) are kept so the map reads its points here too.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Sequence

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    and_,
    or_,
    select,
    tuple_,
)

from domain.household import ACTIVE, CANCELLED, CLOSED, DELIVERED, GRADUATED, PLANNED, Household
from domain.reference import RegionCatalogue
from projections.engine import Projection
from projections.sql import (
    Staged,
    NAME_KEY,
    RowSet,
    as_utc,
    correct_identification,
    decode_cursor,
    encode_cursor,
    falls_back_in_view,
    metadata,
    region_name,
    remember_graduation,
    scope_clause,
)
from service.access import ReadScope

register_households = Table(
    "register_households",
    metadata,
    Column("household_id", String(36), primary_key=True),
    Column("kk_number", String(16), nullable=False, index=True),
    Column("head_nik", String(16), nullable=False),
    Column("head_name", String(200), nullable=False),
    Column("name_key", NAME_KEY, nullable=False),
    Column("village_code", String(20), nullable=False),
    Column("kecamatan_code", String(20), nullable=True),
    Column("status", String(16), nullable=False),
    Column("category", String(20), nullable=True),
    Column("desil", SmallInteger, nullable=True),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("category_effective_on", Date, nullable=True),
    Column("planned_interventions", Integer, nullable=False),
    Column("delivered_interventions", Integer, nullable=False),
    Column("delivering_agencies", Integer, nullable=False),
    Column("open_follow_ups", Integer, nullable=False),
    Column("next_follow_up_on", Date, nullable=True),
    Column("last_activity_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    # What the counters above are derived from: {"before_closure": status,
    # "interventions": {id: [agency, status]}, "follow_ups": {id: "due ISO date"}}.
    Column("working", JSON, nullable=False),
    # Pages come in name order, within the reader's area. "Overdue" has no index of its
    # own: walking the name order finds a page of them sooner than sorting every match.
    Index("ix_register_name", "name_key", "household_id"),
    Index("ix_register_village_name", "village_code", "name_key", "household_id"),
    Index("ix_register_kecamatan_name", "kecamatan_code", "name_key", "household_id"),
)

# Who is in each household now (members who left are removed): for NIK search.
register_members = Table(
    "register_members",
    metadata,
    Column("household_id", String(36), primary_key=True),
    Column("nik", String(16), primary_key=True),
    Index("ix_register_members_nik", "nik"),
)

SIXTEEN_DIGITS = re.compile(r"^[0-9]{16}$")
DEFAULT_PAGE = 50
MAX_PAGE = 200
MAX_MAP_POINTS = 5000  # what a phone's browser draws without stalling


def name_key(name: str) -> str:
    """Lower case, accents and repeated spaces removed: what a prefix search compares."""
    if name.isascii():
        return " ".join(name.lower().split())
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


class HouseholdRegister(Projection):
    name = "household_register"
    version = 3
    replay_cost = 6
    tables = (register_households, register_members)

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
            Household.FollowUpScheduled: self._follow_up_due,
            Household.FollowUpRescheduled: self._follow_up_due,
            Household.FollowUpCompleted: self._follow_up_ended,
            Household.FollowUpCancelled: self._follow_up_ended,
            Household.Graduated: self._graduated,
            Household.Closed: self._closed,
            Household.Reopened: self._reopened,
        }

    def stage(self, conn: Connection, events: Sequence[tuple[int, str, Household.Event]]) -> Staged:
        self.households = RowSet(register_households, ["household_id"])
        self.members = RowSet(register_members, ["household_id", "nik"])
        ids = {household_id for _, household_id, _ in events}
        self.households.load(conn, ids)
        self.members.load(conn, ids)
        handlers = self.handlers
        rows_get = self.households.rows.get
        for _, household_id, event in events:
            if type(event) is Household.Registered:
                self._registered(household_id, event)
                continue
            row = rows_get(household_id)
            if row is None:
                raise LookupError(f"{type(event).__name__} for household {household_id} before its registration")
            handler = handlers.get(type(event))
            if handler is not None:
                handler(household_id, row, event)
            row["last_activity_at"] = event.timestamp
            row["version"] = event.originator_version
        for household_id in ids:
            _derive_counts(self.households.get(household_id))
        return Staged(self.households, self.members)

    # -- handlers: state only; the counts are derived once per batch -----------------

    def _registered(self, household_id: str, event: Household.Registered) -> None:
        village = event.address["village_code"]
        head = event.head
        location = event.location or {}
        self.households.add(
            {
                "household_id": household_id,
                "kk_number": event.kk_number,
                "head_nik": head["nik"],
                "head_name": head["name"],
                "name_key": name_key(head["name"]),
                "village_code": village,
                "kecamatan_code": self.regions.kecamatan_of(village),
                "status": ACTIVE,
                "category": None,
                "desil": None,
                "lat": location.get("lat"),
                "lon": location.get("lon"),
                "category_effective_on": None,
                "planned_interventions": 0,
                "delivered_interventions": 0,
                "delivering_agencies": 0,
                "open_follow_ups": 0,
                "next_follow_up_on": None,
                "last_activity_at": event.timestamp,
                "version": event.originator_version,
                "registered_at": event.timestamp,
                "working": {"before_closure": None, "interventions": {}, "follow_ups": {}},
            }
        )
        add = self.members.add
        add({"household_id": household_id, "nik": head["nik"]})
        for member in event.members:
            add({"household_id": household_id, "nik": member["nik"]})

    def _kk_changed(self, _id, row: dict, event: Household.KKChanged) -> None:
        row["kk_number"] = event.new_kk_number

    def _identification_corrected(self, household_id, row: dict, event: Household.IdentificationCorrected) -> None:
        changes = event.changes
        correct_identification(row, changes, self.regions)
        if "head_name" in changes:
            row["name_key"] = name_key(changes["head_name"])
        if "location" in changes:  # None clears the coordinates
            location = changes["location"] or {}
            row["lat"] = location.get("lat")
            row["lon"] = location.get("lon")

    def _member_added(self, household_id, _row, event: Household.MemberAdded) -> None:
        self.members.add({"household_id": household_id, "nik": event.member["nik"]})

    def _member_corrected(self, household_id, row: dict, event: Household.MemberDetailsCorrected) -> None:
        changes = event.changes
        if "nik" in changes:
            member = self.members.get((household_id, event.nik))
            if member is not None:  # a member who left has no row to correct
                self.members.rekey(member, nik=changes["nik"])
            if row["head_nik"] == event.nik:
                row["head_nik"] = changes["nik"]
        if "name" in changes and changes.get("nik", event.nik) == row["head_nik"]:
            row["head_name"] = changes["name"]
            row["name_key"] = name_key(changes["name"])

    def _member_left(self, household_id, _row, event: Household.MemberLeft) -> None:
        self.members.remove(self.members.get((household_id, event.nik)))

    def _categorised(self, _id, row: dict, event: Household.Categorised) -> None:
        # The current categorisation is the latest effective one; among equals, the last.
        if falls_back_in_view(row, event.category, event.effective_on):
            row["status"] = ACTIVE
        current = row["category_effective_on"]
        if current is None or event.effective_on >= current:
            row["category"] = event.category
            row["desil"] = event.desil
            row["category_effective_on"] = event.effective_on

    def _intervention_planned(self, _id, row: dict, event: Household.InterventionPlanned) -> None:
        row["working"]["interventions"][event.intervention_id] = [event.agency, PLANNED]

    def _intervention_delivered(self, _id, row: dict, event) -> None:
        row["working"]["interventions"][event.intervention_id][1] = DELIVERED

    def _intervention_cancelled(self, _id, row: dict, event) -> None:
        row["working"]["interventions"][event.intervention_id][1] = CANCELLED

    def _follow_up_due(self, _id, row: dict, event) -> None:
        row["working"]["follow_ups"][event.follow_up_id] = event.due_on.isoformat()

    def _follow_up_ended(self, _id, row: dict, event) -> None:
        row["working"]["follow_ups"].pop(event.follow_up_id, None)

    def _graduated(self, _id, row: dict, event: Household.Graduated) -> None:
        row["status"] = GRADUATED
        remember_graduation(row, event.effective_on)

    def _closed(self, _id, row: dict, _event) -> None:
        row["working"]["before_closure"] = row["status"]
        row["status"] = CLOSED

    def _reopened(self, _id, row: dict, _event) -> None:
        row["status"] = row["working"]["before_closure"] or ACTIVE
        row["working"]["before_closure"] = None


def _derive_counts(row: dict) -> None:
    """The columns the list shows, from the working state."""
    working = row["working"]
    planned = delivered = 0
    agencies = set()
    for agency, status in working["interventions"].values():
        if status == PLANNED:
            planned += 1
        elif status == DELIVERED:
            delivered += 1
            agencies.add(agency)
    row["planned_interventions"] = planned
    row["delivered_interventions"] = delivered
    row["delivering_agencies"] = len(agencies)
    dues = working["follow_ups"].values()
    row["open_follow_ups"] = len(dues)
    row["next_follow_up_on"] = date.fromisoformat(min(dues)) if dues else None


# -- queries ---------------------------------------------------------------------------


def search_households(
    db: Engine,
    scope: ReadScope,
    *,
    today: date,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE,
    regions: RegionCatalogue | None = None,
    **filters,
) -> dict:
    """One page of the register in name order, and the cursor of the next page.

    ``filters`` are ``_register_conditions``'s (the map takes the same). ``q`` is what a
    search box sends: 16 digits look up a KK or a member's NIK, anything else is a name prefix.
    """
    t = register_households
    conditions = _register_conditions(scope, today, **filters)
    if cursor:
        after_key, after_id = decode_cursor(cursor, (str, str))
        conditions.append(tuple_(t.c.name_key, t.c.household_id) > tuple_(after_key, after_id))
    limit = max(1, min(limit, MAX_PAGE))
    statement = (
        select(t).where(*conditions).order_by(t.c.name_key, t.c.household_id).limit(limit + 1)
    )
    with db.connect() as conn:
        rows = [dict(r) for r in conn.execute(statement).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [_register_item(row, today, regions) for row in rows],
        "next_cursor": encode_cursor(rows[-1]["name_key"], rows[-1]["household_id"]) if more else None,
    }


def map_points(
    db: Engine,
    scope: ReadScope,
    *,
    today: date,
    limit: int = MAX_MAP_POINTS,
    regions: RegionCatalogue | None = None,
    **filters,
) -> dict:
    """The households with coordinates that ``search_households`` would list, for a map.

    Takes the same filters (without paging) and returns at most ``limit`` points in
    name order: ``{"items": [...], "truncated": True}`` when more matched.
    """
    t = register_households
    conditions = _register_conditions(scope, today, **filters)
    conditions += [t.c.lat.is_not(None), t.c.lon.is_not(None)]
    limit = max(1, min(limit, MAX_MAP_POINTS))
    columns = (t.c.household_id, t.c.kk_number, t.c.head_name, t.c.category, t.c.lat, t.c.lon, t.c.village_code)
    statement = select(*columns).where(*conditions).order_by(t.c.name_key, t.c.household_id).limit(limit + 1)
    with db.connect() as conn:
        rows = conn.execute(statement).all()
    items = [
        {"id": household_id, "kk_number": kk, "head_name": head_name, "category": category,
         "lat": lat, "lon": lon, "village_code": village_code,
         "village_name": region_name(regions, village_code) if regions is not None else None}
        for household_id, kk, head_name, category, lat, lon, village_code in rows[:limit]
    ]
    return {"items": items, "truncated": len(rows) > limit}


def _register_conditions(
    scope: ReadScope,
    today: date,
    *,
    q: str | None = None,
    kk_number: str | None = None,
    nik: str | None = None,
    name: str | None = None,
    kecamatan: str | None = None,
    village: str | None = None,
    category: str | None = None,
    desil: int | None = None,
    status: str | None = None,
    without_delivery: bool = False,
    overdue: bool = False,
) -> list:
    """The reader's scope and the list's filters as WHERE conditions (list and map alike)."""
    t = register_households
    conditions = [scope_clause(scope, t.c.village_code, t.c.kecamatan_code)]
    q = (q or "").strip()
    if q and SIXTEEN_DIGITS.match(q):
        conditions.append(or_(t.c.kk_number == q, t.c.household_id.in_(_households_with_member(q))))
    elif q:
        name = q
    if kk_number:
        conditions.append(t.c.kk_number == kk_number.strip())
    if nik:
        conditions.append(t.c.household_id.in_(_households_with_member(nik.strip())))
    if name and name_key(name):
        prefix = name_key(name)
        conditions.append(and_(t.c.name_key >= prefix, t.c.name_key < prefix + "\U0010ffff"))
    if kecamatan:
        conditions.append(t.c.kecamatan_code == kecamatan)
    if village:
        conditions.append(t.c.village_code == village)
    if category:
        conditions.append(t.c.category == category)
    if desil is not None:
        conditions.append(t.c.desil == desil)
    if status:
        conditions.append(t.c.status == status)
    if without_delivery:
        conditions.append(t.c.delivered_interventions == 0)
    if overdue:
        conditions.append(t.c.next_follow_up_on < today)
    return conditions


def _households_with_member(nik: str):
    m = register_members
    return select(m.c.household_id).where(m.c.nik == nik)


def _register_item(row: dict, today: date, regions: RegionCatalogue | None) -> dict:
    next_due = row["next_follow_up_on"]
    item = {
        "id": row["household_id"],
        "kk_number": row["kk_number"],
        "head_nik": row["head_nik"],
        "head_name": row["head_name"],
        "village_code": row["village_code"],
        "kecamatan_code": row["kecamatan_code"],
        "status": row["status"],
        "category": row["category"],
        "desil": row["desil"],
        "planned_interventions": row["planned_interventions"],
        "delivered_interventions": row["delivered_interventions"],
        "delivering_agencies": row["delivering_agencies"],
        "open_follow_ups": row["open_follow_ups"],
        "next_follow_up_on": next_due,
        "has_overdue_follow_up": next_due is not None and next_due < today,
        "last_activity_at": as_utc(row["last_activity_at"]),
        "version": row["version"],
    }
    if regions is not None:
        item["village_name"] = region_name(regions, row["village_code"])
        item["kecamatan_name"] = region_name(regions, row["kecamatan_code"])
    return item
