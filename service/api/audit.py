"""The auditors' API: verification, seals, the access log, diffs, past states and summaries.

Routes parse their query with a strict schema, call one audit use case as the
authenticated actor and answer; refusals (403 for roles that may not, 404 outside
scope, 422 for unreadable instants) are decided in ``service.api.errors`` like
everywhere else. Nothing here writes a household; a verification may add seals for
finished days (system bookkeeping, idempotent).
"""

from __future__ import annotations

from datetime import timezone

from flask import Response
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from domain.errors import InvalidValue
from service.api import API_PREFIX
from service.api.auth import current_actor
from service.api.errors import documents_problems
from service.api.schemas import FieldChangeSchema, HistoryEntrySchema, HouseholdSchema, JSONData, StrictSchema, code
from service.app import current_konvergen
from service.audit import Audit, audit_for
from service.audit.access_log import ACTIONS, MAX_PAGE
from service.audit.reports import BASES, RECORDED
from service.exporting.tables import FORMATS, attachment

blp = Blueprint(
    "audit_integrity",
    __name__,
    url_prefix=API_PREFIX,
    description="For auditors: tamper evidence, who looked, histories as of any instant, past summaries.",
)

INSTANT = {
    "required": True,
    "validate": validate.Length(min=1, max=64),
    "metadata": {"description": "ISO 8601 date or date-time; no offset means WIB; a bare date means its end"},
}


def _audit() -> Audit:
    return audit_for(current_konvergen())


ROLE_MAY_NOT = {403: "This user's role may not do this"}
NOT_IN_SCOPE = {404: "No such household, or not in this user's scope"}
INVALID_PARAMETER = {422: "A parameter is invalid"}


# -- tamper evidence -------------------------------------------------------------------


class IntegrityProblemSchema(Schema):
    kind = fields.String(metadata={"description": "content_mismatch, missing_event, order, broken_link, missing_version, link_altered, unchained_event, seal_* ..."})
    message = fields.String()
    household_id = fields.String(allow_none=True)
    version = fields.Integer(allow_none=True)
    notification_id = fields.Integer(allow_none=True)
    seal = fields.Integer(allow_none=True)


class VerificationSchema(Schema):
    ok = fields.Boolean()
    checked_at = fields.DateTime()
    events_checked = fields.Integer()
    households_checked = fields.Integer(metadata={"description": "Aggregates: households and KK index entries"})
    seals_checked = fields.Integer()
    sealed_through = fields.String(allow_none=True, metadata={"description": "The last sealed day (WIB)"})
    sealed_through_id = fields.Integer()
    last_seal_hash = fields.String(allow_none=True, metadata={"description": "Write it down: a later check must reach the same seal"})
    unsealed_events = fields.Integer()
    backfilled_links = fields.Integer()
    problem_count = fields.Integer()
    first_problem = fields.Nested(IntegrityProblemSchema, allow_none=True)
    problems = fields.List(fields.Nested(IntegrityProblemSchema), metadata={"description": "The first 100, in notification order"})


class SealSchema(Schema):
    seq = fields.Integer()
    period = fields.String()
    first_id = fields.Integer()
    last_id = fields.Integer()
    count = fields.Integer()
    events_digest = fields.String()
    prev_seal_hash = fields.String()
    seal_hash = fields.String()
    sealed_at = fields.DateTime()


@blp.route("/audit/verification", methods=["GET"])
@blp.response(200, VerificationSchema)
@documents_problems(blp, {**ROLE_MAY_NOT, 409: "The chain changed during the check (a backfill ran meanwhile); verify again"})
def verification():
    """Recompute every chain and seal (auditors and administrators)

    Names the first broken link: household, version and what differs. When the record
    is sound, finished days are sealed first. ``ok`` false is an answer, not an error.
    """
    return _audit().integrity.verify(current_actor()).as_dict()


@blp.route("/audit/seals", methods=["GET"])
@blp.response(200, SealSchema(many=True))
@documents_problems(blp, ROLE_MAY_NOT)
def seals():
    """Every seal, oldest first (auditors and administrators)"""
    return _audit().integrity.seals(current_actor())


# -- who looked ------------------------------------------------------------------------


class AccessLogQuery(StrictSchema):
    username = fields.String(validate=validate.Length(min=1, max=64))
    household_id = fields.UUID()
    action = fields.String(validate=validate.OneOf(ACTIONS))
    since = fields.AwareDateTime(default_timezone=timezone.utc, metadata={"description": "At or after (ISO 8601)"})
    until = fields.AwareDateTime(default_timezone=timezone.utc, metadata={"description": "Before (ISO 8601)"})
    before_id = fields.Integer(validate=validate.Range(min=1), metadata={"description": "next_before_id of the previous page"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE))


class AccessEntrySchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    username = fields.String()
    role = fields.String()
    action = fields.String()
    household_id = fields.String(allow_none=True)
    detail = fields.Dict()


class AccessPageSchema(Schema):
    entries = fields.List(fields.Nested(AccessEntrySchema))
    next_before_id = fields.Integer(allow_none=True)


@blp.route("/audit/access-log", methods=["GET"])
@blp.arguments(AccessLogQuery, location="query", unknown=RAISE)
@blp.response(200, AccessPageSchema)
@documents_problems(blp, {**ROLE_MAY_NOT, **INVALID_PARAMETER})
def access_log(query: dict):
    """Who read which history or exported what, newest first (auditors and administrators)"""
    if query.get("household_id"):
        query["household_id"] = str(query["household_id"])
    return _audit().access_log.browse(current_actor(), **query)


# -- histories, past states, diffs -----------------------------------------------------


class DiffQuery(StrictSchema):
    from_ = fields.String(data_key="from", **INSTANT)
    to = fields.String(**INSTANT)


class DiffSchema(Schema):
    household_id = fields.String()
    from_ = fields.DateTime(data_key="from")
    to = fields.DateTime()
    from_version = fields.Integer(allow_none=True, metadata={"description": "None: not yet recorded at 'from'"})
    to_version = fields.Integer(allow_none=True)
    changes = fields.List(fields.Nested(FieldChangeSchema))
    events = fields.List(fields.Nested(HistoryEntrySchema), metadata={"description": "Recorded after 'from', up to 'to'"})


class AsOfQuery(Schema):
    """``?as_of=`` on the household read; other parameters stay ignored, as before."""

    class Meta:
        unknown = EXCLUDE

    as_of = fields.String(
        validate=validate.Length(min=1, max=64),
        metadata={"description": "Read the household as recorded at this instant (ISO 8601; no offset means WIB)"},
    )


class HouseholdAsOfSchema(HouseholdSchema):
    as_of = fields.DateTime()
    as_of_version = fields.Integer(metadata={"description": "The last version recorded at or before as_of"})
    as_of_recorded_at = fields.DateTime()
    current_version = fields.Integer()


@blp.route("/households/<uuid:household_id>/diff", methods=["GET"])
@blp.arguments(DiffQuery, location="query", unknown=RAISE)
@blp.response(200, DiffSchema)
@documents_problems(blp, {**NOT_IN_SCOPE, **INVALID_PARAMETER})
def household_diff(query: dict, household_id):
    """What changed in a household between two instants, field by field"""
    result = _audit().histories.diff(current_actor(), household_id, query["from_"], query["to"])
    return dict(result, from_=result.pop("from"))


def history_entries(household_id) -> list[dict]:
    """For ``GET /households/{id}/history``: every event with actor, sentence and changes."""
    return _audit().histories.history(current_actor(), household_id)["events"]


def household_as_of(household_id, as_of: str) -> Response:
    """For ``GET /households/{id}?as_of=``: the household exactly as recorded then."""
    state = _audit().histories.state_as_of(current_actor(), household_id, as_of)
    # No ETag: a past version is not something to base a change on.
    return Response(HouseholdAsOfSchema().dumps(state), mimetype="application/json")


# -- summaries in two time dimensions --------------------------------------------------


class PastSummaryQuery(StrictSchema):
    as_of = fields.String(**INSTANT)
    basis = fields.String(required=True, validate=validate.OneOf(BASES), metadata={"description": "recorded or effective"})
    kecamatan = code("Only this kecamatan")
    village = code("Only this village")


# For ``GET /monitoring/summary``'s query schema: with ``as_of`` the summary is a past one.
AS_OF_FIELD = fields.String(
    validate=validate.Length(min=1, max=64),
    metadata={"description": "The summary at this past instant, replayed from the event log (ISO 8601; no offset means WIB)"},
)
BASIS_FIELD = fields.String(
    validate=validate.OneOf(BASES),
    metadata={"description": "With as_of: recorded (what was on record then; the default) or effective (what we now know was true then)"},
)


def past_monitoring_summary(query: dict) -> dict:
    """For ``GET /monitoring/summary?as_of=...&basis=...``."""
    if not query.get("as_of"):
        raise InvalidValue("as_of", "is needed with basis")
    return _audit().reports.summary(current_actor(), query.pop("as_of"), query.pop("basis", None) or RECORDED, **query)


class ComparisonQuery(StrictSchema):
    as_of = fields.String(**INSTANT)
    kecamatan = code("Only this kecamatan")
    village = code("Only this village")
    format = fields.String(load_default="json", validate=validate.OneOf(("json", *FORMATS)))


class PastSummarySchema(Schema):
    """``GET /monitoring/summary``'s document, for a past instant and one basis."""

    as_of = fields.DateTime()
    as_of_date = fields.Date()
    basis = fields.String()
    filters = JSONData()
    totals = JSONData()
    by_category = JSONData()
    by_status = JSONData()
    by_area = JSONData()
    interventions = JSONData()
    convergence = JSONData()
    graduations_by_month = JSONData()
    progress = JSONData()


class ComparisonRowSchema(Schema):
    section = fields.String()
    item = fields.String()
    recorded = fields.Integer()
    effective = fields.Integer()
    difference = fields.Integer(metadata={"description": "effective - recorded"})


class ComparisonSchema(Schema):
    as_of = fields.DateTime()
    as_of_date = fields.Date()
    filters = fields.Dict()
    recorded = fields.Nested(PastSummarySchema, metadata={"description": "As recorded by as_of"})
    effective = fields.Nested(PastSummarySchema, metadata={"description": "As effective by as_of, known now"})
    rows = fields.List(fields.Nested(ComparisonRowSchema))
    differences = fields.List(fields.Nested(ComparisonRowSchema))


@blp.route("/audit/summary", methods=["GET"])
@blp.arguments(PastSummaryQuery, location="query", unknown=RAISE)
@blp.response(200, PastSummarySchema)
@documents_problems(blp, INVALID_PARAMETER)
def past_summary(query: dict):
    """The monitoring summary as recorded by, or as effective by, a past instant

    Same shape and definitions as ``GET /monitoring/summary``, computed by replaying
    the event log; the user's scope applies.
    """
    return _audit().reports.summary(current_actor(), query.pop("as_of"), query.pop("basis"), **query)


@blp.route("/audit/summary-comparison", methods=["GET"])
@blp.arguments(ComparisonQuery, location="query", unknown=RAISE)
@blp.response(200, ComparisonSchema)
@documents_problems(blp, INVALID_PARAMETER)
def summary_comparison(query: dict):
    """Both summaries side by side with every figure that differs; ``format=csv|xlsx`` downloads it"""
    fmt = query.pop("format")
    as_of = query.pop("as_of")
    if fmt == "json":
        return _audit().reports.compare(current_actor(), as_of, **query)
    content, media_type, name = _audit().reports.export_comparison(current_actor(), as_of, fmt, **query)
    return Response(content, mimetype=media_type, headers=attachment(name))
