"""One reminder pass: decide what is owed today, write it down, record it, then deliver.

The order is what makes each reminder happen exactly once:

1. finish any reminder a crashed pass left written but unrecorded;
2. read open follow-ups from the read model and ask the rules what is owed;
3. drop keys already written; write the rest with their outbox rows (unique key);
4. record each on its household (the aggregate refuses a duplicate, a closed or
   rescheduled follow-up), then mark it recorded: only then may it be delivered.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import date

from service.households import Households
from service.scheduler.config import SchedulerConfig
from service.scheduler.messages import digest_text, reminder_text
from service.scheduler.outbox import NewMessage, NewReminder, Outbox, chunks
from service.scheduler.recipients import Person, RecipientDirectory
from service.scheduler.rules import (
    DIGEST,
    DueDigest,
    DueReminder,
    digests_due,
    latest_due_date_of_interest,
    reminders_due,
)
from service.scheduler.sources import FollowUpSource

log = logging.getLogger("konvergen.scheduler")


@dataclass
class PassReport:
    today: date
    open_follow_ups: int = 0
    due: int = 0
    already_written: int = 0
    enqueued: int = 0
    recorded: int = 0
    already_recorded: int = 0
    void: int = 0
    left_pending: int = 0
    unroutable: int = 0
    digests: int = 0

    def as_dict(self) -> dict:
        result = asdict(self)
        result["today"] = self.today.isoformat()
        return result


class ReminderPass:
    def __init__(
        self,
        *,
        households: Households,
        source: FollowUpSource,
        outbox: Outbox,
        config: SchedulerConfig,
    ):
        self.households = households
        self.source = source
        self.outbox = outbox
        self.config = config

    # -- reminders and escalations --------------------------------------------------

    def run(self, today: date) -> PassReport:
        report = PassReport(today)
        self.record_pending(report)
        directory = RecipientDirectory.load(self.outbox.engine)
        follow_ups = list(self.source.open_follow_ups(latest_due_date_of_interest(today, self.config)))
        report.open_follow_ups = len(follow_ups)
        due = reminders_due(today, follow_ups, self.config)
        report.due = len(due)
        known = self.outbox.known_keys(d.key for d in due)
        report.already_written = len(known)
        new = []
        for item in due:
            if item.key in known:
                continue
            reminder = self._reminder(item, directory, today)
            if reminder is None:
                report.unroutable += 1
                log.warning("%s for follow-up %s has nobody to go to", item.kind, item.follow_up.follow_up_id)
            else:
                new.append(reminder)
        for part in chunks(new, self.config.batch_size):
            report.enqueued += self.outbox.enqueue(part)
        self.record_pending(report)
        return report

    def record_pending(self, report: PassReport) -> None:
        """Records written reminders on their households, a batch per transaction,
        and settles each batch: recorded ones become deliverable, refused ones void."""
        pending = self.outbox.pending()
        for batch in chunks(pending, self.config.batch_size):
            try:
                outcomes = self.households.record_reminders(
                    [
                        {
                            "household_id": item.household_id,
                            "kind": item.kind,
                            "follow_up_id": item.subject,
                            "due_on": item.due_on,
                            "recipients": list(item.recipients),
                            "channels": list(item.channels),
                        }
                        for item in batch
                    ]
                )
            except Exception:  # noqa: BLE001 - the store is unwell: these stay pending for the next pass
                log.exception("could not record %s reminders", len(batch))
                report.left_pending += len(batch)
                continue
            recorded: list[int] = []
            void: list[tuple[int, str]] = []
            for item, outcome in zip(batch, outcomes):
                if outcome["outcome"] == "recorded":
                    recorded.append(item.id)
                    report.recorded += 1
                elif outcome["outcome"] == "already_recorded":  # a crashed pass recorded it
                    recorded.append(item.id)
                    report.already_recorded += 1
                elif outcome["outcome"] == "refused":  # done, moved or closed meanwhile
                    void.append((item.id, outcome["reason"]))
                    report.void += 1
                else:  # the household kept changing: the next pass tries again
                    report.left_pending += 1
            self.outbox.settle(recorded, void)

    def _reminder(self, item: DueReminder, directory: RecipientDirectory, today: date) -> NewReminder | None:
        follow_up = item.follow_up
        if item.to_supervisors:
            recipients = directory.supervisors_of(follow_up.kecamatan_code) or directory.administrators()
        else:
            recipients = [follow_up.assigned_to] if follow_up.assigned_to else []
        if not recipients:
            return None
        village = self.households.regions.get(follow_up.village_code)
        data = {
            "kind": item.kind,
            "household_id": follow_up.household_id,
            "follow_up_id": follow_up.follow_up_id,
            "due_on": follow_up.due_on.isoformat(),
            "assigned_to": follow_up.assigned_to,
            "village_code": follow_up.village_code,
        }
        messages = []
        for username in recipients:
            person = directory.person(username)
            title, body = reminder_text(
                item.kind,
                follow_up,
                today=today,
                village_name=village.name if village else follow_up.village_code,
                language=person.language if person else None,
            )
            for channel, address in self._channels_for(username, person):
                messages.append(NewMessage(username, channel, address, title, body, data))
        return NewReminder(
            kind=item.kind,
            subject=follow_up.follow_up_id,
            due_on=follow_up.due_on,
            household_id=follow_up.household_id,
            recipients=recipients,
            channels=sorted({m.channel for m in messages}),
            messages=messages,
        )

    def _channels_for(self, username: str, person: Person | None) -> list[tuple[str, str | None]]:
        """In-app always; email when SMTP is set up and the person has an address; the
        webhook when one is configured (the gateway maps usernames to phones)."""
        config = self.config
        channels: list[tuple[str, str | None]] = [("in_app", None)]
        if "email" in config.channels and config.smtp.configured and person and person.email:
            channels.append(("email", person.email))
        if "webhook" in config.channels and config.webhook.configured:
            channels.append(("webhook", None))
        return channels

    # -- the weekly digest ------------------------------------------------------------

    def run_digests(self, today: date) -> PassReport:
        """Each supervisor's weekly list of overdue visits; the outbox row is its record
        (a digest spans many households, so it is not an event on any one of them)."""
        report = PassReport(today)
        directory = RecipientDirectory.load(self.outbox.engine)
        follow_ups = list(self.source.open_follow_ups(today))
        report.open_follow_ups = len(follow_ups)
        due = digests_due(today, follow_ups, directory.supervisors_by_kecamatan, self.config)
        known = self.outbox.known_keys(d.key for d in due)
        new = [self._digest(d, directory) for d in due if d.key not in known]
        report.due = len(due)
        report.already_written = len(known)
        report.digests = self.outbox.enqueue(new)
        return report

    def _digest(self, digest: DueDigest, directory: RecipientDirectory) -> NewReminder:
        person = directory.person(digest.supervisor)
        kecamatan = self.households.regions.get(digest.kecamatan_code)
        title, body = digest_text(
            digest,
            kecamatan_name=kecamatan.name if kecamatan else digest.kecamatan_code,
            language=person.language if person else None,
        )
        data = {
            "kind": DIGEST,
            "kecamatan_code": digest.kecamatan_code,
            "week_of": digest.week_of.isoformat(),
            "overdue": {worker: [f.follow_up_id for f in items] for worker, items in digest.overdue_by_worker},
        }
        messages = [
            NewMessage(digest.supervisor, channel, address, title, body, data)
            for channel, address in self._channels_for(digest.supervisor, person)
        ]
        return NewReminder(
            kind=DIGEST,
            subject=digest.supervisor,
            due_on=digest.week_of,
            household_id=None,
            recipients=[digest.supervisor],
            channels=sorted({m.channel for m in messages}),
            messages=messages,
            recorded=True,
        )
