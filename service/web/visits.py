"""Kunjungan saya: the signed-in worker's overdue, due-today and upcoming visits.

Supervisors (and administrators) also see the overdue visits of their whole area,
grouped by the worker they are assigned to, so they know whom to call.
Overdue is decided at query time from today's date (the follow-up projection never
stores it).
"""

from __future__ import annotations

from collections import defaultdict
from itertools import islice

from flask import Blueprint, render_template

from service.access import ADMIN, SUPERVISOR
from service.errors import Forbidden
from service.web import read_models
from service.web.support import current_actor, display_names, has_visits, konvergen

bp = Blueprint("visits", __name__, url_prefix="/visits")

MY_VISITS_LIMIT = 200
AREA_OVERDUE_LIMIT = 1000


def _my_visits(actor) -> dict:
    today = konvergen().clock.today()
    page = read_models.follow_ups(actor, status="open", assignee=actor.username, limit=MY_VISITS_LIMIT)
    groups = {"overdue": [], "today": [], "upcoming": []}
    for item in page["items"]:
        if item["due_on"] < today:
            groups["overdue"].append(item)
        elif item["due_on"] == today:
            groups["today"].append(item)
        else:
            groups["upcoming"].append(item)
    return {"groups": groups, "more": page["next_cursor"] is not None}


def _area_overdue_by_worker(actor) -> dict:
    """The area's overdue visits by assignee, most overdue workers first."""
    items = list(islice(read_models.all_follow_ups(actor, status="overdue"), AREA_OVERDUE_LIMIT + 1))
    truncated = len(items) > AREA_OVERDUE_LIMIT
    by_worker: dict[str, list[dict]] = defaultdict(list)
    for item in items[:AREA_OVERDUE_LIMIT]:
        by_worker[item["assigned_to"]].append(item)
    names = display_names()
    workers = [
        {"username": username, "name": names.get(username, username), "items": visits,
         "oldest": max(v["days_overdue"] for v in visits)}
        for username, visits in by_worker.items()
    ]
    workers.sort(key=lambda w: (-len(w["items"]), w["name"]))
    return {"workers": workers, "total": min(len(items), AREA_OVERDUE_LIMIT), "truncated": truncated}


@bp.route("/")
def index():
    actor = current_actor()
    if not has_visits(actor):
        raise Forbidden(f"{actor.username} ({actor.role}) has no visits")
    area = _area_overdue_by_worker(actor) if actor.role in (SUPERVISOR, ADMIN) else None
    return render_template(
        "visits/index.html",
        mine=_my_visits(actor),
        area=area,
        today=konvergen().clock.today(),
    )
