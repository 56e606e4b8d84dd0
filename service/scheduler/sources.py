"""Where open follow-ups come from: the follow-up read model (projections, issue 3).

The scheduler does not keep its own copy of follow-ups. The read model may lag the
event store; that is safe because the household itself is the last check when a
reminder is recorded (follow-up still open, still due on that date, not yet sent).
"""

from __future__ import annotations

from datetime import date
from typing import Iterable, Iterator, Protocol

from sqlalchemy import inspect, select

from service.scheduler.rules import OpenFollowUp


class FollowUpSource(Protocol):
    def open_follow_ups(self, due_until: date) -> Iterable[OpenFollowUp]:
        """Every open follow-up due on or before ``due_until``."""


class FollowUpViewMissing(RuntimeError):
    """The follow-up view's table is not there yet: nothing can be reminded."""


class ProjectionFollowUps:
    """The ``open_follow_ups`` table of the follow-up view (``projections.follow_ups``),
    read in one streaming query bounded by due date."""

    def __init__(self, konvergen):
        self.engine = konvergen.storage.engine

    def open_follow_ups(self, due_until: date) -> Iterator[OpenFollowUp]:
        from domain.household import CLOSED
        from projections.follow_ups import open_follow_ups as table

        query = (
            select(
                table.c.household_id,
                table.c.follow_up_id,
                table.c.due_on,
                table.c.assigned_to,
                table.c.village_code,
                table.c.kecamatan_code,
                table.c.purpose,
            )
            .where(table.c.due_on <= due_until, table.c.household_status != CLOSED)
            .order_by(table.c.due_on, table.c.household_id, table.c.follow_up_id)
        )
        with self.engine.connect() as conn:
            if not inspect(conn).has_table(table.name):
                raise FollowUpViewMissing(
                    "the follow-up view has not been built yet: run `konvergen projections run` "
                    "(or `konvergen serve`, which keeps it up to date)"
                )
            for row in conn.execution_options(yield_per=5000).execute(query):
                yield OpenFollowUp(*row)
