"""Household pages: the list (from the register projection), the case file page and
registration.

Reads go through the use cases (``get_household``, ``history``), so scope is the API's:
a household outside the reader's area is "not found".
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from markupsafe import Markup, escape

from domain.errors import DomainError, DuplicateKK, InvalidValue
from service.access import ADMIN, CASE_WORKER, SUPERVISOR, Actor
from service.api.errors import status_for
from service.audit import access_log, audit_for
from service.errors import Forbidden, HouseholdNotFound
from service.web import read_models
from service.web.filters import HouseholdFilter, area_filter
from service.web.forms import RegisterForm, attach_domain_error
from service.web.fragments import projections_position, rendered
from service.web.i18n import gettext as _
from service.web.messages import error_message
from service.web.support import (
    current_actor,
    display_names,
    konvergen,
    may_change,
    may_record_intervention,
    may_register,
)
from service.web.timeline import Names, timeline

bp = Blueprint("households", __name__, url_prefix="/households")


def reference_names() -> Names:
    k = konvergen()
    return Names(
        programmes={code: p.name for code, p in k.programmes.programmes.items()},
        agencies={code: a.name for code, a in k.programmes.agencies.items()},
        villages={r.code: r.name for r in k.regions.villages()},
        users=display_names(),
    )


def village_choices(actor: Actor, *, include: str | None = None) -> dict[str, list[tuple[str, str]]]:
    """Villages the actor may register in, grouped by kecamatan (for a select's optgroups).

    ``include`` keeps a household's current village selectable even if outside.
    """
    regions = konvergen().regions
    if actor.role == CASE_WORKER:
        codes = set(actor.villages)
    elif actor.role == SUPERVISOR and actor.kecamatan:
        codes = {v.code for v in regions.villages(actor.kecamatan)}
    elif actor.role == ADMIN:
        codes = {v.code for v in regions.villages()}
    else:
        codes = set()
    if include:
        codes.add(include)
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for code in sorted(codes):
        village = regions.get(code)
        if village is None:
            continue
        kecamatan = regions.get(village.parent_code) if village.parent_code else None
        groups[kecamatan.name if kecamatan else ""].append((code, village.name))
    return {name: sorted(items, key=lambda item: item[1]) for name, items in sorted(groups.items())}


def _group_interventions(household: dict, names: Names) -> list[dict]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for item in household["interventions"]:
        groups[item["agency"]].append(item)
    return [
        {
            "agency": code,
            "agency_name": names.agencies.get(code, code),
            "items": sorted(items, key=lambda i: (i["planned_on"], i["id"])),
            "delivered": sum(1 for i in items if i["status"] == "delivered"),
        }
        for code, items in sorted(groups.items(), key=lambda g: names.agencies.get(g[0], g[0]))
    ]


def _follow_ups(household: dict, today: date) -> list[dict]:
    rows = []
    for item in household["follow_ups"]:
        shown = item["status"]
        if shown == "open" and item["due_on"] < today:
            shown = "overdue"
        rows.append(dict(item, shown_status=shown))
    order = {"overdue": 0, "open": 1, "completed": 2, "cancelled": 3}
    return sorted(rows, key=lambda f: (order[f["shown_status"]], f["due_on"]))


@bp.route("/")
def index():
    """Search and filter the register; keyset pages ("next" carries a cursor)."""
    actor = current_actor()
    form = area_filter(HouseholdFilter)
    filters = form.values()
    cursor = request.args.get("cursor") or None
    key = (read_models.scope_of(actor), tuple(sorted(filters.items())), cursor, projections_position())
    results = rendered("household-list", key, lambda: render_template(
        "households/_results.html",
        page=read_models.households(actor, cursor=cursor, **filters),
        first_page=cursor is None,
        query_args=filters,
    ))
    if request.headers.get("HX-Target") == "results":
        return results
    return render_template("households/index.html", form=form, results=results, query_args=filters)


@bp.route("/<household_id>")
def show(household_id: str):
    k = konvergen()
    actor = current_actor()
    household = k.households.get_household(actor, household_id)
    # The page shows the whole history: auditors' and supervisors' looking is logged
    # on every view, even when the page itself comes from the fragment cache.
    audit_for(k).access_log.record_read(actor, access_log.HISTORY, household["id"], page="household")
    village = household["address"]["village_code"]
    can_change = may_change(actor, village)
    can_plan = may_record_intervention(actor, village)
    can_act_on = {
        item["id"]: may_record_intervention(actor, village, item["agency"]) for item in household["interventions"]
    }
    allowed = (can_change, can_plan, tuple(sorted(i for i, ok in can_act_on.items() if ok)))
    case_file = rendered("case-file", (household["id"], household["version"], allowed), lambda: _case_file(
        household, can_change=can_change, can_plan=can_plan, can_act_on=can_act_on))
    return render_template("households/show.html", household=household, case_file=case_file)


def _case_file(household: dict, **allowed) -> str:
    """Everything about one household at one version: rendered once per version."""
    k = konvergen()
    names = reference_names()
    history = k.households.history(current_actor(), household["id"])
    return render_template(
        "households/_case_file.html",
        household=household,
        names=names,
        interventions=_group_interventions(household, names),
        follow_ups=_follow_ups(household, k.clock.today()),
        categorisations=sorted(household["categorisations"], key=lambda c: (c["effective_on"], c["version"]), reverse=True),
        timeline=timeline(history, names),
        closed=household["status"] == "closed",
        **allowed,
    )


@bp.route("/new", methods=["GET", "POST"])
def register():
    k = konvergen()
    actor = current_actor()
    if not may_register(actor):
        raise Forbidden(f"{actor.username} ({actor.role}) may not register households")
    form = RegisterForm()
    form.village_code.choices = village_choices(actor)
    form_error = None
    status = 200
    if form.validate_on_submit():
        try:
            result = k.households.register_household(
                actor,
                kk_number=form.kk_number.data,
                head={
                    "nik": form.head_nik.data,
                    "name": form.head_name.data,
                    "sex": form.head_sex.data,
                    "birth_date": form.head_birth_date.data,
                },
                address={
                    "street": form.street.data or "",
                    "rt": form.rt.data,
                    "rw": form.rw.data,
                    "village_code": form.village_code.data,
                },
                location=form.location(),
            )
        except DuplicateKK as error:
            form.kk_number.errors = [*form.kk_number.errors, _duplicate_message(actor, error)]
            status = status_for(error)
        except InvalidValue as error:
            if not attach_domain_error(form, error):
                form_error = error_message(error)
            status = status_for(error)
        except Forbidden:
            raise
        except DomainError as error:
            form_error = error_message(error)
            status = status_for(error)
        else:
            k.wait_for(result["position"])
            flash(_("Household registered."), "success")
            return redirect(url_for("web.households.show", household_id=result["id"]))
    elif request.method == "POST":
        status = 422
    return render_template("households/register.html", form=form, form_error=form_error), status


def _duplicate_message(actor: Actor, error: DuplicateKK) -> Markup | str:
    """Says which household holds the card, with a link when the user may open it."""
    text = error_message(error)
    if not error.existing_id:
        return text
    try:
        konvergen().households.get_household(actor, error.existing_id)
    except HouseholdNotFound:
        return text
    link = url_for("web.households.show", household_id=error.existing_id)
    return Markup('{} <a href="{}">{}</a>').format(text, link, escape(_("Open that household")))
