"""The in-app bell: what a user has been told, and what they have read.

Every function is scoped to one username: a user reads and marks only their own.
"""

from __future__ import annotations

from sqlalchemy import Engine, func, select, update

from service.clock import Clock
from service.scheduler.tables import Notification, ensure_tables

notifications_t = Notification.__table__
MAX_PAGE = 200


class NotificationCenter:
    def __init__(self, engine: Engine, clock: Clock):
        ensure_tables(engine)
        self.engine = engine
        self.clock = clock

    def unread_count(self, username: str) -> int:
        with self.engine.connect() as conn:
            return conn.execute(
                select(func.count()).where(notifications_t.c.username == username, notifications_t.c.read_at.is_(None))
            ).scalar_one()

    def list_notifications(
        self, username: str, *, unread_only: bool = False, limit: int = 50, before_id: int | None = None
    ) -> list[dict]:
        """Newest first; page with ``before_id`` (the last id of the previous page)."""
        query = select(notifications_t).where(notifications_t.c.username == username)
        if unread_only:
            query = query.where(notifications_t.c.read_at.is_(None))
        if before_id is not None:
            query = query.where(notifications_t.c.id < before_id)
        query = query.order_by(notifications_t.c.id.desc()).limit(max(1, min(limit, MAX_PAGE)))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            {
                "id": row.id,
                "kind": row.kind,
                "title": row.title,
                "body": row.body,
                "household_id": row.household_id,
                "follow_up_id": row.follow_up_id,
                "created_at": row.created_at,
                "read": row.read_at is not None,
                "read_at": row.read_at,
            }
            for row in rows
        ]

    def mark_read(self, username: str, ids: list[int] | None = None) -> int:
        """Marks the given notifications (all unread ones when ``ids`` is None) read;
        answers how many changed. Ids of other users' notifications change nothing."""
        statement = update(notifications_t).where(
            notifications_t.c.username == username, notifications_t.c.read_at.is_(None)
        )
        if ids is not None:
            if not ids:
                return 0
            statement = statement.where(notifications_t.c.id.in_(ids))
        with self.engine.begin() as conn:
            return conn.execute(statement.values(read_at=self.clock.now())).rowcount
