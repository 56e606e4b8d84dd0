"""Reading back what the CLI wrote, through the service, for the CLI tests."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from click.testing import CliRunner, Result
from eventsourcing.utils import get_topic

from domain.household import Household
from service.access import Actor
from service.cli import main
from service.container import Konvergen

READER = Actor(username="test.reader", role="admin")


def invoke(url: str, *args: str, input: str | None = None) -> Result:
    """Runs `konvergen ARGS` against the database at ``url``."""
    return CliRunner().invoke(main, list(args), input=input, env={"KONVERGEN_DATABASE_URL": url})


def error_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


@contextmanager
def opened(url: str) -> Iterator[Konvergen]:
    konvergen = Konvergen(url)
    try:
        yield konvergen
    finally:
        konvergen.close()


def registrations(konvergen: Konvergen) -> list:
    """Every Household.Registered event, in the order they were recorded."""
    app = konvergen.households
    notifications = app.recorder.select_notifications(
        start=None, limit=10**7, topics=[get_topic(Household.Registered)]
    )
    return [app.mapper.to_domain_event(n) for n in notifications]


def all_households(konvergen: Konvergen) -> list[dict]:
    return [konvergen.households.get_household(READER, event.originator_id) for event in registrations(konvergen)]
