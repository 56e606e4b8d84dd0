"""The audit trail: one row per household event, with a one-line human summary.

Rows are keyed by notification id, so each traces back to exactly one stored event;
they carry the KK as it was when the event happened. Scope follows where the
household is *now* (as for every read), through ``audit_households``.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Sequence

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Index,
    Integer,
    String,
    Table,
    Text,
    select,
)

from domain.household import Household
from projections.engine import Projection
from projections.sql import Inserts, RowSet, Staged, as_utc, decode_cursor, encode_cursor, metadata, scope_clause
from service.access import ReadScope

SUMMARY_LENGTH = 240
DEFAULT_PAGE = 50
MAX_PAGE = 500

audit_households = Table(
    "audit_households",
    metadata,
    Column("household_id", String(36), primary_key=True),
    Column("kk_number", String(16), nullable=False),
    Column("village_code", String(20), nullable=False),
    Column("kecamatan_code", String(20), nullable=True),
    # {intervention id: "programme by agency"}, so later events can name it.
    Column("interventions", JSON, nullable=False),
    Index("ix_audit_households_village", "village_code"),
    Index("ix_audit_households_kecamatan", "kecamatan_code"),
)

audit_events = Table(
    "audit_events",
    metadata,
    # INTEGER on SQLite makes the notification id the rowid itself: no second B-tree.
    Column("position", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("household_id", String(36), nullable=False),
    Column("kk_number", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("effective_on", Date, nullable=True),
    Column("source_ref", String(200), nullable=True),
    Column("summary", Text, nullable=False),
    Index("ix_audit_events_household", "household_id", "position"),
    Index("ix_audit_events_actor", "actor", "position"),
    Index("ix_audit_events_type", "event_type", "position"),
    Index("ix_audit_events_recorded", "recorded_at"),
)

# Which business date each kind of event is about ("effective date" in the trail).
EFFECTIVE_DATE = {
    Household.KKChanged: "effective_on",
    Household.MemberAdded: "joined_on",
    Household.MemberLeft: "left_on",
    Household.Categorised: "effective_on",
    Household.InterventionPlanned: "planned_on",
    Household.InterventionDelivered: "delivered_on",
    Household.FollowUpCompleted: "completed_on",
    Household.Graduated: "effective_on",
    Household.Closed: "effective_on",
}


class AuditTrail(Projection):
    name = "audit_trail"
    version = 1
    replay_cost = 8
    tables = (audit_households, audit_events)

    def stage(self, conn: Connection, events: Sequence[tuple[int, str, Household.Event]]) -> Staged:
        households = RowSet(audit_households, ["household_id"])
        households.load(conn, {household_id for _, household_id, _ in events})
        rows_get = households.rows.get
        trail = Inserts(audit_events)
        rows = trail.rows
        for position, household_id, event in events:
            kind = type(event)
            if kind is Household.Registered:
                village = event.address["village_code"]
                household = households.add(
                    {
                        "household_id": household_id,
                        "kk_number": event.kk_number,
                        "village_code": village,
                        "kecamatan_code": self.regions.kecamatan_of(village),
                        "interventions": {},
                    }
                )
            else:
                household = rows_get(household_id)
                if household is None:
                    raise LookupError(f"{kind.__name__} for household {household_id} before its registration")
            labels = household["interventions"]
            if kind is Household.InterventionPlanned:
                labels[event.intervention_id] = f"{event.programme} by {event.agency}"
            elif kind is Household.IdentificationCorrected and "address" in event.changes:
                household["village_code"] = event.changes["address"]["village_code"]
                household["kecamatan_code"] = self.regions.kecamatan_of(household["village_code"])
            effective = EFFECTIVE_DATE.get(kind)
            rows.append(
                {
                    "position": position,
                    "household_id": household_id,
                    "kk_number": household["kk_number"],
                    "version": event.originator_version,
                    "event_type": kind.__name__,
                    "actor": getattr(event, "actor", None) or "",
                    "recorded_at": event.timestamp,
                    "effective_on": getattr(event, effective, None) if effective else None,
                    "source_ref": getattr(event, "source_ref", None),
                    "summary": summarise(event, labels),
                }
            )
            if kind is Household.KKChanged:
                household["kk_number"] = event.new_kk_number
        return Staged(households, trail)


def _rupiah(value: int | None) -> str:
    return "" if value is None else ", Rp " + f"{value:,}".replace(",", ".")


def _desil(desil: int | None) -> str:
    return "" if desil is None else f" (desil {desil})"


def _humanised(name: str) -> str:
    words = re.findall(r"[A-Z][a-z]*|[a-z]+|[0-9]+", name)
    return " ".join(words).capitalize() if words else name


def _closed(e) -> str:
    duplicate = f", duplicate of KK {e.duplicate_of}" if e.duplicate_of else ""
    return f"Closed ({e.reason}{duplicate}), effective {e.effective_on.isoformat()}"


H = Household
# One line per kind of event; ``labels`` names interventions by programme and agency.
SUMMARIES = {
    H.Registered: lambda e, labels: (
        f"Registered KK {e.kk_number}, head {e.head['name']}, {1 + len(e.members)} persons, "
        f"village {e.address['village_code']}"
    ),
    H.KKChanged: lambda e, labels: f"KK changed from {e.old_kk_number} to {e.new_kk_number} ({e.reason})",
    H.IdentificationCorrected: lambda e, labels: f"Identification corrected ({', '.join(sorted(e.changes))}): {e.reason}",
    H.MemberAdded: lambda e, labels: (
        f"Member added: {e.member['name']} ({e.member.get('relationship')}), NIK {e.member['nik']}"
    ),
    H.MemberDetailsCorrected: lambda e, labels: f"Member {e.nik} corrected ({', '.join(sorted(e.changes))}): {e.reason}",
    H.MemberLeft: lambda e, labels: f"Member {e.nik} left ({e.reason}) on {e.left_on.isoformat()}",
    H.Categorised: lambda e, labels: (
        f"Categorised {e.category}{_desil(e.desil)} from {e.source}, effective {e.effective_on.isoformat()}: {e.reason}"
    ),
    H.InterventionPlanned: lambda e, labels: (
        f"Intervention planned: {e.programme} by {e.agency} for {e.planned_on.isoformat()}{_rupiah(e.value_idr)}"
    ),
    H.InterventionDelivered: lambda e, labels: (
        f"Intervention delivered: {labels.get(e.intervention_id, e.intervention_id)} "
        f"on {e.delivered_on.isoformat()}{_rupiah(e.value_idr)}"
    ),
    H.InterventionCancelled: lambda e, labels: (
        f"Intervention cancelled: {labels.get(e.intervention_id, e.intervention_id)}: {e.reason}"
    ),
    H.FollowUpScheduled: lambda e, labels: (
        f"Follow-up scheduled for {e.due_on.isoformat()}, assigned to {e.assigned_to}: {e.purpose}"
    ),
    H.FollowUpRescheduled: lambda e, labels: (
        f"Follow-up rescheduled to {e.due_on.isoformat()}, assigned to {e.assigned_to}: {e.reason}"
    ),
    H.FollowUpCompleted: lambda e, labels: f"Follow-up completed on {e.completed_on.isoformat()}: {e.outcome}",
    H.FollowUpCancelled: lambda e, labels: f"Follow-up cancelled: {e.reason}",
    H.Graduated: lambda e, labels: f"Graduated from extreme poverty, effective {e.effective_on.isoformat()}: {e.reason}",
    H.Closed: lambda e, labels: _closed(e),
    H.Reopened: lambda e, labels: f"Reopened: {e.reason}",
}


def summarise(event, interventions: dict | None = None) -> str:
    """One line an auditor can read without opening the event."""
    describe = SUMMARIES.get(type(event))
    text = describe(event, interventions or {}) if describe else _humanised(type(event).__name__)
    if len(text) > SUMMARY_LENGTH or "\n" in text or "  " in text:
        text = " ".join(text.split())
        if len(text) > SUMMARY_LENGTH:
            text = text[: SUMMARY_LENGTH - 1] + "…"
    return text


# -- queries ---------------------------------------------------------------------------


def list_audit_events(
    db: Engine,
    scope: ReadScope,
    *,
    actor: str | None = None,
    household_id: str | None = None,
    event_type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE,
) -> dict:
    """Events newest first; ``since`` inclusive, ``until`` exclusive."""
    a, h = audit_events, audit_households
    statement = select(a)
    conditions = []
    if not scope.everything:
        statement = statement.join(h, h.c.household_id == a.c.household_id)
        conditions.append(scope_clause(scope, h.c.village_code, h.c.kecamatan_code))
    if actor:
        conditions.append(a.c.actor == actor)
    if household_id:
        conditions.append(a.c.household_id == household_id)
    if event_type:
        conditions.append(a.c.event_type == event_type)
    if since:
        conditions.append(a.c.recorded_at >= _utc(since))
    if until:
        conditions.append(a.c.recorded_at < _utc(until))
    if cursor:
        (before,) = decode_cursor(cursor, (int,))
        conditions.append(a.c.position < before)
    limit = max(1, min(limit, MAX_PAGE))
    statement = statement.where(*conditions).order_by(a.c.position.desc()).limit(limit + 1)
    with db.connect() as conn:
        rows = [dict(r) for r in conn.execute(statement).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    for row in rows:
        row["recorded_at"] = as_utc(row["recorded_at"])
    return {"items": rows, "next_cursor": encode_cursor(rows[-1]["position"]) if more else None}


def _utc(moment: datetime) -> datetime:
    """Stored times are UTC; a naive bound is taken as UTC too."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def event_types() -> list[str]:
    """The event type names a filter may name."""
    return sorted(
        name for name, value in vars(Household).items() if isinstance(value, type) and issubclass(value, Household.Event) and value is not Household.Event
    )
