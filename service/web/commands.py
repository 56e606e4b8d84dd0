"""A form for every command of the case file, all handled the same way.

Each ``Command`` says which form it shows, who may use it, how the form's values become
a use-case call and what to say afterwards. One view runs them all:

* GET shows the form filled from the household, carrying the version it was read at;
* POST validates the shape, calls the use case with ``expected_version``;
* a field the domain refuses gets its message next to it, the input is kept;
* if the household changed meanwhile (``VersionConflict``) the page lists what changed
  since the user's version and lets them send again, now based on the new version;
* success waits for the projections to catch up (read your writes), flashes a message
  and returns to the household page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from domain.errors import DomainError, InvalidValue
from domain.household import CATEGORIES, CLOSURE_REASONS, DEPARTURE_REASONS, HEAD, KK_CHANGE_REASONS, SOURCES
from domain.identity import RELATIONSHIPS
from domain.reference import STRATEGIES
from service.access import AGENCY_OFFICER, CASE_WORKER, SUPERVISOR, Actor
from service.api.errors import status_for
from service.errors import Forbidden, VersionConflict
from service.households import Households
from service.web import forms as f
from service.web.households import reference_names, village_choices
from service.web.i18n import lazy_gettext as _l
from service.web.labels import choices
from service.web.messages import error_message
from service.web.support import current_actor, konvergen, may_change, may_record_intervention
from service.web.timeline import timeline

bp = Blueprint("commands", __name__, url_prefix="/households/<household_id>")

Run = Callable[[Households, Actor, str, Any, str | None], dict]


@dataclass(frozen=True)
class Command:
    name: str
    rule: str
    form: type[f.VersionedForm]
    title: Any
    done: Any
    run: Run
    item: str | None = None  # "member", "intervention" or "follow_up": the thing acted on
    anchor: str = ""
    agency_command: bool = False  # agency officers may use it for their agency
    danger: bool = False
    prefill: Callable[[dict, dict | None, date, Actor], dict] = field(default=lambda h, i, today, a: {})
    setup: Callable[[Any, dict, dict | None, Actor], None] = field(default=lambda form, h, i, a: None)


# -- choices ---------------------------------------------------------------------------


def _relationships(include_head: bool):
    return choices("relationship", [r for r in RELATIONSHIPS if (r == HEAD) == include_head])


def _assignees(household: dict, current: str | None, actor: Actor) -> list[tuple[str, str]]:
    """Case workers of the household's village and supervisors of its kecamatan."""
    village = household["address"]["village_code"]
    kecamatan = household["address"]["kecamatan_code"]
    options = []
    for user in konvergen().users.list_users():
        covers = (user["role"] == CASE_WORKER and village in user["villages"]) or (
            user["role"] == SUPERVISOR and user["kecamatan"] == kecamatan
        )
        if covers or user["username"] in (current, actor.username):
            options.append((user["username"], f'{user["display_name"]} ({user["username"]})'))
    return sorted(options, key=lambda option: option[1].lower())


def _agency_choices(actor: Actor) -> list[tuple[str, str]]:
    agencies = konvergen().programmes.agencies
    codes = [actor.agency] if actor.role == AGENCY_OFFICER and actor.agency else sorted(agencies)
    return [(code, agencies[code].name) for code in codes if code in agencies]


def _programme_choices() -> list[tuple[str, str]]:
    programmes = konvergen().programmes.programmes
    return sorted(((code, p.name) for code, p in programmes.items()), key=lambda option: option[1])


# -- from forms to use cases -----------------------------------------------------------


def _person(form) -> dict:
    return {"nik": form.nik.data, "name": form.name.data, "sex": form.sex.data, "birth_date": form.birth_date.data}


def _v(form) -> dict:
    return {"expected_version": form.expected_version()}


def _add_member(h: Households, actor, hid, form, item):
    member = dict(_person(form), relationship=form.relationship.data)
    return h.add_member(actor, hid, member=member, joined_on=form.joined_on.data, **_v(form))


def _correct_member(h: Households, actor, hid, form, item):
    changes = _person(form)
    if form.relationship.data != HEAD:
        changes["relationship"] = form.relationship.data
    return h.correct_member(actor, hid, item, changes=changes, reason=form.reason.data, **_v(form))


def _member_left(h: Households, actor, hid, form, item):
    return h.record_member_left(
        actor, hid, item, reason=form.reason.data, left_on=form.left_on.data, note=form.note.data or "", **_v(form)
    )


def _correct_identification(h: Households, actor, hid, form, item):
    return h.correct_identification(
        actor,
        hid,
        address={"street": form.street.data or "", "rt": form.rt.data, "rw": form.rw.data, "village_code": form.village_code.data},
        location=None if form.clear_location.data else form.location(),
        clear_location=bool(form.clear_location.data),
        head_name=form.head_name.data,
        reason=form.reason.data,
        **_v(form),
    )


def _change_kk(h: Households, actor, hid, form, item):
    return h.change_kk(
        actor, hid, new_kk_number=form.new_kk_number.data, reason=form.reason.data, effective_on=form.effective_on.data, **_v(form)
    )


def _categorise(h: Households, actor, hid, form, item):
    return h.categorise(
        actor,
        hid,
        category=form.category.data,
        desil=int(form.desil.data) if form.desil.data else None,
        source=form.source.data,
        effective_on=form.effective_on.data,
        reason=form.reason.data,
        **_v(form),
    )


def _plan_intervention(h: Households, actor, hid, form, item):
    return h.plan_intervention(
        actor,
        hid,
        programme=form.programme.data,
        agency=form.agency.data,
        strategy=form.strategy.data or None,
        planned_on=form.planned_on.data,
        value_idr=form.value_idr.data,
        notes=form.notes.data or "",
        delivered_on=form.delivered_on.data,
        **_v(form),
    )


def _deliver_intervention(h: Households, actor, hid, form, item):
    return h.deliver_intervention(
        actor, hid, item, delivered_on=form.delivered_on.data, value_idr=form.value_idr.data, notes=form.notes.data or "", **_v(form)
    )


def _cancel_intervention(h: Households, actor, hid, form, item):
    return h.cancel_intervention(actor, hid, item, reason=form.reason.data, **_v(form))


def _schedule_follow_up(h: Households, actor, hid, form, item):
    return h.schedule_follow_up(
        actor, hid, due_on=form.due_on.data, assigned_to=form.assigned_to.data, purpose=form.purpose.data, **_v(form)
    )


def _reschedule_follow_up(h: Households, actor, hid, form, item):
    return h.reschedule_follow_up(
        actor, hid, item, due_on=form.due_on.data, assigned_to=form.assigned_to.data, reason=form.reason.data, **_v(form)
    )


def _complete_follow_up(h: Households, actor, hid, form, item):
    return h.complete_follow_up(actor, hid, item, completed_on=form.completed_on.data, outcome=form.outcome.data, **_v(form))


def _cancel_follow_up(h: Households, actor, hid, form, item):
    return h.cancel_follow_up(actor, hid, item, reason=form.reason.data, **_v(form))


def _graduate(h: Households, actor, hid, form, item):
    return h.graduate(actor, hid, effective_on=form.effective_on.data, reason=form.reason.data, **_v(form))


def _close(h: Households, actor, hid, form, item):
    return h.close_household(
        actor,
        hid,
        reason=form.reason.data,
        effective_on=form.effective_on.data,
        duplicate_of=form.duplicate_of.data or None,
        note=form.note.data or "",
        **_v(form),
    )


def _reopen(h: Households, actor, hid, form, item):
    return h.reopen_household(actor, hid, reason=form.reason.data, **_v(form))


# -- the commands ----------------------------------------------------------------------


def _set(**choice_makers):
    """A setup function filling each named select from its maker."""

    def setup(form, household, item, actor):
        for name, make in choice_makers.items():
            getattr(form, name).choices = make(household, item, actor)

    return setup


COMMANDS = [
    Command(
        "add_member", "/members/new", f.AddMemberForm, _l("Add a member"), _l("Member added."), _add_member,
        anchor="members",
        setup=_set(relationship=lambda h, i, a: _relationships(False)),
    ),
    Command(
        "correct_member", "/members/<item_id>/correct", f.CorrectMemberForm, _l("Correct a member's details"),
        _l("Member's details corrected."), _correct_member, item="member", anchor="members",
        prefill=lambda h, i, today, a: {k: i[k] for k in ("nik", "name", "sex", "birth_date", "relationship")},
        setup=_set(relationship=lambda h, i, a: _relationships(i["relationship"] == HEAD)),
    ),
    Command(
        "member_left", "/members/<item_id>/leave", f.MemberLeftForm, _l("Record that a member left"),
        _l("Departure recorded."), _member_left, item="member", anchor="members",
        prefill=lambda h, i, today, a: {"left_on": today},
        setup=_set(reason=lambda h, i, a: choices("departure", DEPARTURE_REASONS)),
    ),
    Command(
        "correct_identification", "/identification", f.CorrectIdentificationForm, _l("Correct the identification"),
        _l("Identification corrected."), _correct_identification, anchor="identity",
        prefill=lambda h, i, today, a: {
            "head_name": h["head"]["name"],
            "street": h["address"]["street"],
            "rt": h["address"]["rt"],
            "rw": h["address"]["rw"],
            "village_code": h["address"]["village_code"],
            "lat": (h["location"] or {}).get("lat"),
            "lon": (h["location"] or {}).get("lon"),
        },
        setup=_set(village_code=lambda h, i, a: village_choices(a, include=h["address"]["village_code"])),
    ),
    Command(
        "change_kk", "/kk", f.ChangeKKForm, _l("Change the family card (KK)"), _l("Family card changed."), _change_kk,
        anchor="identity",
        setup=_set(reason=lambda h, i, a: choices("kk_change", KK_CHANGE_REASONS)),
    ),
    Command(
        "categorise", "/categorise", f.CategoriseForm, _l("Categorise the household"), _l("Category recorded."),
        _categorise, anchor="categories",
        prefill=lambda h, i, today, a: {"effective_on": today, **({"category": h["category"]["category"]} if h["category"] else {})},
        setup=_set(
            category=lambda h, i, a: choices("category", CATEGORIES),
            desil=lambda h, i, a: [("", "-")] + [(str(n), str(n)) for n in range(1, 11)],
            source=lambda h, i, a: choices("source", SOURCES),
        ),
    ),
    Command(
        "plan_intervention", "/interventions/new", f.PlanInterventionForm, _l("Record an intervention"),
        _l("Intervention recorded."), _plan_intervention, anchor="interventions", agency_command=True,
        prefill=lambda h, i, today, a: {"planned_on": today, **({"agency": a.agency} if a.agency else {})},
        setup=_set(
            programme=lambda h, i, a: _programme_choices(),
            agency=lambda h, i, a: _agency_choices(a),
            strategy=lambda h, i, a: [("", str(_l("As the programme says")))] + choices("strategy", list(STRATEGIES)),
        ),
    ),
    Command(
        "deliver_intervention", "/interventions/<item_id>/deliver", f.DeliverInterventionForm,
        _l("Record a delivery"), _l("Delivery recorded."), _deliver_intervention, item="intervention",
        anchor="interventions", agency_command=True,
        prefill=lambda h, i, today, a: {"delivered_on": today, "value_idr": i["value_idr"]},
    ),
    Command(
        "cancel_intervention", "/interventions/<item_id>/cancel", f.CancelForm, _l("Cancel an intervention"),
        _l("Intervention cancelled."), _cancel_intervention, item="intervention", anchor="interventions",
        agency_command=True, danger=True,
    ),
    Command(
        "schedule_follow_up", "/follow-ups/new", f.ScheduleFollowUpForm, _l("Schedule a visit"), _l("Visit scheduled."),
        _schedule_follow_up, anchor="follow-ups",
        prefill=lambda h, i, today, a: {"due_on": today + timedelta(days=7), "assigned_to": a.username},
        setup=_set(assigned_to=lambda h, i, a: _assignees(h, None, a)),
    ),
    Command(
        "reschedule_follow_up", "/follow-ups/<item_id>/reschedule", f.RescheduleFollowUpForm, _l("Reschedule a visit"),
        _l("Visit rescheduled."), _reschedule_follow_up, item="follow_up", anchor="follow-ups",
        prefill=lambda h, i, today, a: {"due_on": i["due_on"], "assigned_to": i["assigned_to"]},
        setup=_set(assigned_to=lambda h, i, a: _assignees(h, i["assigned_to"], a)),
    ),
    Command(
        "complete_follow_up", "/follow-ups/<item_id>/complete", f.CompleteFollowUpForm, _l("Record a visit"),
        _l("Visit recorded."), _complete_follow_up, item="follow_up", anchor="follow-ups",
        prefill=lambda h, i, today, a: {"completed_on": today},
    ),
    Command(
        "cancel_follow_up", "/follow-ups/<item_id>/cancel", f.CancelForm, _l("Cancel a visit"), _l("Visit cancelled."),
        _cancel_follow_up, item="follow_up", anchor="follow-ups", danger=True,
    ),
    Command(
        "graduate", "/graduate", f.GraduateForm, _l("Record graduation"), _l("Graduation recorded."), _graduate,
        anchor="identity", prefill=lambda h, i, today, a: {"effective_on": today},
    ),
    Command(
        "close", "/close", f.CloseForm, _l("Close the case file"), _l("Case file closed."), _close, anchor="identity",
        danger=True, prefill=lambda h, i, today, a: {"effective_on": today},
        setup=_set(reason=lambda h, i, a: choices("closure", CLOSURE_REASONS)),
    ),
    Command(
        "reopen", "/reopen", f.ReopenForm, _l("Reopen the case file"), _l("Case file reopened."), _reopen,
        anchor="identity",
    ),
]
BY_NAME = {command.name: command for command in COMMANDS}


def _item(household: dict, kind: str | None, item_id: str | None) -> dict | None:
    if kind is None:
        return None
    if kind == "member":
        items = {m["nik"]: m for m in household["members"]}
    elif kind == "intervention":
        items = {i["id"]: i for i in household["interventions"]}
    else:
        items = {x["id"]: x for x in household["follow_ups"]}
    if item_id not in items:
        abort(404)
    return items[item_id]


def _allowed(command: Command, actor: Actor, household: dict, item: dict | None) -> bool:
    village = household["address"]["village_code"]
    if command.agency_command:
        return may_record_intervention(actor, village, item["agency"] if item else None)
    return may_change(actor, village)


def _changes_since(actor: Actor, household_id: str, version: int | None) -> list[dict]:
    """What other people recorded after the version the user's form was based on."""
    history = konvergen().households.history(actor, household_id)
    entries = timeline(history, reference_names())
    return [entry for entry in entries if version is None or entry["version"] > version]


def run_command(command: Command, household_id: str, item_id: str | None = None):
    k = konvergen()
    actor = current_actor()
    household = k.households.get_household(actor, household_id)  # out of scope: not found
    item = _item(household, command.item, item_id)
    if not _allowed(command, actor, household, item):
        raise Forbidden(f"{actor.username} ({actor.role}) may not {command.name} here")
    if request.method == "GET":
        data = command.prefill(household, item, k.clock.today(), actor)
        form = command.form(data={**data, "version": str(household["version"])})
    else:
        form = command.form()
    command.setup(form, household, item, actor)
    form_error = None
    conflict = None
    status = 200
    if form.validate_on_submit():
        try:
            result = command.run(k.households, actor, household["id"], form, item_id)
        except VersionConflict as error:
            conflict = _changes_since(actor, household["id"], error.expected)
            form.set_version(error.current)
            status = status_for(error)
        except InvalidValue as error:
            if not f.attach_domain_error(form, error):
                form_error = error_message(error)
            status = status_for(error)
        except DomainError as error:
            status = status_for(error)
            if status in (403, 404):
                raise
            form_error = error_message(error)
        else:
            k.wait_for(result["position"])
            flash(str(command.done), "success")
            target = url_for("web.households.show", household_id=household["id"])
            return redirect(f"{target}#{command.anchor}" if command.anchor else target)
    elif request.method == "POST":
        status = 422
    return (
        render_template(
            "households/command.html",
            command=command,
            form=form,
            household=household,
            item=item,
            form_error=form_error,
            conflict=conflict,
            programme_names={code: p.name for code, p in k.programmes.programmes.items()},
        ),
        status,
    )


def _make_view(command: Command):
    def view(household_id: str, item_id: str | None = None):
        return run_command(command, household_id, item_id)

    view.__name__ = command.name
    view.__doc__ = f"The {command.name.replace('_', ' ')} form."
    return view


for _command in COMMANDS:
    bp.add_url_rule(_command.rule, endpoint=_command.name, view_func=_make_view(_command), methods=["GET", "POST"])
