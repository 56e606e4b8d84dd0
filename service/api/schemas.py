"""The API's contract as marshmallow schemas: what agencies' systems send and receive.

Field names are the published contract (issue 2, section 5). Request schemas refuse
unknown fields, wrong types and out-of-range values before any use case runs; the
domain still checks every business rule (NIK structure, village codes, programme and
agency pairs), so the two never disagree, the schema only rejects earlier. Where a
request's shape differs from the service call (a correction's changed fields, a
``location: null`` that clears the coordinates), ``post_load`` turns it into the
service's keyword arguments so routes stay thin.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from uuid import UUID

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, pre_load, validate

from domain.household import (
    CATEGORIES,
    CLOSURE_REASONS,
    DEPARTURE_REASONS,
    KK_CHANGE_REASONS,
    MAX_TEXT,
    SOURCES,
)
from domain.identity import RELATIONSHIPS, SEXES
from domain.reference import REGION_LEVELS, STRATEGIES

MAX_NAME = 200
MAX_CODE = 40
MAX_IDENTIFIER = 32  # NIK/KK: the domain says exactly what is wrong; this only bounds size
MAX_USERNAME = 64
MAX_MEMBERS_AT_REGISTRATION = 30
# Rp 1 trillion: far above any household programme, and exact in every client's JSON
# numbers (JavaScript's are safe up to 2**53) and in a BIGINT column.
MAX_IDR = 10**12


def code(description: str) -> fields.String:
    """An optional region, programme or agency code in a query: never empty, at most MAX_CODE long."""
    return fields.String(validate=validate.Length(min=1, max=MAX_CODE), metadata={"description": description})


class StrictSchema(Schema):
    """Every request schema: an unknown field is a client bug worth telling about."""

    class Meta:
        unknown = RAISE

    @pre_load
    def refuse_nul_characters(self, data, **kwargs):
        """A NUL character is never part of a name or a note, and PostgreSQL text refuses it."""
        if isinstance(data, dict):
            bad = {
                key: ["must not contain NUL characters"]
                for key, value in data.items()
                if isinstance(value, str) and "\x00" in value
            }
            if bad:
                raise ValidationError(bad)
        return data


# -- fields -------------------------------------------------------------------------


def text(*, required: bool = False, max_length: int = MAX_TEXT, **kwargs) -> fields.String:
    """Free text; required text must not be blank."""
    if required:
        return fields.String(required=True, validate=validate.Length(min=1, max=max_length), **kwargs)
    kwargs.setdefault("load_default", "")
    return fields.String(validate=validate.Length(max=max_length), **kwargs)


def choice(values, **kwargs) -> fields.String:
    return fields.String(validate=validate.OneOf(tuple(values)), **kwargs)


def rupiah(**kwargs) -> fields.Integer:
    """A whole, non-negative number of Rupiah: 1.5 and "1000" are refused, not coerced."""
    return fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=MAX_IDR), **kwargs)


class StrictFloat(fields.Float):
    """A JSON number; the string "1.5" is refused rather than coerced."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class JSONData(fields.Field):
    """Event data as plain JSON: dates in ISO 8601, ids as strings, at any depth."""

    def _serialize(self, value, attr, obj, **kwargs):
        return plain_json(value)


def plain_json(value):
    if isinstance(value, dict):
        return {str(k): plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain_json(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


_ETAG = re.compile(r'^(?:W/)?"(\d{1,9})"$|^(\d{1,9})$')


class IfMatchField(fields.String):
    """``If-Match: "3"`` (also ``W/"3"`` or a bare ``3``) -> 3; ``*`` -> no condition."""

    default_error_messages = {"invalid": 'must be one version as an entity tag, such as "3"'}

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs).strip()
        if value == "*":
            return None
        found = _ETAG.match(value)
        if not found:
            raise self.make_error("invalid")
        return int(found.group(1) or found.group(2))


class IfMatchSchema(Schema):
    """The version a write was based on; a stale one is refused with 409."""

    expected_version = IfMatchField(
        data_key="If-Match",
        load_default=None,
        metadata={"description": 'The household version the change is based on, e.g. "3" (from ETag)'},
    )


# -- request bodies -----------------------------------------------------------------


class PersonSchema(StrictSchema):
    nik = fields.String(required=True, validate=validate.Length(max=MAX_IDENTIFIER))
    name = fields.String(required=True, validate=validate.Length(min=1, max=MAX_NAME))
    sex = choice(SEXES, required=True, metadata={"description": "L (laki-laki) or P (perempuan)"})
    birth_date = fields.Date(required=True)


class MemberSchema(PersonSchema):
    relationship = choice(RELATIONSHIPS, required=True)


class MemberAdditionSchema(MemberSchema):
    """A new member, and optionally the date they joined (birth, marriage, moving in)."""

    joined_on = fields.Date(load_default=None, allow_none=True)

    @post_load
    def to_command(self, data: dict, **kwargs) -> dict:
        joined_on = data.pop("joined_on")
        return {"member": data, "joined_on": joined_on}


class AddressSchema(StrictSchema):
    street = text(max_length=MAX_NAME)
    rt = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{1,3}$", error="must be 1 to 3 digits"))
    rw = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{1,3}$", error="must be 1 to 3 digits"))
    village_code = fields.String(required=True, validate=validate.Length(max=MAX_CODE))


class AddressCorrectionSchema(StrictSchema):
    """Only the parts of the address that change; the rest stays as recorded."""

    street = fields.String(validate=validate.Length(max=MAX_NAME))
    rt = fields.String(validate=validate.Regexp(r"^[0-9]{1,3}$", error="must be 1 to 3 digits"))
    rw = fields.String(validate=validate.Regexp(r"^[0-9]{1,3}$", error="must be 1 to 3 digits"))
    village_code = fields.String(validate=validate.Length(max=MAX_CODE))


class LocationSchema(StrictSchema):
    lat = StrictFloat(required=True)
    lon = StrictFloat(required=True)


class RegistrationSchema(StrictSchema):
    kk_number = fields.String(required=True, validate=validate.Length(max=MAX_IDENTIFIER))
    head = fields.Nested(PersonSchema, required=True)
    address = fields.Nested(AddressSchema, required=True)
    location = fields.Nested(LocationSchema, allow_none=True, load_default=None)
    members = fields.List(
        fields.Nested(MemberSchema),
        load_default=list,
        validate=validate.Length(max=MAX_MEMBERS_AT_REGISTRATION),
        metadata={"description": "Members other than the head"},
    )


class KKChangeSchema(StrictSchema):
    new_kk_number = fields.String(required=True, validate=validate.Length(max=MAX_IDENTIFIER))
    reason = choice(KK_CHANGE_REASONS, required=True)
    effective_on = fields.Date(load_default=None, allow_none=True)


class IdentificationCorrectionSchema(StrictSchema):
    """``location: null`` removes recorded coordinates; an absent key leaves them."""

    address = fields.Nested(AddressCorrectionSchema)
    location = fields.Nested(LocationSchema, allow_none=True)
    head_name = fields.String(validate=validate.Length(min=1, max=MAX_NAME))
    reason = text(required=True)

    @post_load
    def to_command(self, data: dict, **kwargs) -> dict:
        if "location" in data and data["location"] is None:
            del data["location"]
            data["clear_location"] = True
        return data


class MemberCorrectionSchema(StrictSchema):
    """The member's corrected details (any of them, a new NIK included) and why."""

    nik = fields.String(validate=validate.Length(max=MAX_IDENTIFIER))
    name = fields.String(validate=validate.Length(min=1, max=MAX_NAME))
    sex = choice(SEXES)
    birth_date = fields.Date()
    relationship = choice(RELATIONSHIPS)
    reason = text(required=True)

    @post_load
    def to_command(self, data: dict, **kwargs) -> dict:
        reason = data.pop("reason")
        return {"changes": data, "reason": reason}


class DepartureSchema(StrictSchema):
    reason = choice(DEPARTURE_REASONS, required=True)
    left_on = fields.Date(required=True)
    note = text()


class CategorisationSchema(StrictSchema):
    category = choice(CATEGORIES, required=True)
    desil = fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=validate.Range(min=1, max=10)
    )
    source = choice(SOURCES, required=True)
    effective_on = fields.Date(required=True)
    reason = text(required=True)


class InterventionSchema(StrictSchema):
    programme = fields.String(required=True, validate=validate.Length(max=MAX_CODE))
    agency = fields.String(required=True, validate=validate.Length(max=MAX_CODE))
    strategy = choice(
        STRATEGIES,
        load_default=None,
        metadata={"description": "Defaults to the programme's own Inpres 4/2022 strategy"},
    )
    planned_on = fields.Date(required=True)
    value_idr = rupiah(load_default=None)
    notes = text()
    delivered_on = fields.Date(
        load_default=None,
        metadata={"description": "Records the intervention as planned and delivered at once"},
    )


class DeliverySchema(StrictSchema):
    delivered_on = fields.Date(required=True)
    value_idr = rupiah(load_default=None, metadata={"description": "The value actually delivered, if it differs"})
    notes = text()


class ReasonSchema(StrictSchema):
    """Cancellations and reopening: only why."""

    reason = text(required=True)


class FollowUpSchema(StrictSchema):
    due_on = fields.Date(required=True)
    assigned_to = fields.String(
        required=True, validate=validate.Length(min=1, max=MAX_USERNAME), metadata={"description": "A username"}
    )
    purpose = text(required=True)


class ReschedulingSchema(StrictSchema):
    due_on = fields.Date(required=True)
    assigned_to = fields.String(load_default=None, validate=validate.Length(min=1, max=MAX_USERNAME))
    reason = text(required=True)


class CompletionSchema(StrictSchema):
    completed_on = fields.Date(required=True)
    outcome = text(required=True)


class GraduationSchema(StrictSchema):
    effective_on = fields.Date(required=True)
    reason = text(required=True)


class ClosureSchema(StrictSchema):
    reason = choice(CLOSURE_REASONS, required=True)
    effective_on = fields.Date(required=True)
    duplicate_of = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=MAX_IDENTIFIER),
        metadata={"description": "The KK this household duplicates (reason duplicate only)"},
    )
    note = text()


class RegionQuerySchema(StrictSchema):
    level = choice(
        (*REGION_LEVELS, "village"),
        metadata={"description": "A region level; 'village' means desa and kelurahan"},
    )
    parent = fields.String(validate=validate.Length(max=MAX_CODE), metadata={"description": "Parent region code"})


# -- responses ----------------------------------------------------------------------


class WriteResultSchema(Schema):
    """What every change answers: the household and the version it is now at."""

    id = fields.String()
    version = fields.Integer()


class InterventionCreatedSchema(WriteResultSchema):
    intervention_id = fields.String()


class FollowUpCreatedSchema(WriteResultSchema):
    follow_up_id = fields.String()


class HeadOutSchema(Schema):
    nik = fields.String()
    name = fields.String()
    sex = fields.String()
    birth_date = fields.Date()


class MemberOutSchema(HeadOutSchema):
    relationship = fields.String()
    status = fields.String(metadata={"description": "present or left"})
    left_reason = fields.String()
    left_on = fields.Date()


class AddressOutSchema(Schema):
    street = fields.String()
    rt = fields.String()
    rw = fields.String()
    village_code = fields.String()
    village_name = fields.String(allow_none=True)
    kecamatan_code = fields.String(allow_none=True)
    kecamatan_name = fields.String(allow_none=True)


class LocationOutSchema(Schema):
    lat = fields.Float()
    lon = fields.Float()


class CategorisationOutSchema(Schema):
    category = fields.String()
    desil = fields.Integer(allow_none=True)
    source = fields.String()
    effective_on = fields.Date()
    reason = fields.String()
    recorded_by = fields.String()
    version = fields.Integer(metadata={"description": "The household version that recorded it"})


class InterventionOutSchema(Schema):
    id = fields.String()
    status = fields.String(metadata={"description": "planned, delivered or cancelled"})
    programme = fields.String()
    agency = fields.String()
    strategy = fields.String()
    planned_on = fields.Date()
    delivered_on = fields.Date(allow_none=True)
    value_idr = fields.Integer(allow_none=True)
    notes = fields.String()
    cancelled_reason = fields.String(allow_none=True)
    recorded_by = fields.String()


class FollowUpOutSchema(Schema):
    id = fields.String()
    status = fields.String(metadata={"description": "open, completed or cancelled"})
    due_on = fields.Date()
    assigned_to = fields.String()
    purpose = fields.String()
    completed_on = fields.Date(allow_none=True)
    outcome = fields.String(allow_none=True)
    cancelled_reason = fields.String(allow_none=True)
    scheduled_by = fields.String()


class GraduationOutSchema(Schema):
    effective_on = fields.Date()
    reason = fields.String()


class ClosureOutSchema(Schema):
    reason = fields.String()
    duplicate_of = fields.String(allow_none=True)
    effective_on = fields.Date()
    note = fields.String()


class HouseholdSchema(Schema):
    """A household's current state, read from its own events."""

    id = fields.String()
    version = fields.Integer()
    kk_number = fields.String()
    previous_kk_numbers = fields.List(fields.String())
    status = fields.String(metadata={"description": "active, graduated or closed"})
    head = fields.Nested(HeadOutSchema)
    members = fields.List(fields.Nested(MemberOutSchema))
    address = fields.Nested(AddressOutSchema)
    location = fields.Nested(LocationOutSchema, allow_none=True)
    category = fields.Nested(CategorisationOutSchema, allow_none=True)
    categorisations = fields.List(fields.Nested(CategorisationOutSchema))
    interventions = fields.List(fields.Nested(InterventionOutSchema))
    follow_ups = fields.List(fields.Nested(FollowUpOutSchema))
    graduation = fields.Nested(GraduationOutSchema, allow_none=True)
    closure = fields.Nested(ClosureOutSchema, allow_none=True)
    registered_by = fields.String()
    created_on = fields.DateTime()
    modified_on = fields.DateTime()


class FieldChangeSchema(Schema):
    """One field an event changed, e.g. desil 3 -> 1."""

    field = fields.String(metadata={"description": "Path of the fact, e.g. desil or members.<nik>.name"})
    label = fields.String()
    before = JSONData(allow_none=True)
    after = JSONData(allow_none=True)
    text = fields.String(metadata={"description": "e.g. 'desil 3 -> 1'"})


class HistoryEntrySchema(Schema):
    """One recorded event: which version it made, what, when, by whom, what it changed."""

    version = fields.Integer()
    type = fields.String()
    recorded_at = fields.DateTime(metadata={"description": "When it was recorded (UTC)"})
    recorded_at_wib = fields.String(metadata={"description": "The same instant in WIB, for people"})
    effective_on = fields.Date(allow_none=True, metadata={"description": "The fact's business date, if it has one"})
    actor = fields.String(allow_none=True)
    actor_name = fields.String(allow_none=True)
    actor_role = fields.String(allow_none=True)
    source_ref = fields.String(allow_none=True)
    summary = fields.String(metadata={"description": "A one-line sentence saying what happened"})
    changes = fields.List(fields.Nested(FieldChangeSchema))
    data = JSONData(metadata={"description": "The event's business content"})


class RegionSchema(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.String()
    parent_code = fields.String(allow_none=True)


class CodeNameSchema(Schema):
    code = fields.String()
    name = fields.String()


class ProgrammeSchema(CodeNameSchema):
    strategy = fields.String()
    agencies = fields.List(fields.String(), metadata={"description": "Agencies that may deliver it"})


class ProgrammeCatalogueSchema(Schema):
    programmes = fields.List(fields.Nested(ProgrammeSchema))
    agencies = fields.List(fields.Nested(CodeNameSchema))
    strategies = fields.List(fields.Nested(CodeNameSchema))


class ProblemSchema(Schema):
    """RFC 9457 problem details, with per-field messages for invalid input."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    code = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    existing_id = fields.String(metadata={"description": "Duplicate KK: the household that holds it"})
    current_version = fields.Integer(metadata={"description": "Version conflict: the household's version now"})

