"""The web UI's one door to the projections (read models).

Lists, the dashboard, the visits page and the exports read through the projections'
``ReadModels`` (never from the event store). It applies the reader's ``ReadScope``,
so a case worker's list, figures and downloads only ever contain their villages.
"""

from __future__ import annotations

from typing import Iterator

from projections.read_models import ReadModels
from service.access import Actor
from service.exporting.views import every_page
from service.web.support import konvergen

PAGE = 25  # a phone screen or two; the next page is one tap (keyset cursor)
EXPORT_PAGE = 200


def _views() -> ReadModels:
    return ReadModels(konvergen())


def households(actor: Actor, *, cursor: str | None = None, limit: int = PAGE, **filters) -> dict:
    return _views().households(actor, cursor=cursor, limit=limit, **filters)


def all_households(actor: Actor, **filters) -> Iterator[dict]:
    """Every matching register row, page by page (for exports)."""
    return every_page(lambda **page: households(actor, **page, **filters), limit=EXPORT_PAGE)


def summary(actor: Actor, *, kecamatan: str | None = None, village: str | None = None) -> dict:
    return _views().monitoring_summary(actor, kecamatan=kecamatan, village=village)


def follow_ups(actor: Actor, *, status: str = "open", cursor: str | None = None, limit: int = PAGE, **filters) -> dict:
    return _views().follow_ups(actor, status=status, cursor=cursor, limit=limit, **filters)


def overdue_count(actor: Actor, *, kecamatan: str | None = None, village: str | None = None) -> int:
    """How many open follow-ups in view are past their due date (the dashboard's figure)."""
    return _views().count_follow_ups(actor, status="overdue", kecamatan=kecamatan, village=village)


def scope_of(actor: Actor):
    return konvergen().households.access.read_scope(actor)


def all_follow_ups(actor: Actor, *, status: str = "open", **filters) -> Iterator[dict]:
    return every_page(lambda **page: follow_ups(actor, status=status, **page, **filters), limit=EXPORT_PAGE)


def map_points(actor: Actor, **filters) -> dict:
    """Households with coordinates, from the register view: ``{"items": [...], "truncated"}``."""
    return _views().map_points(actor, **filters)
