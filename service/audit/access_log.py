"""Who looked: an append-only log of auditors and supervisors reading histories, and of exports.

The table lives with the other SQLAlchemy tables (same database as the events). This
module only ever inserts and selects; the database itself refuses UPDATE and DELETE
with a trigger, so the log cannot be quietly edited through any other path either.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    DDL,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    event,
    insert,
    select,
)

from domain.errors import InvalidValue
from service.access import ADMIN, AUDITOR, SUPERVISOR, SYSTEM, Actor
from service.clock import Clock
from service.errors import Forbidden

HISTORY = "history"
STATE_AS_OF = "state_as_of"
DIFF = "diff"
EXPORT = "export"
REPORT = "report"
VERIFICATION = "verification"
ACTIONS = (HISTORY, STATE_AS_OF, DIFF, EXPORT, REPORT, VERIFICATION)

WATCHED_READERS = frozenset({AUDITOR, SUPERVISOR})  # whose reads of a history are logged
BROWSERS = frozenset({AUDITOR, ADMIN, SYSTEM})
MAX_PAGE = 500

metadata = MetaData()
access_log = Table(
    "audit_access_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("username", String(64), nullable=False, index=True),
    Column("role", String(32), nullable=False),
    Column("action", String(32), nullable=False),
    Column("household_id", String(36), nullable=True, index=True),
    Column("detail", Text, nullable=False, default="{}"),
)

for _action in ("UPDATE", "DELETE"):
    event.listen(
        access_log,
        "after_create",
        DDL(
            f"CREATE TRIGGER IF NOT EXISTS audit_access_log_no_{_action.lower()} BEFORE {_action} "
            "ON audit_access_log BEGIN SELECT RAISE(ABORT, 'audit_access_log is append-only'); END"
        ).execute_if(dialect="sqlite"),
    )
event.listen(
    access_log,
    "after_create",
    DDL(
        "CREATE OR REPLACE FUNCTION audit_access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit_access_log is append-only'; END $$"
    ).execute_if(dialect="postgresql"),
)
event.listen(
    access_log,
    "after_create",
    DDL(
        "CREATE OR REPLACE TRIGGER audit_access_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
        "ON audit_access_log FOR EACH STATEMENT EXECUTE FUNCTION audit_access_log_append_only()"
    ).execute_if(dialect="postgresql"),
)


@dataclass(frozen=True)
class AccessEntry:
    id: int
    at: datetime
    username: str
    role: str
    action: str
    household_id: str | None
    detail: dict

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "at": self.at,
            "username": self.username,
            "role": self.role,
            "action": self.action,
            "household_id": self.household_id,
            "detail": self.detail,
        }


class AccessLog:
    """Records and browses reads; nothing here can change an entry once written."""

    def __init__(self, engine: Engine, clock: Clock):
        self.engine = engine
        self.clock = clock
        metadata.create_all(engine)

    def record(self, actor: Actor, action: str, household_id: str | None = None, **detail: Any) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                insert(access_log).values(
                    at=self.clock.now(),
                    username=actor.username,
                    role=actor.role,
                    action=action,
                    household_id=str(household_id) if household_id else None,
                    detail=json.dumps(detail, default=str, sort_keys=True),
                )
            )

    def record_read(self, actor: Actor, action: str, household_id: str | None = None, **detail: Any) -> None:
        """Reads are logged for the roles whose looking is itself audited."""
        if actor.role in WATCHED_READERS:
            self.record(actor, action, household_id, **detail)

    def browse(
        self,
        actor: Actor,
        *,
        username: str | None = None,
        household_id: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        before_id: int | None = None,
        limit: int = 50,
    ) -> dict:
        """Newest first, keyset-paginated: pass ``next_before_id`` back for the next page."""
        if actor.role not in BROWSERS:
            raise Forbidden(f"{actor.username} ({actor.role}) may not browse the access log")
        if action is not None and action not in ACTIONS:
            raise InvalidValue("action", f"must be one of {', '.join(ACTIONS)}")
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidValue("limit", f"must be from 1 to {MAX_PAGE}")
        query = select(access_log).order_by(access_log.c.id.desc()).limit(limit + 1)
        if username:
            query = query.where(access_log.c.username == username)
        if household_id:
            query = query.where(access_log.c.household_id == str(household_id))
        if action:
            query = query.where(access_log.c.action == action)
        if since:
            query = query.where(access_log.c.at >= since.astimezone(timezone.utc))
        if until:
            query = query.where(access_log.c.at < until.astimezone(timezone.utc))
        if before_id:
            query = query.where(access_log.c.id < before_id)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        entries = [_entry(row) for row in rows[:limit]]
        return {
            "entries": [e.as_dict() for e in entries],
            "next_before_id": entries[-1].id if len(rows) > limit else None,
        }


def _entry(row) -> AccessEntry:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=timezone.utc)  # SQLite drops the zone
    return AccessEntry(row.id, at, row.username, row.role, row.action, row.household_id, json.loads(row.detail))
