"""Read-only views over the projections: the register, monitoring, follow-ups, audit trail.

Each route parses its query string with a schema (unknown parameters are refused, so a
misspelt filter never silently returns everything), asks ``ReadModels`` as the
authenticated actor, whose scope it applies in SQL, and answers. Lists are keyset
paginated: pass the ``next_cursor`` of one page as ``cursor`` to get the next.
"""

from __future__ import annotations

from datetime import timezone

from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields, validate

from domain.household import ACTIVE, CATEGORIES, CLOSED, GRADUATED
from projections.audit_trail import event_types
from projections.follow_ups import DUE_SOON_DAYS, STATUSES as FOLLOW_UP_STATUSES
from projections.read_models import ReadModels
from service.api import API_PREFIX
from service.api import audit as audit_api
from service.api.auth import current_actor
from service.api.errors import documents_problems
from service.api.schemas import StrictSchema, code
from service.app import current_konvergen

MAX_TEXT = 200


def _views() -> ReadModels:
    return ReadModels(current_konvergen())


def _page(default: int, maximum: int) -> fields.Integer:
    return fields.Integer(
        load_default=default, validate=validate.Range(min=1, max=maximum), metadata={"description": "Rows per page"}
    )


HOUSEHOLD_STATUSES = (ACTIVE, GRADUATED, CLOSED)
CURSOR = {"validate": validate.Length(max=400), "metadata": {"description": "next_cursor of the previous page"}}
IDENTIFIER = validate.Regexp(r"^[0-9]{16}$", error="must be exactly 16 digits")


# -- household register ---------------------------------------------------------------

register = Blueprint(
    "household_register",
    __name__,
    url_prefix=f"{API_PREFIX}/households",
    description="The household register: search and filter every household the user may see.",
)


class HouseholdListQuery(StrictSchema):
    q = fields.String(
        validate=validate.Length(max=MAX_TEXT),
        metadata={"description": "16 digits: a KK or a member's NIK (exact); anything else: the start of the head's name"},
    )
    kk_number = fields.String(validate=IDENTIFIER)
    nik = fields.String(validate=IDENTIFIER, metadata={"description": "A member still in the household"})
    name = fields.String(validate=validate.Length(min=1, max=MAX_TEXT), metadata={"description": "Head's name prefix, any case"})
    kecamatan = code("Kecamatan code")
    village = code("Village (desa/kelurahan) code")
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    desil = fields.Integer(validate=validate.Range(min=1, max=10))
    status = fields.String(validate=validate.OneOf(HOUSEHOLD_STATUSES))
    without_delivery = fields.Boolean(
        data_key="no_delivered_intervention", metadata={"description": "Only households no agency delivered anything to"}
    )
    overdue = fields.Boolean(
        data_key="has_overdue_follow_up", metadata={"description": "Only households with a follow-up due before today"}
    )
    cursor = fields.String(**CURSOR)
    limit = _page(50, 200)


class RegisterItemSchema(Schema):
    id = fields.String()
    kk_number = fields.String()
    head_nik = fields.String()
    head_name = fields.String()
    village_code = fields.String()
    village_name = fields.String(allow_none=True)
    kecamatan_code = fields.String(allow_none=True)
    kecamatan_name = fields.String(allow_none=True)
    status = fields.String()
    category = fields.String(allow_none=True)
    desil = fields.Integer(allow_none=True)
    planned_interventions = fields.Integer(metadata={"description": "Planned, not yet delivered or cancelled"})
    delivered_interventions = fields.Integer()
    delivering_agencies = fields.Integer(metadata={"description": "Distinct agencies that delivered something"})
    open_follow_ups = fields.Integer()
    next_follow_up_on = fields.Date(allow_none=True)
    has_overdue_follow_up = fields.Boolean()
    last_activity_at = fields.DateTime()
    version = fields.Integer()


class RegisterPageSchema(Schema):
    items = fields.List(fields.Nested(RegisterItemSchema))
    next_cursor = fields.String(allow_none=True)


@register.route("", methods=["GET"])
@register.arguments(HouseholdListQuery, location="query", unknown=RAISE)
@register.response(200, RegisterPageSchema)
@documents_problems(register, {422: "A filter is invalid"})
def list_households(query: dict):
    """Search the household register

    In name order, 50 per page by default. Filters combine; the user's scope always
    applies (a case worker sees their villages, a supervisor their kecamatan).
    """
    return _views().households(current_actor(), **query)


# -- monitoring -----------------------------------------------------------------------

monitoring = Blueprint(
    "monitoring",
    __name__,
    url_prefix=f"{API_PREFIX}/monitoring",
    description="Counts by area and category, interventions, convergence and progress toward zero.",
)


class AreaQuery(StrictSchema):
    kecamatan = code("Only this kecamatan")
    village = code("Only this village")
    as_of = audit_api.AS_OF_FIELD
    basis = audit_api.BASIS_FIELD


class CountSchema(Schema):
    households = fields.Integer()
    persons = fields.Integer()


class CategoryCountSchema(CountSchema):
    category = fields.String()


class StatusCountSchema(CountSchema):
    status = fields.String()


class AreaCountSchema(CountSchema):
    code = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    level = fields.String(metadata={"description": "kecamatan, or village when the summary is narrowed"})
    categories = fields.Dict(keys=fields.String(), values=fields.Nested(CountSchema))


class InterventionCountSchema(Schema):
    programme = fields.String()
    agency = fields.String()
    strategy = fields.String()
    status = fields.String()
    interventions = fields.Integer()
    value_idr = fields.Integer()


class HouseholdRefSchema(Schema):
    id = fields.String()
    kk_number = fields.String()
    head_name = fields.String()
    village_code = fields.String()
    kecamatan_code = fields.String(allow_none=True)


class UnreachedSchema(Schema):
    count = fields.Integer()
    households = fields.List(fields.Nested(HouseholdRefSchema), metadata={"description": "The first 100"})
    truncated = fields.Boolean()


class ConvergenceSchema(Schema):
    reached_by_agencies = fields.Dict(
        keys=fields.String(), values=fields.Integer(), metadata={"description": "0, 1, 2 and 3+ agencies"}
    )
    unreached = fields.Nested(UnreachedSchema)


class GraduationCountSchema(Schema):
    month = fields.String()
    households = fields.Integer()


class ProgressSchema(Schema):
    baseline_extreme = fields.Integer(metadata={"description": "Households ever categorised miskin ekstrem"})
    remaining_extreme = fields.Integer(metadata={"description": "Active and miskin ekstrem now"})
    graduated = fields.Integer()
    percent_toward_zero = fields.Float(allow_none=True)


class MonitoringSummarySchema(Schema):
    filters = fields.Dict()
    totals = fields.Nested(CountSchema)
    by_category = fields.List(fields.Nested(CategoryCountSchema))
    by_status = fields.List(fields.Nested(StatusCountSchema))
    by_area = fields.List(fields.Nested(AreaCountSchema))
    interventions = fields.List(fields.Nested(InterventionCountSchema))
    convergence = fields.Nested(ConvergenceSchema)
    graduations_by_month = fields.List(fields.Nested(GraduationCountSchema))
    progress = fields.Nested(ProgressSchema)


@monitoring.route("/summary", methods=["GET"])
@monitoring.arguments(AreaQuery, location="query", unknown=RAISE)
@monitoring.response(200, MonitoringSummarySchema)
@documents_problems(monitoring, {422: "Unknown region code"})
def monitoring_summary(query: dict):
    """Monitoring numbers for the user's area

    Closed households count nowhere but in interventions already delivered.
    Convergence counts active miskin ekstrem households by the number of distinct
    agencies that delivered to them; progress compares those still miskin ekstrem
    with every household ever categorised so.
    """
    if query.get("as_of") or query.get("basis"):
        return audit_api.past_monitoring_summary(query)
    return _views().monitoring_summary(current_actor(), **query)


# -- follow-ups -------------------------------------------------------------------------

follow_ups = Blueprint(
    "follow_ups",
    __name__,
    url_prefix=f"{API_PREFIX}/follow-ups",
    description="Open follow-up visits: what is overdue, what is due soon, for whom.",
)


class FollowUpQuery(StrictSchema):
    status = fields.String(
        load_default="open",
        validate=validate.OneOf(FOLLOW_UP_STATUSES),
        metadata={"description": f"open (all), overdue (due before today), due-soon (today to {DUE_SOON_DAYS} days ahead)"},
    )
    assignee = fields.String(validate=validate.Length(min=1, max=64), metadata={"description": "Assigned username"})
    village = code("Village code")
    kecamatan = code("Kecamatan code")
    household_id = fields.UUID()
    cursor = fields.String(**CURSOR)
    limit = _page(50, 200)


class FollowUpItemSchema(Schema):
    id = fields.String()
    household_id = fields.String()
    kk_number = fields.String()
    head_name = fields.String()
    village_code = fields.String()
    village_name = fields.String(allow_none=True)
    kecamatan_code = fields.String(allow_none=True)
    assigned_to = fields.String()
    due_on = fields.Date()
    purpose = fields.String()
    scheduled_by = fields.String()
    scheduled_at = fields.DateTime()
    overdue = fields.Boolean()
    days_overdue = fields.Integer()
    due_soon = fields.Boolean()


class FollowUpPageSchema(Schema):
    items = fields.List(fields.Nested(FollowUpItemSchema))
    next_cursor = fields.String(allow_none=True)


@follow_ups.route("", methods=["GET"])
@follow_ups.arguments(FollowUpQuery, location="query", unknown=RAISE)
@follow_ups.response(200, FollowUpPageSchema)
@documents_problems(follow_ups, {422: "A filter is invalid"})
def list_follow_ups(query: dict):
    """List open follow-ups, earliest due first

    Overdue and due soon are decided from today's date in WIB when asked, never stored.
    """
    return _views().follow_ups(current_actor(), **query)


# -- audit trail ---------------------------------------------------------------------------

audit = Blueprint(
    "audit_trail",
    __name__,
    url_prefix=f"{API_PREFIX}/audit",
    description="Every recorded event: who did what to which household, and when.",
)


class AuditQuery(StrictSchema):
    actor = fields.String(validate=validate.Length(min=1, max=64), metadata={"description": "Username"})
    household_id = fields.UUID()
    event_type = fields.String(validate=validate.OneOf(event_types()))
    since = fields.AwareDateTime(default_timezone=timezone.utc, metadata={"description": "Recorded at or after (ISO 8601)"})
    until = fields.AwareDateTime(default_timezone=timezone.utc, metadata={"description": "Recorded before (ISO 8601)"})
    cursor = fields.String(**CURSOR)
    limit = _page(50, 500)


class AuditEventSchema(Schema):
    position = fields.Integer(metadata={"description": "The event's notification id in the event store"})
    household_id = fields.String()
    kk_number = fields.String(metadata={"description": "The household's KK when the event happened"})
    version = fields.Integer()
    event_type = fields.String()
    actor = fields.String()
    recorded_at = fields.DateTime()
    effective_on = fields.Date(allow_none=True)
    source_ref = fields.String(allow_none=True)
    summary = fields.String()


class AuditPageSchema(Schema):
    items = fields.List(fields.Nested(AuditEventSchema))
    next_cursor = fields.String(allow_none=True)


@audit.route("/events", methods=["GET"])
@audit.arguments(AuditQuery, location="query", unknown=RAISE)
@audit.response(200, AuditPageSchema)
@documents_problems(audit, {422: "A filter is invalid"})
def list_audit_events(query: dict):
    """List recorded events, newest first

    ``since`` is inclusive and ``until`` exclusive; a time without a zone is UTC.
    """
    return _views().audit_events(current_actor(), **query)


# -- projections' status -------------------------------------------------------------------

projections = Blueprint(
    "projections",
    __name__,
    url_prefix=f"{API_PREFIX}/projections",
    description="How far each view has caught up with the event store (administrators only).",
)


class ProjectionStatusSchema(Schema):
    name = fields.String()
    position = fields.Integer(metadata={"description": "Last notification id applied"})
    head = fields.Integer(metadata={"description": "Last notification id in the event store"})
    lag_events = fields.Integer(metadata={"description": "Notification ids not yet applied"})
    lag_seconds = fields.Float(metadata={"description": "How long the oldest unapplied event has waited"})
    version = fields.String(metadata={"description": "The projection code's version"})
    built_version = fields.String(allow_none=True, metadata={"description": "The version its tables were built by"})
    stale = fields.Boolean(metadata={"description": "Built by other code: it will be rebuilt"})
    updated_at = fields.DateTime(allow_none=True)
    last_event_at = fields.DateTime(allow_none=True)
    last_error = fields.String(allow_none=True)


@projections.route("/status", methods=["GET"])
@projections.response(200, ProjectionStatusSchema(many=True))
@documents_problems(projections, {403: "Not an administrator"})
def projection_status():
    """Position and lag of every projection"""
    return _views().projection_status(current_actor())


blueprints = [register, monitoring, follow_ups, audit, projections]
