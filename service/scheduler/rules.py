"""Which reminders, escalations and digests are due on a given day: pure decisions.

Nothing here reads a clock or a database: the caller passes "today" (the date in WIB)
and the open follow-ups, so the same inputs always give the same answer. Each rule is
a window rather than a single day, so a pass that was missed (the server was down)
still sends what is owed on the next day it runs; the idempotency key, enforced by
the stores, keeps the window from sending anything twice.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable, Mapping

from service.scheduler.config import SchedulerConfig

BEFORE, DUE, OVERDUE, ESCALATION = "reminder_before", "reminder_due", "reminder_overdue", "escalation"
DIGEST = "weekly_digest"
KINDS = (BEFORE, DUE, OVERDUE, ESCALATION)


@dataclass(frozen=True)
class OpenFollowUp:
    """One open follow-up as the read model shows it (it may lag the event store)."""

    household_id: str
    follow_up_id: str
    due_on: date
    assigned_to: str
    village_code: str
    kecamatan_code: str | None
    purpose: str = ""


@dataclass(frozen=True)
class DueReminder:
    """A reminder (to the assignee) or an escalation (to the kecamatan's supervisors)."""

    kind: str
    follow_up: OpenFollowUp

    @property
    def key(self) -> tuple[str, str, date]:
        """The idempotency key: one of each kind per follow-up and due date."""
        return (self.kind, self.follow_up.follow_up_id, self.follow_up.due_on)

    @property
    def to_supervisors(self) -> bool:
        return self.kind == ESCALATION


@dataclass(frozen=True)
class DueDigest:
    """A supervisor's weekly list of their kecamatan's overdue visits, by worker."""

    supervisor: str
    kecamatan_code: str
    week_of: date  # the Monday of the ISO week
    overdue_by_worker: tuple[tuple[str, tuple[OpenFollowUp, ...]], ...]

    @property
    def key(self) -> tuple[str, str, date]:
        return (DIGEST, self.supervisor, self.week_of)

    @property
    def overdue_count(self) -> int:
        return sum(len(items) for _worker, items in self.overdue_by_worker)


def latest_due_date_of_interest(today: date, rules: SchedulerConfig) -> date:
    """Follow-ups due after this date owe nothing yet: the read model query's bound."""
    return today + timedelta(days=rules.remind_days_before)


def kinds_due(today: date, due_on: date, rules: SchedulerConfig) -> list[str]:
    """The kinds owed today for a follow-up due on ``due_on``."""
    kinds = []
    if rules.remind_days_before and due_on - timedelta(days=rules.remind_days_before) <= today < due_on:
        kinds.append(BEFORE)
    if rules.remind_on_due_date and today == due_on:
        kinds.append(DUE)
    if rules.remind_when_overdue and today > due_on:
        kinds.append(OVERDUE)
    if today >= due_on + timedelta(days=rules.escalate_after_days):
        kinds.append(ESCALATION)
    return kinds


def reminders_due(today: date, follow_ups: Iterable[OpenFollowUp], rules: SchedulerConfig) -> list[DueReminder]:
    """Every reminder and escalation owed today, before removing those already sent."""
    due = []
    for follow_up in follow_ups:
        for kind in kinds_due(today, follow_up.due_on, rules):
            due.append(DueReminder(kind, follow_up))
    return due


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def digests_due(
    today: date,
    follow_ups: Iterable[OpenFollowUp],
    supervisors_by_kecamatan: Mapping[str, Iterable[str]],
    rules: SchedulerConfig,
) -> list[DueDigest]:
    """From the digest weekday to the end of that week, each supervisor is owed one
    digest of the overdue visits in their kecamatan; none when nothing is overdue."""
    if today.weekday() < rules.digest_weekday_number:
        return []
    overdue: dict[str, dict[str, list[OpenFollowUp]]] = defaultdict(lambda: defaultdict(list))
    for follow_up in follow_ups:
        if follow_up.due_on < today and follow_up.kecamatan_code:
            overdue[follow_up.kecamatan_code][follow_up.assigned_to].append(follow_up)
    digests = []
    for kecamatan_code in sorted(overdue):
        by_worker = tuple(
            (worker, tuple(sorted(items, key=lambda f: (f.due_on, f.follow_up_id))))
            for worker, items in sorted(overdue[kecamatan_code].items())
        )
        for supervisor in sorted(set(supervisors_by_kecamatan.get(kecamatan_code, ()))):
            digests.append(DueDigest(supervisor, kecamatan_code, week_of(today), by_worker))
    return digests
