"""The outbox: reminders written down before anything is sent, delivered after.

A pass first writes the reminder (its idempotency key, unique in the database) and one
outbox row per recipient and channel, in one transaction; then records the event on
the household; then marks the reminder recorded. Only recorded reminders are
delivered. A crash at any point leaves a row that the next pass finishes, so nothing
is lost, and the unique key means nothing is enqueued twice. Delivery failures are
retried with exponential backoff until ``max_attempts``, then kept as ``failed`` for
an administrator to see and retry.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Iterable, Iterator, Sequence

from sqlalchemy import Engine, and_, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from service.clock import Clock
from service.scheduler.channels import DeliveryError, InAppChannel
from service.scheduler.config import SchedulerConfig
from service.scheduler.tables import (
    FAILED,
    PENDING,
    RECORDED,
    SENT,
    VOID,
    OutboxMessage,
    ReminderRecord,
    ensure_tables,
)

log = logging.getLogger("konvergen.scheduler")

reminders_t = ReminderRecord.__table__
outbox_t = OutboxMessage.__table__
CLAIM_SECONDS = 300  # longer than any channel's timeout: a crashed sender's rows come back
CHUNK = 500


@dataclass(frozen=True)
class NewMessage:
    recipient: str
    channel: str
    address: str | None
    title: str
    body: str
    data: dict


@dataclass(frozen=True)
class NewReminder:
    kind: str
    subject: str  # the follow-up id; for a digest, the supervisor
    due_on: date
    household_id: str | None
    recipients: list[str]
    channels: list[str]
    messages: list[NewMessage]
    recorded: bool = False  # digests: the row is the record, there is no household event

    @property
    def key(self) -> tuple[str, str, date]:
        return (self.kind, self.subject, self.due_on)


@dataclass(frozen=True)
class PendingReminder:
    id: int
    kind: str
    subject: str
    due_on: date
    household_id: str | None
    recipients: list[str]
    channels: list[str]


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"sent": self.sent, "retried": self.retried, "failed": self.failed}


def chunks(items: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Outbox:
    def __init__(self, engine: Engine, clock: Clock, config: SchedulerConfig, channels: dict | None = None):
        ensure_tables(engine)
        self.engine = engine
        self.clock = clock
        self.config = config
        self.channels = channels if channels is not None else {"in_app": InAppChannel()}

    # -- writing reminders ----------------------------------------------------------

    def known_keys(self, keys: Iterable[tuple[str, str, date]]) -> set[tuple[str, str, date]]:
        """Which of these keys are already written (pending or recorded; a void one may
        apply again, say after a follow-up is moved back to that date)."""
        wanted = set(keys)
        subjects = sorted({subject for _kind, subject, _due in wanted})
        found: set = set()
        with self.engine.connect() as conn:
            for part in chunks(subjects):
                rows = conn.execute(
                    select(reminders_t.c.kind, reminders_t.c.subject, reminders_t.c.due_on).where(
                        reminders_t.c.subject.in_(part), reminders_t.c.state != VOID
                    )
                )
                found.update(tuple(row) for row in rows)
        return found & wanted

    def enqueue(self, reminders: Sequence[NewReminder]) -> int:
        """Writes the reminders not yet known, with their outbox rows; answers how many.

        A key another process wrote first is skipped (ON CONFLICT), so two passes racing
        each enqueue a reminder once between them; a void one is written anew.
        """
        if not reminders:
            return 0
        now = self.clock.now()
        # One order for every writer, so two passes inserting the same keys wait on
        # each other instead of deadlocking (PostgreSQL locks each new key it inserts).
        by_key = {r.key: r for r in sorted(reminders, key=lambda r: r.key)}
        with self.engine.begin() as conn:
            statement = _insert_new_or_revive_void(conn.dialect.name).returning(
                reminders_t.c.id, reminders_t.c.kind, reminders_t.c.subject, reminders_t.c.due_on
            )
            inserted = conn.execute(
                statement,
                [
                    {
                        "kind": r.kind,
                        "subject": r.subject,
                        "due_on": r.due_on,
                        "household_id": r.household_id,
                        "recipients": r.recipients,
                        "channels": r.channels,
                        "state": RECORDED if r.recorded else PENDING,
                        "created_at": now,
                        "settled_at": now if r.recorded else None,
                    }
                    for r in by_key.values()
                ],
            ).all()
            rows = []
            for reminder_id, kind, subject, due_on in inserted:
                for message in by_key[(kind, subject, due_on)].messages:
                    rows.append(
                        {
                            "reminder_id": reminder_id,
                            "recipient": message.recipient,
                            "channel": message.channel,
                            "address": message.address,
                            "title": message.title,
                            "body": message.body,
                            "data": message.data,
                            "status": PENDING,
                            "attempts": 0,
                            "next_attempt_at": now,
                            "created_at": now,
                        }
                    )
            if rows:
                conn.execute(insert(outbox_t), rows)
        return len(inserted)

    def pending(self, limit: int = 10_000) -> list[PendingReminder]:
        """Reminders written but not yet recorded on their household, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    reminders_t.c.id,
                    reminders_t.c.kind,
                    reminders_t.c.subject,
                    reminders_t.c.due_on,
                    reminders_t.c.household_id,
                    reminders_t.c.recipients,
                    reminders_t.c.channels,
                )
                .where(reminders_t.c.state == PENDING)
                .order_by(reminders_t.c.id)
                .limit(limit)
            ).all()
        return [PendingReminder(*row) for row in rows]

    def settle(self, recorded: Sequence[int] = (), void: Sequence[tuple[int, str]] = ()) -> None:
        """Pending reminders become recorded (deliverable) or void (never delivered)."""
        if not recorded and not void:
            return
        now = self.clock.now()
        with self.engine.begin() as conn:
            for part in chunks(list(recorded)):
                conn.execute(
                    update(reminders_t)
                    .where(reminders_t.c.id.in_(part), reminders_t.c.state == PENDING)
                    .values(state=RECORDED, settled_at=now)
                )
            for reminder_id, note in void:
                voided = conn.execute(
                    update(reminders_t)
                    .where(reminders_t.c.id == reminder_id, reminders_t.c.state == PENDING)
                    .values(state=VOID, settled_at=now, note=note[:2000])
                ).rowcount
                if voided:  # never delivered; a revived reminder writes its own rows
                    conn.execute(delete(outbox_t).where(outbox_t.c.reminder_id == reminder_id))

    # -- delivering ---------------------------------------------------------------

    def deliver(self, round_size: int = 5000) -> DeliveryReport:
        """Sends what is due: recorded reminders' pending rows whose retry time has come,
        in rounds until none is left (a failed row waits for its retry time)."""
        report = DeliveryReport()
        while self._deliver_round(round_size, report) == round_size:
            pass
        return report

    def _deliver_round(self, limit: int, report: DeliveryReport) -> int:
        now = self.clock.now()
        with self.engine.connect() as conn:
            due = conn.execute(
                select(outbox_t.c.id, outbox_t.c.channel)
                .join(reminders_t, reminders_t.c.id == outbox_t.c.reminder_id)
                .where(
                    reminders_t.c.state == RECORDED,
                    outbox_t.c.status == PENDING,
                    outbox_t.c.next_attempt_at <= now,
                    or_(outbox_t.c.claimed_until.is_(None), outbox_t.c.claimed_until < now),
                )
                .order_by(outbox_t.c.id)
                .limit(limit)
            ).all()
        in_app = [row.id for row in due if row.channel == InAppChannel.name]
        for part in chunks(in_app):
            report.sent += self._deliver_in_app(part, now)
        for row in due:
            if row.channel != InAppChannel.name:
                self._deliver_one(row.id, row.channel, now, report)
        return len(due)

    def _deliver_in_app(self, ids: Sequence[int], now: datetime) -> int:
        """Marks the rows sent and writes their notifications in one transaction: once."""
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(outbox_t)
                .where(outbox_t.c.id.in_(ids), outbox_t.c.status == PENDING)
                .values(status=SENT, sent_at=now, attempts=outbox_t.c.attempts + 1, claimed_until=None)
                .returning(outbox_t.c.id)
            ).scalars().all()
            if taken:
                messages = conn.execute(select(outbox_t).where(outbox_t.c.id.in_(taken))).all()
                self.channels[InAppChannel.name].add(conn, messages, now)
        return len(taken)

    def _deliver_one(self, outbox_id: int, channel_name: str, now: datetime, report: DeliveryReport) -> None:
        """Claims the row (so no other sender takes it), sends, then marks it."""
        with self.engine.begin() as conn:
            claimed = conn.execute(
                update(outbox_t)
                .where(
                    outbox_t.c.id == outbox_id,
                    outbox_t.c.status == PENDING,
                    or_(outbox_t.c.claimed_until.is_(None), outbox_t.c.claimed_until < now),
                )
                .values(claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
            ).rowcount
        if claimed != 1:
            return
        with self.engine.connect() as conn:
            message = conn.execute(select(outbox_t).where(outbox_t.c.id == outbox_id)).one()
        channel = self.channels.get(channel_name)
        try:
            if channel is None:
                raise DeliveryError(f"channel {channel_name} is not configured in this process")
            channel.send(message, now)
        except Exception as error:  # any channel failure is retried, never lost
            self._record_failure(message, error, now, report)
            return
        with self.engine.begin() as conn:
            conn.execute(
                update(outbox_t)
                .where(outbox_t.c.id == outbox_id)
                .values(status=SENT, sent_at=now, attempts=outbox_t.c.attempts + 1, claimed_until=None, last_error=None)
            )
        report.sent += 1

    def _record_failure(self, message, error: Exception, now: datetime, report: DeliveryReport) -> None:
        attempts = message.attempts + 1
        text = str(error) if isinstance(error, DeliveryError) else f"{type(error).__name__}: {error}"
        values = {"attempts": attempts, "claimed_until": None, "last_error": text[:2000]}
        if attempts >= self.config.max_attempts:
            values["status"] = FAILED
            report.failed += 1
            log.error("delivery %s (%s to %s) failed for good: %s", message.id, message.channel, message.recipient, text)
        else:
            values["next_attempt_at"] = now + timedelta(seconds=self.config.backoff_seconds(attempts))
            report.retried += 1
            log.warning("delivery %s (%s to %s) failed, attempt %s: %s", message.id, message.channel, message.recipient, attempts, text)
        report.errors.append(text)
        with self.engine.begin() as conn:
            conn.execute(update(outbox_t).where(outbox_t.c.id == message.id).values(**values))

    def retry_failed(self) -> int:
        """An administrator's second chance for deliveries that ran out of attempts."""
        with self.engine.begin() as conn:
            return conn.execute(
                update(outbox_t)
                .where(outbox_t.c.status == FAILED)
                .values(status=PENDING, attempts=0, next_attempt_at=self.clock.now(), claimed_until=None)
            ).rowcount

    # -- what administrators see -----------------------------------------------------

    def counts(self) -> dict:
        with self.engine.connect() as conn:
            deliveries = conn.execute(
                select(outbox_t.c.channel, outbox_t.c.status, func.count(), func.sum(outbox_t.c.attempts))
                .group_by(outbox_t.c.channel, outbox_t.c.status)
            ).all()
            retrying = conn.execute(
                select(func.count()).where(outbox_t.c.status == PENDING, outbox_t.c.attempts > 0)
            ).scalar_one()
            reminders = conn.execute(
                select(reminders_t.c.state, func.count()).group_by(reminders_t.c.state)
            ).all()
        by_status = {PENDING: 0, SENT: 0, FAILED: 0}
        by_channel: dict[str, dict] = {}
        for channel, status, count, _attempts in deliveries:
            by_status[status] = by_status.get(status, 0) + count
            by_channel.setdefault(channel, {PENDING: 0, SENT: 0, FAILED: 0})[status] = count
        return {
            "deliveries": dict(by_status, retrying=retrying),
            "by_channel": by_channel,
            "reminders": {state: count for state, count in reminders},
        }

    def recent_failures(self, limit: int = 20) -> list[dict]:
        """Failed deliveries and ones waiting to be retried, newest problem first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(outbox_t)
                .where(or_(outbox_t.c.status == FAILED, and_(outbox_t.c.status == PENDING, outbox_t.c.attempts > 0)))
                .order_by(outbox_t.c.id.desc())
                .limit(limit)
            ).all()
        return [
            {
                "id": row.id,
                "recipient": row.recipient,
                "channel": row.channel,
                "status": row.status,
                "attempts": row.attempts,
                "next_attempt_at": row.next_attempt_at if row.status == PENDING else None,
                "last_error": row.last_error,
                "title": row.title,
            }
            for row in rows
        ]


def _insert_new_or_revive_void(dialect: str):
    """INSERT, or on a key already written: nothing, unless that one is void."""
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(reminders_t)
    revived = ("household_id", "recipients", "channels", "state", "created_at", "settled_at")
    return statement.on_conflict_do_update(
        index_elements=["kind", "subject", "due_on"],
        set_={**{c: statement.excluded[c] for c in revived}, "note": None},
        where=reminders_t.c.state == VOID,
    )
