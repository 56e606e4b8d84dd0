"""Reading the event store's notification log in order, without skipping a late event.

Notification ids are the order projections apply events in. A *gap* (an id that is
not there, between ids that are) is either permanent (a write that rolled back still
used up its id) or, in principle, an event still being committed by a transaction
that took its id before a later one committed. Skipping the second kind would lose
that event forever, so a batch stops before a gap until the gap is known to be settled:

* SQLite (and the in-memory store) have a single writer at a time: an id is visible
  only after every lower one committed or rolled back, so every gap is permanent.
* PostgreSQL: the eventsourcing library takes an EXCLUSIVE lock on the events table
  for each insert, which gives the same guarantee, but ids come from a sequence, so a
  writer that bypasses that lock could commit out of order. A gap counts as settled
  once no other session holds a write lock on the events table and a second read
  still finds it empty; and, so that a busy store cannot stall the views, once it has
  been seen for ``gap_timeout`` seconds (logged as a warning).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

from eventsourcing.application import Application
from eventsourcing.utils import get_topic
from sqlalchemy import Engine, text

from domain.household import Household

log = logging.getLogger("konvergen.projections")

HOUSEHOLD_TOPIC_PREFIX = get_topic(Household) + "."
DEFAULT_GAP_TIMEOUT = 5.0


@dataclass
class Batch:
    """Consecutive notifications after a position: the household events among them,
    and the position to record once they are applied."""

    events: list[tuple[int, str, Household.Event]] = field(default_factory=list)  # (position, household id, event)
    last_position: int | None = None
    last_recorded_at: datetime | None = None
    blocked: bool = False  # stopped before a gap that may still fill


class SingleWriterGaps:
    """SQLite and the in-memory store: ids become visible in order, gaps are final."""

    def settled(self, first: int, last: int) -> bool:
        return True


class PostgresGaps:
    """A gap is final when nobody is writing to the events table and it is still empty."""

    WRITE_LOCKS = text(
        "SELECT count(*) FROM pg_locks "
        "WHERE relation = to_regclass(:table) AND pid <> pg_backend_pid() "
        "AND mode IN ('RowExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')"
    )

    def __init__(self, engine: Engine, app: Application):
        self.engine = engine
        self.recorder = app.recorder
        schema = getattr(self.recorder.datastore, "schema", "") or "public"
        self.table = f'"{schema}"."{self.recorder.events_table_name}"'

    def settled(self, first: int, last: int) -> bool:
        with self.engine.connect() as conn:
            writers = conn.execute(self.WRITE_LOCKS, {"table": self.table}).scalar()
        if writers:
            return False
        return not self.recorder.select_notifications(start=first, stop=last, limit=1)


class NotificationLog:
    """Batches of decoded household events, in notification order, gaps handled."""

    def __init__(self, app: Application, gaps, *, gap_timeout: float = DEFAULT_GAP_TIMEOUT):
        self.app = app
        self.recorder = app.recorder
        self.mapper = app.mapper
        self.gaps = gaps
        self.gap_timeout = gap_timeout
        self._gaps_seen: dict[int, float] = {}

    def head(self) -> int:
        return self.recorder.max_notification_id() or 0

    def read(self, after: int, limit: int, stop: int | None = None) -> Batch:
        notifications = self.recorder.select_notifications(start=after + 1, limit=limit, stop=stop)
        batch = Batch()
        expected = after + 1
        to_domain_event = self.mapper.to_domain_event
        for notification in notifications:
            if notification.id > expected and not self._settled(expected, notification.id - 1):
                batch.blocked = True
                break
            if notification.topic.startswith(HOUSEHOLD_TOPIC_PREFIX):
                event = to_domain_event(notification)
                batch.events.append((notification.id, str(notification.originator_id), event))
                batch.last_recorded_at = event.timestamp
            batch.last_position = notification.id
            expected = notification.id + 1
        return batch

    def recorded_at(self, position: int) -> datetime | None:
        """When the first household event after ``position`` was recorded (for lag)."""
        batch = self.read(position, limit=50)
        return batch.events[0][2].timestamp if batch.events else None

    def _settled(self, first: int, last: int) -> bool:
        if self.gaps.settled(first, last):
            self._gaps_seen.pop(first, None)
            return True
        now = time.monotonic()
        seen = self._gaps_seen.setdefault(first, now)
        if now - seen >= self.gap_timeout:
            log.warning("notification ids %s..%s still missing after %.1f s; passing them", first, last, now - seen)
            self._gaps_seen.pop(first, None)
            return True
        return False
