"""The scheduler's services for one Konvergen: what jobs, the CLI and the API call."""

from __future__ import annotations

import weakref
from datetime import date

from service.container import Konvergen
from service.scheduler.channels import EmailChannel, InAppChannel, WebhookChannel
from service.scheduler.config import SchedulerConfig, load_config
from service.scheduler.notifications import NotificationCenter
from service.scheduler.outbox import DeliveryReport, Outbox
from service.scheduler.reminders import PassReport, ReminderPass
from service.scheduler.sources import FollowUpSource


def default_channels(config: SchedulerConfig) -> dict:
    channels: dict = {InAppChannel.name: InAppChannel()}
    if config.smtp.configured:
        channels[EmailChannel.name] = EmailChannel(config.smtp)
    if config.webhook.configured:
        channels[WebhookChannel.name] = WebhookChannel(config.webhook)
    return channels


def default_source(konvergen: Konvergen) -> FollowUpSource:
    """The follow-up read model of the projections (issue 3)."""
    from service.scheduler.sources import ProjectionFollowUps

    return ProjectionFollowUps(konvergen)


class Scheduler:
    def __init__(
        self,
        konvergen: Konvergen,
        config: SchedulerConfig | None = None,
        *,
        source: FollowUpSource | None = None,
        channels: dict | None = None,
    ):
        self.konvergen = konvergen
        self.config = config or load_config()
        engine = konvergen.storage.engine
        self.outbox = Outbox(engine, konvergen.clock, self.config, channels or default_channels(self.config))
        self.notifications = NotificationCenter(engine, konvergen.clock)
        self.source = source or default_source(konvergen)
        self.reminders = ReminderPass(
            households=konvergen.households, source=self.source, outbox=self.outbox, config=self.config
        )

    @property
    def engine(self):
        return self.konvergen.storage.engine

    def today(self) -> date:
        """The date in WIB, from the service's (injectable) clock."""
        return self.konvergen.clock.today()

    def run_reminders(self, today: date | None = None) -> PassReport:
        return self.reminders.run(today or self.today())

    def run_digests(self, today: date | None = None) -> PassReport:
        return self.reminders.run_digests(today or self.today())

    def deliver(self) -> DeliveryReport:
        return self.outbox.deliver()

    def tick(self, today: date | None = None) -> dict:
        """Everything once, now: reminders, the digest if it is owed, deliveries."""
        today = today or self.today()
        reminders = self.run_reminders(today)
        digests = self.run_digests(today)
        deliveries = self.deliver()
        return {"reminders": reminders.as_dict(), "digests": digests.as_dict(), "deliveries": deliveries.as_dict()}


_notification_centers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def notifications_for(konvergen: Konvergen) -> NotificationCenter:
    """The bell's service for this Konvergen (built once): ``unread_count(username)``,
    ``list_notifications(username)``, ``mark_read(username, ids)``."""
    center = _notification_centers.get(konvergen)
    if center is None:
        center = _notification_centers[konvergen] = NotificationCenter(konvergen.storage.engine, konvergen.clock)
    return center
