"""The household resource: the case file's current state, its history and every change.

Each route parses its body with a schema, calls one use case of ``Households`` as the
authenticated actor and answers; refusals are exceptions that ``service.api.errors``
turns into problem documents. Every change answers with the household's new version
in ``ETag`` and may carry ``If-Match`` with the version it was based on; after a
change the route waits until the projections have it, so the caller's next read
already shows it.

Sub-resources are addressed by the ids the household gave them: members by NIK,
interventions and follow-ups by the id returned when they were created. A change to
one of them is a POST to a noun naming the fact (``.../delivery``,
``.../correction``), since each is an event, not an update of fields.
"""

from __future__ import annotations

from functools import wraps

from flask import request, url_for
from flask_smorest import Blueprint
from werkzeug.exceptions import UnsupportedMediaType

from service.api import API_PREFIX
from service.api import audit as audit_api
from service.api.auth import current_actor
from service.api.errors import documents_problems
from service.api.schemas import (
    CategorisationSchema,
    ClosureSchema,
    CompletionSchema,
    DeliverySchema,
    DepartureSchema,
    FollowUpCreatedSchema,
    FollowUpSchema,
    GraduationSchema,
    HistoryEntrySchema,
    HouseholdSchema,
    IdentificationCorrectionSchema,
    IfMatchSchema,
    InterventionCreatedSchema,
    InterventionSchema,
    KKChangeSchema,
    MemberAdditionSchema,
    MemberCorrectionSchema,
    ReasonSchema,
    RegistrationSchema,
    ReschedulingSchema,
    WriteResultSchema,
)
from service.app import current_konvergen
from service.households import Households

blp = Blueprint(
    "households",
    __name__,
    url_prefix=f"{API_PREFIX}/households",
    description="The household case file: one record per family card (No. KK), shared by every agency.",
)

ETAG_HEADER = {"ETag": {"description": 'The household\'s version after the change, e.g. "4"', "schema": {"type": "string"}}}
PROBLEMS = {
    401: "No or an unknown API token",
    403: "The household is visible but this user may not make this change",
    404: "No such household (or not in this user's scope), member, intervention or follow-up",
    409: "The household moved on since If-Match, or the change contradicts its state",
}


def _households() -> Households:
    return current_konvergen().households


def etag(version: int) -> str:
    return f'"{version}"'


@blp.before_request
def _require_json_body():
    """Every change is a JSON document; a form post gets 415 rather than a vague 422."""
    if request.method == "POST" and not request.is_json:
        raise UnsupportedMediaType("send the request body as application/json")


def _written(result: dict, status: int = 200, headers: dict | None = None):
    """Read-your-writes, then the change's answer: ids, the new version, its ETag."""
    current_konvergen().wait_for(result.get("position"))
    body = {key: value for key, value in result.items() if key != "position"}
    return body, status, {"ETag": etag(result["version"]), **(headers or {})}


def command(rule: str, body_schema, *, answer=WriteResultSchema, status: int = 200):
    """Declares a change: POST ``rule`` with a JSON body and optional If-Match.

    The view receives the parsed body, the path's ids and ``expected_version`` and
    returns what the use case returned; this wrapper answers for it.
    """

    def decorator(view):
        @wraps(view)
        def respond(*args, **kwargs):
            return _written(view(*args, **kwargs), status)

        respond = blp.response(status, answer, headers=ETAG_HEADER)(respond)
        respond = documents_problems(blp, PROBLEMS)(respond)
        respond = blp.arguments(body_schema)(respond)
        # Outermost, so a malformed precondition is reported before the body is read.
        respond = blp.arguments(IfMatchSchema, location="headers", as_kwargs=True, error_status_code=400)(respond)
        return blp.route(rule, methods=["POST"])(respond)

    return decorator


# -- the household ------------------------------------------------------------------


@blp.route("", methods=["POST"])
@blp.arguments(RegistrationSchema)
@blp.response(
    201,
    WriteResultSchema,
    headers={**ETAG_HEADER, "Location": {"description": "The new household", "schema": {"type": "string"}}},
)
@documents_problems(blp, {409: "The KK is already registered: existing_id and Location name its household"})
def register_household(registration: dict):
    """Register a household

    One household per family card: a KK that is already registered is refused with
    409 and the id of the household that holds it.
    """
    result = _households().register_household(current_actor(), **registration)
    location = url_for(".get_household", household_id=result["id"])
    return _written(result, 201, {"Location": location})


@blp.route("/<uuid:household_id>", methods=["GET"])
@blp.arguments(audit_api.AsOfQuery, location="query", as_kwargs=True)
@blp.response(200, HouseholdSchema, headers={"ETag": {"description": "The household's version", "schema": {"type": "string"}}})
def get_household(household_id, as_of=None):
    """Read a household's current state, or its state as recorded at ``as_of``

    Built from the household's own events, so it is never stale. Send its ETag as
    If-Match with a change to be told when someone else changed it meanwhile.
    """
    if as_of is not None:
        return audit_api.household_as_of(household_id, as_of)
    household = _households().get_household(current_actor(), household_id)
    return household, 200, {"ETag": etag(household["version"])}


@blp.route("/<uuid:household_id>/history", methods=["GET"])
@blp.response(200, HistoryEntrySchema(many=True))
def get_history(household_id):
    """Every event of a household, oldest first

    Each with the version it produced, its type, when it was recorded (UTC and WIB),
    its business date, who caused it (name and role), a sentence, the fields it changed
    and its data. Reading a history is itself recorded in the access log for auditors
    and supervisors. ``HistoryEntrySchema`` is the one place history is serialised.
    """
    return audit_api.history_entries(household_id)


# -- identification -----------------------------------------------------------------


@command("/<uuid:household_id>/kk-change", KKChangeSchema)
def change_kk(change: dict, household_id, expected_version):
    """Change the household's family card (KK)

    For pecah KK, a reissued card or a correction. The old number stays reserved for
    this household: looking it up still finds the family, and no one else can take it.
    """
    return _households().change_kk(current_actor(), household_id, expected_version=expected_version, **change)


@command("/<uuid:household_id>/identification", IdentificationCorrectionSchema)
def correct_identification(correction: dict, household_id, expected_version):
    """Correct the address, coordinates or head's name

    Give only what changes, with a reason; ``location: null`` removes the coordinates.
    """
    return _households().correct_identification(
        current_actor(), household_id, expected_version=expected_version, **correction
    )


@command("/<uuid:household_id>/members", MemberAdditionSchema)
def add_member(addition: dict, household_id, expected_version):
    """Add a member to the household"""
    return _households().add_member(current_actor(), household_id, expected_version=expected_version, **addition)


@command("/<uuid:household_id>/members/<string:nik>/correction", MemberCorrectionSchema)
def correct_member(correction: dict, household_id, nik, expected_version):
    """Correct a member's details

    The member is named by the NIK recorded now; give the fields that change (a new
    NIK included) and a reason.
    """
    return _households().correct_member(
        current_actor(), household_id, nik, expected_version=expected_version, **correction
    )


@command("/<uuid:household_id>/members/<string:nik>/departure", DepartureSchema)
def record_departure(departure: dict, household_id, nik, expected_version):
    """Record that a member left (moved, died, married out)"""
    return _households().record_member_left(
        current_actor(), household_id, nik, expected_version=expected_version, **departure
    )


# -- categorisation -----------------------------------------------------------------


@command("/<uuid:household_id>/categorisations", CategorisationSchema)
def categorise(categorisation: dict, household_id, expected_version):
    """Categorise the household (miskin ekstrem ... tidak miskin)

    The current category is the one with the latest effective date; every earlier
    one stays in the household's categorisations.
    """
    return _households().categorise(current_actor(), household_id, expected_version=expected_version, **categorisation)


# -- interventions ------------------------------------------------------------------


@command("/<uuid:household_id>/interventions", InterventionSchema, answer=InterventionCreatedSchema, status=201)
def plan_intervention(intervention: dict, household_id, expected_version):
    """Plan an intervention (or record one already delivered)

    Answers with the new ``intervention_id``. Agency officers record their own
    agency's interventions only.
    """
    return _households().plan_intervention(
        current_actor(), household_id, expected_version=expected_version, **intervention
    )


@command("/<uuid:household_id>/interventions/<string:intervention_id>/delivery", DeliverySchema)
def deliver_intervention(delivery: dict, household_id, intervention_id, expected_version):
    """Record that a planned intervention was delivered (final)"""
    return _households().deliver_intervention(
        current_actor(), household_id, intervention_id, expected_version=expected_version, **delivery
    )


@command("/<uuid:household_id>/interventions/<string:intervention_id>/cancellation", ReasonSchema)
def cancel_intervention(cancellation: dict, household_id, intervention_id, expected_version):
    """Cancel a planned intervention (final)"""
    return _households().cancel_intervention(
        current_actor(), household_id, intervention_id, expected_version=expected_version, **cancellation
    )


# -- follow-ups ---------------------------------------------------------------------


@command("/<uuid:household_id>/follow-ups", FollowUpSchema, answer=FollowUpCreatedSchema, status=201)
def schedule_follow_up(follow_up: dict, household_id, expected_version):
    """Schedule a follow-up visit, assigned to a case worker

    Answers with the new ``follow_up_id``.
    """
    return _households().schedule_follow_up(
        current_actor(), household_id, expected_version=expected_version, **follow_up
    )


@command("/<uuid:household_id>/follow-ups/<string:follow_up_id>/rescheduling", ReschedulingSchema)
def reschedule_follow_up(rescheduling: dict, household_id, follow_up_id, expected_version):
    """Move an open follow-up to another date (or another case worker)"""
    return _households().reschedule_follow_up(
        current_actor(), household_id, follow_up_id, expected_version=expected_version, **rescheduling
    )


@command("/<uuid:household_id>/follow-ups/<string:follow_up_id>/completion", CompletionSchema)
def complete_follow_up(completion: dict, household_id, follow_up_id, expected_version):
    """Record that a follow-up happened, with its outcome"""
    return _households().complete_follow_up(
        current_actor(), household_id, follow_up_id, expected_version=expected_version, **completion
    )


@command("/<uuid:household_id>/follow-ups/<string:follow_up_id>/cancellation", ReasonSchema)
def cancel_follow_up(cancellation: dict, household_id, follow_up_id, expected_version):
    """Cancel an open follow-up"""
    return _households().cancel_follow_up(
        current_actor(), household_id, follow_up_id, expected_version=expected_version, **cancellation
    )


# -- lifecycle ----------------------------------------------------------------------


@command("/<uuid:household_id>/graduation", GraduationSchema)
def graduate(graduation: dict, household_id, expected_version):
    """Record that the household left extreme poverty"""
    return _households().graduate(current_actor(), household_id, expected_version=expected_version, **graduation)


@command("/<uuid:household_id>/closure", ClosureSchema)
def close_household(closure: dict, household_id, expected_version):
    """Close the household (moved away, all deceased, duplicate of another KK)

    A closed household refuses every change but reopening.
    """
    return _households().close_household(current_actor(), household_id, expected_version=expected_version, **closure)


@command("/<uuid:household_id>/reopening", ReasonSchema)
def reopen_household(reopening: dict, household_id, expected_version):
    """Reopen a closed household"""
    return _households().reopen_household(current_actor(), household_id, expected_version=expected_version, **reopening)
