"""Open follow-ups: one row per follow-up that is neither completed nor cancelled.

"Overdue" (due before today) and "due soon" (due today or within ``DUE_SOON_DAYS``)
are decided when the list is asked for, from the due date and today's date in WIB;
the rows carry no flag that could go stale overnight. Follow-ups of a closed
household stay in the table (reopening brings them back) but are not listed.

The household's status is kept only to tell closed from not closed (the list and the
scheduler's reminders leave closed households out). It does not follow the
fall-back rule (``domain.household.falls_back``): a graduated household that is
categorised as extremely poor again stays "graduated" here, where the register and
monitoring views make it active, and nothing reads the difference.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Sequence

from sqlalchemy import Column, Connection, Date, DateTime, Engine, Index, String, Table, Text, func, select, tuple_

from domain.household import ACTIVE, CLOSED, GRADUATED, Household
from domain.reference import RegionCatalogue
from projections.engine import Projection
from projections.sql import (
    RowSet,
    Staged,
    as_utc,
    correct_head,
    correct_identification,
    decode_cursor,
    encode_cursor,
    metadata,
    region_name,
    scope_clause,
)
from service.access import ReadScope

DUE_SOON_DAYS = 7
STATUSES = ("open", "overdue", "due-soon")
DEFAULT_PAGE = 50
MAX_PAGE = 200

follow_up_households = Table(
    "follow_up_households",
    metadata,
    Column("household_id", String(36), primary_key=True),
    Column("kk_number", String(16), nullable=False),
    Column("head_nik", String(16), nullable=False),
    Column("head_name", String(200), nullable=False),
    Column("village_code", String(20), nullable=False),
    Column("kecamatan_code", String(20), nullable=True),
    Column("status", String(16), nullable=False),
    Column("before_closure", String(16), nullable=True),
)

open_follow_ups = Table(
    "open_follow_ups",
    metadata,
    Column("household_id", String(36), primary_key=True),
    Column("follow_up_id", String(64), primary_key=True),
    Column("kk_number", String(16), nullable=False),
    Column("head_name", String(200), nullable=False),
    Column("village_code", String(20), nullable=False),
    Column("kecamatan_code", String(20), nullable=True),
    Column("household_status", String(16), nullable=False),
    Column("assigned_to", String(64), nullable=False),
    Column("due_on", Date, nullable=False),
    Column("purpose", Text, nullable=False),
    Column("scheduled_by", String(64), nullable=False),
    Column("scheduled_at", DateTime(timezone=True), nullable=False),
    Index("ix_open_follow_ups_due", "due_on", "household_id", "follow_up_id"),
    Index("ix_open_follow_ups_village_due", "village_code", "due_on"),
    Index("ix_open_follow_ups_kecamatan_due", "kecamatan_code", "due_on"),
    Index("ix_open_follow_ups_assignee_due", "assigned_to", "due_on"),
)

# Household columns copied onto each of its open follow-ups.
COPIED = ("kk_number", "head_name", "village_code", "kecamatan_code")


class FollowUps(Projection):
    name = "follow_ups"
    version = 1
    replay_cost = 3
    tables = (follow_up_households, open_follow_ups)

    def __init__(self, regions: RegionCatalogue):
        super().__init__(regions)
        self.handlers = {
            Household.KKChanged: self._kk_changed,
            Household.IdentificationCorrected: self._identification_corrected,
            Household.MemberDetailsCorrected: self._member_corrected,
            Household.FollowUpScheduled: self._scheduled,
            Household.FollowUpRescheduled: self._rescheduled,
            Household.FollowUpCompleted: self._ended,
            Household.FollowUpCancelled: self._ended,
            Household.Graduated: self._graduated,
            Household.Closed: self._closed,
            Household.Reopened: self._reopened,
        }

    def stage(self, conn: Connection, events: Sequence[tuple[int, str, Household.Event]]) -> Staged:
        self.households = RowSet(follow_up_households, ["household_id"])
        self.follow_ups = RowSet(open_follow_ups, ["household_id", "follow_up_id"], index_groups=True)
        ids = {household_id for _, household_id, _ in events}
        self.households.load(conn, ids)
        self.follow_ups.load(conn, ids)
        rows_get = self.households.rows.get
        for _, household_id, event in events:
            if isinstance(event, Household.Registered):
                self._registered(household_id, event)
                continue
            handler = self.handlers.get(type(event))
            if handler is None:
                continue
            row = rows_get(household_id)
            if row is None:
                raise LookupError(f"{type(event).__name__} for household {household_id} before its registration")
            handler(row, event)
        return Staged(self.households, self.follow_ups)

    def _copy_to_follow_ups(self, row: dict) -> None:
        for item in self.follow_ups.in_group(row["household_id"]):
            item.update({c: row[c] for c in COPIED}, household_status=row["status"])

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
                "before_closure": None,
            }
        )

    def _kk_changed(self, row: dict, event: Household.KKChanged) -> None:
        row["kk_number"] = event.new_kk_number
        self._copy_to_follow_ups(row)

    def _identification_corrected(self, row: dict, event: Household.IdentificationCorrected) -> None:
        correct_identification(row, event.changes, self.regions)
        self._copy_to_follow_ups(row)

    def _member_corrected(self, row: dict, event: Household.MemberDetailsCorrected) -> None:
        if correct_head(row, event.nik, event.changes):
            self._copy_to_follow_ups(row)

    def _scheduled(self, row: dict, event: Household.FollowUpScheduled) -> None:
        self.follow_ups.add(
            {
                "household_id": row["household_id"],
                "follow_up_id": event.follow_up_id,
                **{c: row[c] for c in COPIED},
                "household_status": row["status"],
                "assigned_to": event.assigned_to,
                "due_on": event.due_on,
                "purpose": event.purpose,
                "scheduled_by": event.actor,
                "scheduled_at": event.timestamp,
            }
        )

    def _rescheduled(self, row: dict, event: Household.FollowUpRescheduled) -> None:
        item = self.follow_ups.get((row["household_id"], event.follow_up_id))
        item["due_on"] = event.due_on
        item["assigned_to"] = event.assigned_to

    def _ended(self, row: dict, event) -> None:
        self.follow_ups.remove(self.follow_ups.get((row["household_id"], event.follow_up_id)))

    def _graduated(self, row: dict, _event) -> None:
        row["status"] = GRADUATED
        self._copy_to_follow_ups(row)

    def _closed(self, row: dict, _event) -> None:
        row["before_closure"] = row["status"]
        row["status"] = CLOSED
        self._copy_to_follow_ups(row)

    def _reopened(self, row: dict, _event) -> None:
        row["status"] = row["before_closure"] or ACTIVE
        row["before_closure"] = None
        self._copy_to_follow_ups(row)


# -- queries ---------------------------------------------------------------------------


def _conditions(
    scope: ReadScope,
    today: date,
    *,
    status: str = "open",
    assignee: str | None = None,
    village: str | None = None,
    kecamatan: str | None = None,
    household_id: str | None = None,
) -> list:
    """The reader's scope and the filters, for the list and its count alike."""
    f = open_follow_ups
    conditions = [scope_clause(scope, f.c.village_code, f.c.kecamatan_code), f.c.household_status != CLOSED]
    if status == "overdue":
        conditions.append(f.c.due_on < today)
    elif status == "due-soon":
        conditions.append(f.c.due_on.between(today, today + timedelta(days=DUE_SOON_DAYS)))
    if assignee:
        conditions.append(f.c.assigned_to == assignee)
    if village:
        conditions.append(f.c.village_code == village)
    if kecamatan:
        conditions.append(f.c.kecamatan_code == kecamatan)
    if household_id:
        conditions.append(f.c.household_id == household_id)
    return conditions


def list_follow_ups(
    db: Engine,
    scope: ReadScope,
    *,
    today: date,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE,
    regions: RegionCatalogue | None = None,
    **filters,
) -> dict:
    """Open follow-ups, earliest due first; the ``status`` filter narrows to overdue or due soon."""
    f = open_follow_ups
    conditions = _conditions(scope, today, **filters)
    if cursor:
        due_on, after_household, after_follow_up = decode_cursor(cursor, (date, str, str))
        conditions.append(
            tuple_(f.c.due_on, f.c.household_id, f.c.follow_up_id) > tuple_(due_on, after_household, after_follow_up)
        )
    limit = max(1, min(limit, MAX_PAGE))
    statement = (
        select(f).where(*conditions).order_by(f.c.due_on, f.c.household_id, f.c.follow_up_id).limit(limit + 1)
    )
    with db.connect() as conn:
        rows = [dict(r) for r in conn.execute(statement).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows else None
    return {
        "items": [_follow_up_item(row, today, regions) for row in rows],
        "next_cursor": encode_cursor(last["due_on"], last["household_id"], last["follow_up_id"]) if more else None,
    }


def count_follow_ups(
    db: Engine,
    scope: ReadScope,
    *,
    today: date,
    **filters,
) -> int:
    """How many follow-ups ``list_follow_ups`` would page through (a dashboard's figure)."""
    conditions = _conditions(scope, today, **filters)
    with db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(open_follow_ups).where(*conditions)).scalar_one())


def _follow_up_item(row: dict, today: date, regions: RegionCatalogue | None) -> dict:
    due_on = row["due_on"]
    item = {
        "id": row["follow_up_id"],
        "household_id": row["household_id"],
        "kk_number": row["kk_number"],
        "head_name": row["head_name"],
        "village_code": row["village_code"],
        "kecamatan_code": row["kecamatan_code"],
        "assigned_to": row["assigned_to"],
        "due_on": due_on,
        "purpose": row["purpose"],
        "scheduled_by": row["scheduled_by"],
        "scheduled_at": as_utc(row["scheduled_at"]),
        "overdue": due_on < today,
        "days_overdue": max((today - due_on).days, 0),
        "due_soon": today <= due_on <= today + timedelta(days=DUE_SOON_DAYS),
    }
    if regions is not None:
        item["village_name"] = region_name(regions, row["village_code"])
    return item
