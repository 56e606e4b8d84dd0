"""The scheduler's tables, in the same database as everything else.

They have their own metadata so the scheduler creates them itself (idempotently) the
first time any of its services is built, without the container knowing about them.
All times are stored as UTC and come back timezone-aware.
"""

from __future__ import annotations

import time
import weakref
from datetime import date, datetime, timezone

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

PENDING, RECORDED, VOID = "pending", "recorded", "void"  # reminder states
SENT, FAILED = "sent", "failed"  # outbox states (besides PENDING)


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC out; stored naive UTC so SQLite compares them right."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("scheduler times must be timezone-aware")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


class SchedulerBase(DeclarativeBase):
    """Tables owned by the scheduler."""


Base = SchedulerBase


class ReminderRecord(Base):
    """One reminder, escalation or digest: the idempotency key, enforced by the database.

    ``pending``: its outbox rows are written but the household event is not yet
    recorded (a crash here is finished by the next pass); ``recorded``: the event is in
    the history (digests: the row itself is the record), deliveries may go; ``void``:
    the household refused it (follow-up done or moved), nothing is delivered.
    """

    __tablename__ = "scheduler_reminders"
    __table_args__ = (
        UniqueConstraint("kind", "subject", "due_on", name="uq_scheduler_reminders_key"),
        Index("ix_scheduler_reminders_state", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(64))  # follow-up id; digests: the supervisor
    due_on: Mapped[date] = mapped_column(Date)  # digests: the Monday of the week
    household_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    recipients: Mapped[list] = mapped_column(JSON)
    channels: Mapped[list] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class OutboxMessage(Base):
    """One delivery of one reminder to one recipient over one channel."""

    __tablename__ = "scheduler_outbox"
    __table_args__ = (
        UniqueConstraint("reminder_id", "recipient", "channel", name="uq_scheduler_outbox_delivery"),
        Index("ix_scheduler_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reminder_id: Mapped[int] = mapped_column(ForeignKey("scheduler_reminders.id"))
    recipient: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(String(320), nullable=True)  # email address
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Notification(Base):
    """The in-app bell: one row per in-app delivery, read or unread."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "username", "read_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    household_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    follow_up_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("scheduler_outbox.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class UserContact(Base):
    """Where to email a user. Kept beside the users table, not in it, so existing
    databases need no migration and the scheduler owns its own data."""

    __tablename__ = "user_contacts"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(320))


class SchedulerLease(Base):
    """Who may run the jobs, until when: one row per lease name."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    acquired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class JobRun(Base):
    """The last run of each job, for `scheduler status` (APScheduler keeps only the next)."""

    __tablename__ = "scheduler_job_runs"

    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_summary: Mapped[dict | None] = mapped_column(JSON, nullable=True)


_READY: weakref.WeakSet = weakref.WeakSet()


def ensure_tables(engine: Engine) -> None:
    """Creates the scheduler's tables if missing; cheap after the first call per engine.

    Two processes starting at once may both try to create them; the loser's error
    (PostgreSQL's catalogue is not transactional about it) is retried, by which time
    the tables exist.
    """
    if engine in _READY:
        return
    for attempt in range(5):
        try:
            SchedulerBase.metadata.create_all(engine)
            break
        except DBAPIError:
            if attempt == 4:
                raise
            time.sleep(0.2 * (attempt + 1))
    _READY.add(engine)
