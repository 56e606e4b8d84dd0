"""The web UI's one door to the projections (read models).

Lists, the dashboard, the visits page and the exports read through the projections'
``ReadModels`` (never from the event store). It applies the reader's ``ReadScope``,
so a case worker's list, figures and downloads only ever contain their villages.
"""

from __future__ import annotations

from typing import Iterator

from sqlalchemy import func, select

from domain.household import CLOSED
from projections.follow_ups import open_follow_ups
from projections.read_models import ReadModels
from projections.sql import scope_clause
from service.access import Actor
from service.web.support import konvergen

PAGE = 25  # a phone screen or two; the next page is one tap (keyset cursor)
EXPORT_PAGE = 200


def _views() -> ReadModels:
    return ReadModels(konvergen())


def households(actor: Actor, *, cursor: str | None = None, limit: int = PAGE, **filters) -> dict:
    return _views().households(actor, cursor=cursor, limit=limit, **filters)


def all_households(actor: Actor, **filters) -> Iterator[dict]:
    """Every matching register row, page by page (for exports)."""
    cursor = None
    while True:
        page = households(actor, cursor=cursor, limit=EXPORT_PAGE, **filters)
        yield from page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return


def summary(actor: Actor, *, kecamatan: str | None = None, village: str | None = None) -> dict:
    return _views().monitoring_summary(actor, kecamatan=kecamatan, village=village)


def follow_ups(actor: Actor, *, status: str = "open", cursor: str | None = None, limit: int = PAGE, **filters) -> dict:
    return _views().follow_ups(actor, status=status, cursor=cursor, limit=limit, **filters)


def overdue_count(actor: Actor, *, kecamatan: str | None = None, village: str | None = None) -> int:
    """How many open follow-ups in view are past their due date (the dashboard's figure).

    The same rows ``list_follow_ups(status="overdue")`` pages through, counted in SQL.
    TODO for the projections: offer this as ``ReadModels.count_follow_ups``.
    """
    f = open_follow_ups
    k = konvergen()
    conditions = [
        scope_clause(scope_of(actor), f.c.village_code, f.c.kecamatan_code),
        f.c.household_status != CLOSED,
        f.c.due_on < k.clock.today(),
    ]
    if kecamatan:
        conditions.append(f.c.kecamatan_code == kecamatan)
    if village:
        conditions.append(f.c.village_code == village)
    with k.storage.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(f).where(*conditions)).scalar_one())


def scope_of(actor: Actor):
    return konvergen().households.access.read_scope(actor)


def all_follow_ups(actor: Actor, *, status: str = "open", **filters) -> Iterator[dict]:
    cursor = None
    while True:
        page = follow_ups(actor, status=status, cursor=cursor, limit=EXPORT_PAGE, **filters)
        yield from page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return


def map_points(actor: Actor, *, limit: int, **filters) -> dict:
    """Households with coordinates: ``{"items": [{id, lat, lon, category, head_name}], "truncated"}``.

    The register projection keeps no coordinates, so this reads each listed household
    through the ``get_household`` use case (scope included): correct, but one load per
    point, hence the low ``limit``. It belongs in the projections as a query over
    stored coordinates; then the map can show a whole kabupaten at once.
    """
    households = konvergen().households
    items: list[dict] = []
    for row in all_households(actor, **filters):
        if len(items) >= limit:
            return {"items": items, "truncated": True}
        location = households.get_household(actor, row["id"])["location"]
        if location:
            items.append({"id": row["id"], "lat": location["lat"], "lon": location["lon"],
                          "category": row["category"], "head_name": row["head_name"]})
    return {"items": items, "truncated": False}
