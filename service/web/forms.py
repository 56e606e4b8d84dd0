"""The web UI's forms (Flask-WTF): one per command, each carrying the version it was
rendered from, so a change made meanwhile by someone else is noticed, not overwritten.

Forms check shape (required, digits, dates); the domain checks meaning (a real NIK date,
a known village). A domain refusal naming a field is shown next to that field
(``attach_domain_error``), so both kinds of message appear in the same place.
"""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    Field,
    FloatField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError

from domain.errors import InvalidValue
from service.web.i18n import lazy_gettext as _l
from service.web.messages import translate_reason

REQUIRED = _l("This field is required.")
NOT_A_DATE = _l("Enter a date.")
NOT_A_NUMBER = _l("Enter a number.")
NOT_A_CHOICE = _l("Choose one of the options.")
SIXTEEN_DIGITS = _l("must be exactly 16 digits")
TEXT_MAX = 2000


def required():
    return InputRequired(message=REQUIRED)


def sixteen_digits():
    return Regexp(r"^[0-9]{16}$", message=SIXTEEN_DIGITS)


def text_length(maximum: int = TEXT_MAX):
    return Length(max=maximum, message=_l("must be at most %(max)d characters"))


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _digits_only(value):
    """People type NIKs and KK numbers with spaces or dots; the number is the digits."""
    return re.sub(r"[\s.\-]", "", value) if isinstance(value, str) else value


def sixteen_digit_number(label, *, optional: bool = False) -> StringField:
    """A NIK or KK number: typed with spaces or dots if people like, kept as its 16 digits."""
    return StringField(label, validators=[Optional() if optional else required(), sixteen_digits()], filters=[_digits_only],
                       render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 22})


class DateInput(DateField):
    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("invalid_value_message", NOT_A_DATE)
        super().__init__(label, validators, **kwargs)


def as_select_choices(choices) -> list[SelectChoice] | None:
    """(value, label) pairs, or {group: pairs} for optgroups, as WTForms' SelectChoice."""
    if choices is None:
        return None
    if isinstance(choices, dict):
        return [SelectChoice(value, label, optgroup=group) for group, pairs in choices.items() for value, label in pairs]
    return [c if isinstance(c, SelectChoice) else SelectChoice(*c) for c in choices]


class _PairChoices:
    """Lets the views give choices as plain pairs; WTForms gets SelectChoice objects."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs["choices"] = as_select_choices(kwargs.get("choices"))
        kwargs.setdefault("invalid_choice_message", NOT_A_CHOICE)
        super().__init__(label, validators, **kwargs)

    @property
    def choices(self):
        return self._choices

    @choices.setter
    def choices(self, value):
        self._choices = as_select_choices(value)


class ChoiceInput(_PairChoices, SelectField):
    """A select whose choices are filled per request (villages in scope, users...)."""


class RadioInput(_PairChoices, RadioField):
    """Radio buttons for a short list (sex)."""


class RupiahField(Field):
    """A whole number of Rupiah, typed as "1250000", "1.250.000" or "Rp 1.250.000"."""

    widget = StringField.widget

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)

    def process_formdata(self, valuelist):
        raw = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if not raw:
            return
        cleaned = re.sub(r"^rp\.?\s*", "", raw, flags=re.IGNORECASE).replace(".", "").replace(" ", "")
        if cleaned.endswith(",00"):
            cleaned = cleaned[:-3]
        if not cleaned.isdigit():
            raise ValueError(str(_l("must be a whole number of Rupiah")))
        self.data = int(cleaned)


class KonvergenForm(FlaskForm):
    """Every form's base: novalidate in HTML, so the server's translated messages show."""


class VersionedForm(KonvergenForm):
    version = HiddenField(validators=[InputRequired()])

    def expected_version(self) -> int | None:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None

    def set_version(self, version: int) -> None:
        """After a conflict: the next submit is based on what the user has now seen."""
        self.version.data = str(version)
        self.version.raw_data = [str(version)]

    def validate_version(self, field):
        if self.expected_version() is None:
            raise ValidationError(_l("The form is incomplete; reload the page."))


# -- auth ------------------------------------------------------------------------


class LoginForm(KonvergenForm):
    username = StringField(_l("Username"), validators=[required(), Length(max=64)], filters=[_strip])
    password = PasswordField(_l("Password"), validators=[required(), Length(max=500)])
    next = HiddenField()


class LanguageForm(KonvergenForm):
    language = HiddenField(validators=[required()])
    next = HiddenField()


# -- households ------------------------------------------------------------------


class PersonFields:
    """NIK, name, sex and birth date: shared by the head and members."""

    @staticmethod
    def nik(label=_l("NIK")):
        return sixteen_digit_number(label)

    @staticmethod
    def name(label=_l("Name")):
        return StringField(label, validators=[required(), Length(max=200)], filters=[_strip])

    @staticmethod
    def sex(label=_l("Sex")):
        return RadioInput(label, choices=[("L", _l("Male")), ("P", _l("Female"))], validators=[required()])

    @staticmethod
    def birth_date(label=_l("Date of birth")):
        return DateInput(label, validators=[required()])


class AddressFields:
    @staticmethod
    def street():
        return StringField(_l("Street / hamlet"), validators=[Optional(), text_length(200)], filters=[_strip])

    @staticmethod
    def rt():
        return StringField(_l("RT"), validators=[required(), Regexp(r"^[0-9]{1,3}$", message=_l("must be a number from 1 to 999"))],
                           filters=[_strip], render_kw={"inputmode": "numeric", "maxlength": 3})

    @staticmethod
    def rw():
        return StringField(_l("RW"), validators=[required(), Regexp(r"^[0-9]{1,3}$", message=_l("must be a number from 1 to 999"))],
                           filters=[_strip], render_kw={"inputmode": "numeric", "maxlength": 3})


def latitude():
    return FloatField(_l("Latitude"), validators=[Optional()], invalid_value_message=NOT_A_NUMBER,
                      render_kw={"inputmode": "decimal", "step": "any"})


def longitude():
    return FloatField(_l("Longitude"), validators=[Optional()], invalid_value_message=NOT_A_NUMBER,
                      render_kw={"inputmode": "decimal", "step": "any"})


def reason_text(label=_l("Reason")):
    return TextAreaField(label, validators=[required(), text_length()], filters=[_strip])


def optional_text(label):
    return TextAreaField(label, validators=[Optional(), text_length()], filters=[_strip])


class BothCoordinatesOrNone:
    """A point needs both coordinates: one alone is a typing slip."""

    def validate_lat(self, field):
        if (field.data is None) != (self.lon.data is None) and not self.lon.errors:
            raise ValidationError(_l("Give both latitude and longitude, or neither."))

    def location(self) -> dict | None:
        """The point given, as the use cases take it; None when no point was given."""
        if self.lat.data is None or self.lon.data is None:
            return None
        return {"lat": self.lat.data, "lon": self.lon.data}


class RegisterForm(BothCoordinatesOrNone, KonvergenForm):
    kk_number = sixteen_digit_number(_l("Family card number (No. KK)"))
    head_nik = PersonFields.nik(_l("Head's NIK"))
    head_name = PersonFields.name(_l("Head's name"))
    head_sex = PersonFields.sex(_l("Head's sex"))
    head_birth_date = PersonFields.birth_date(_l("Head's date of birth"))
    street = AddressFields.street()
    rt = AddressFields.rt()
    rw = AddressFields.rw()
    village_code = ChoiceInput(_l("Village"), validators=[required()])
    lat = latitude()
    lon = longitude()


class AddMemberForm(VersionedForm):
    nik = PersonFields.nik()
    name = PersonFields.name()
    sex = PersonFields.sex()
    birth_date = PersonFields.birth_date()
    relationship = ChoiceInput(_l("Relationship to the head"), validators=[required()])
    joined_on = DateInput(_l("Joined on (optional)"), validators=[Optional()])


class CorrectMemberForm(VersionedForm):
    nik = PersonFields.nik()
    name = PersonFields.name()
    sex = PersonFields.sex()
    birth_date = PersonFields.birth_date()
    relationship = ChoiceInput(_l("Relationship to the head"), validators=[required()])
    reason = reason_text()


class MemberLeftForm(VersionedForm):
    reason = ChoiceInput(_l("Why did they leave?"), validators=[required()])
    left_on = DateInput(_l("Left on"), validators=[required()])
    note = optional_text(_l("Note (optional)"))


class CorrectIdentificationForm(BothCoordinatesOrNone, VersionedForm):
    head_name = PersonFields.name(_l("Head's name"))
    street = AddressFields.street()
    rt = AddressFields.rt()
    rw = AddressFields.rw()
    village_code = ChoiceInput(_l("Village"), validators=[required()])
    lat = latitude()
    lon = longitude()
    clear_location = BooleanField(_l("Remove the coordinates"))
    reason = reason_text()


class ChangeKKForm(VersionedForm):
    new_kk_number = sixteen_digit_number(_l("New family card number (No. KK)"))
    reason = ChoiceInput(_l("Why a new card?"), validators=[required()])
    effective_on = DateInput(_l("Issued on (optional)"), validators=[Optional()])


class CategoriseForm(VersionedForm):
    category = ChoiceInput(_l("Category"), validators=[required()])
    desil = ChoiceInput(_l("Desil (optional)"), validators=[Optional()], coerce=str)
    source = ChoiceInput(_l("Source"), validators=[required()])
    effective_on = DateInput(_l("Assessed on"), validators=[required()])
    reason = reason_text()


class PlanInterventionForm(VersionedForm):
    programme = ChoiceInput(_l("Programme"), validators=[required()])
    agency = ChoiceInput(_l("Agency"), validators=[required()])
    strategy = ChoiceInput(_l("Strategy (Inpres 4/2022)"), validators=[Optional()])
    planned_on = DateInput(_l("Planned for"), validators=[required()])
    value_idr = RupiahField(_l("Value in Rupiah (optional)"), render_kw={"inputmode": "numeric"})
    notes = optional_text(_l("Notes (optional)"))
    delivered_on = DateInput(_l("Already delivered on (optional)"), validators=[Optional()])


class DeliverInterventionForm(VersionedForm):
    delivered_on = DateInput(_l("Delivered on"), validators=[required()])
    value_idr = RupiahField(_l("Value in Rupiah (optional)"), render_kw={"inputmode": "numeric"})
    notes = optional_text(_l("Notes (optional)"))


class CancelForm(VersionedForm):
    reason = reason_text()


class ScheduleFollowUpForm(VersionedForm):
    due_on = DateInput(_l("Due on"), validators=[required()])
    assigned_to = ChoiceInput(_l("Assigned to"), validators=[required()])
    purpose = reason_text(_l("Purpose of the visit"))


class RescheduleFollowUpForm(VersionedForm):
    due_on = DateInput(_l("New due date"), validators=[required()])
    assigned_to = ChoiceInput(_l("Assigned to"), validators=[required()])
    reason = reason_text()


class CompleteFollowUpForm(VersionedForm):
    completed_on = DateInput(_l("Visited on"), validators=[required()])
    outcome = reason_text(_l("Outcome"))


class GraduateForm(VersionedForm):
    effective_on = DateInput(_l("Verified on"), validators=[required()])
    reason = reason_text()


class CloseForm(VersionedForm):
    reason = ChoiceInput(_l("Why close the case file?"), validators=[required()])
    duplicate_of = sixteen_digit_number(_l("Duplicate of KK (only for duplicates)"), optional=True)
    effective_on = DateInput(_l("Effective on"), validators=[required()])
    note = optional_text(_l("Note (optional)"))


class ReopenForm(VersionedForm):
    reason = reason_text()


# -- domain errors onto fields ---------------------------------------------------


def _field_candidates(path: str) -> list[str]:
    """'head.nik' -> head_nik; 'address.rt' -> rt; 'member.nik' -> nik; 'location.lat' -> lat."""
    flat = re.sub(r"\[\d+\]", "", path)
    return [flat.replace(".", "_"), flat.rsplit(".", 1)[-1]]


def attach_domain_error(form: KonvergenForm, error: InvalidValue) -> bool:
    """Shows the refusal next to the field it names; False when no field matches."""
    for name in _field_candidates(error.field):
        field = form._fields.get(name)
        if field is not None and name not in ("csrf_token", "version"):
            field.errors = [*field.errors, translate_reason(error.reason)]
            return True
    return False
