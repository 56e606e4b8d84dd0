"""Follow-up reminders and escalations, each sent once, recorded on the household and
delivered through an outbox (issue 6). Start with ``start_scheduler(konvergen)`` inside
a serving process, or `konvergen scheduler run` as a process of its own."""

from service.scheduler.config import SchedulerConfig, SchedulerConfigError, load_config
from service.scheduler.runner import SchedulerRunner, scheduler_status, start_scheduler
from service.scheduler.wiring import Scheduler, notifications_for

__all__ = [
    "Scheduler",
    "SchedulerConfig",
    "SchedulerConfigError",
    "SchedulerRunner",
    "load_config",
    "notifications_for",
    "scheduler_status",
    "start_scheduler",
]
