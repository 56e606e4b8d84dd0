"""Downloads: the household list, the monitoring tables and the overdue visits, as CSV
or XLSX, with the same filters as the pages and always within the reader's scope.

CSV is streamed (UTF-8 with a BOM so Excel shows Indonesian names right); XLSX uses
openpyxl's write-only mode. Column headings follow the interface language.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Callable, Iterable, Iterator

from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from flask_wtf import FlaskForm
from openpyxl import Workbook
from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional

from domain.household import CATEGORIES
from projections.audit_trail import event_types
from service.access import ADMIN, AUDITOR
from service.audit import audit_for
from service.audit.access_log import EXPORT
from service.clock import WIB
from service.exporting.tables import FORMATS, MEDIA_TYPES, attachment
from service.exporting.views import MONITORING_TABLES, audit_row, iter_audit_events, monitoring_rows
from service.web import read_models
from service.web.errors import error_page
from service.web.filters import AreaFilter, HouseholdFilter, area_filter
from service.web.i18n import gettext as _
from service.web.i18n import lazy_gettext as _l
from service.web.labels import label
from service.web.support import current_actor, display_names, konvergen

bp = Blueprint("exports", __name__, url_prefix="/exports")

def _cell(value):
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) if value.tzinfo else value
    return value


def _csv_stream(headers: list[str], rows: Iterable[list]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff"
    writer.writerow(headers)
    for count, row in enumerate(rows, 1):
        writer.writerow(["" if v is None else (v.isoformat() if isinstance(v, (date, datetime)) else v) for v in row])
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def table_response(name: str, fmt: str, headers: list[str], rows: Iterable[list]) -> Response:
    if fmt not in FORMATS:
        abort(404)
    today = konvergen().clock.today().isoformat()
    disposition = attachment(f"konvergen-{name}-{today}.{fmt}")
    if fmt == "csv":
        return Response(stream_with_context(_csv_stream(headers, rows)), mimetype=MEDIA_TYPES["csv"], headers=disposition)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=name[:31])
    sheet.append(headers)
    for row in rows:
        sheet.append([_cell(v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return Response(out.getvalue(), mimetype=MEDIA_TYPES["xlsx"], headers=disposition)


# -- the tables ------------------------------------------------------------------------


def _household_rows(actor, filters: dict) -> Iterator[list]:
    for h in read_models.all_households(actor, **filters):
        yield [
            h["kk_number"], h["head_nik"], h["head_name"], h["village_code"], h.get("village_name"),
            h.get("kecamatan_name"), label("household_status", h["status"]),
            _category_word(h["category"]) if h["category"] else "", h["desil"],
            h["planned_interventions"], h["delivered_interventions"], h["delivering_agencies"],
            h["next_follow_up_on"], "1" if h["has_overdue_follow_up"] else "0",
        ]


def _household_headers() -> list[str]:
    return [_("KK"), _("Head's NIK"), _("Head's name"), _("Village code"), _("Village"), _("Kecamatan"),
            _("Status"), _("Category"), _("Desil"), _("Planned interventions"), _("Delivered interventions"),
            _("Agencies that delivered"), _("Next visit"), _("Overdue visit")]


def _category_word(code: str | None) -> str:
    return label("category", code) if code in CATEGORIES else _("Not categorised")


def _monitoring_tables(summary: dict) -> dict[str, tuple[Callable[[], list[str]], Callable[[], Iterable[list]]]]:
    programmes = konvergen().programmes.programmes
    agencies = konvergen().programmes.agencies
    shared = monitoring_rows(konvergen())

    def areas():
        for area in summary["by_area"]:
            for category, counts in sorted(area["categories"].items()):
                yield [area["code"], area.get("name"), _category_word(category), counts["households"], counts["persons"]]

    def interventions():
        for row in summary["interventions"]:
            yield [programmes[row["programme"]].name if row["programme"] in programmes else row["programme"],
                   agencies[row["agency"]].name if row["agency"] in agencies else row["agency"],
                   label("strategy", row["strategy"]), label("intervention_status", row["status"]),
                   row["interventions"], row["value_idr"]]

    return {
        "areas": (lambda: [_("Area code"), _("Area"), _("Category"), _("Households"), _("Persons")], areas),
        "interventions": (lambda: [_("Programme"), _("Agency"), _("Strategy"), _("Status"), _("Interventions"),
                                   _("Value (Rp)")], interventions),
        "convergence": (lambda: [_("Agencies that delivered"), _("Extremely poor households")],
                        lambda: shared["convergence"](summary)),
        "graduations": (lambda: [_("Month"), _("Graduated households")], lambda: shared["graduations"](summary)),
    }


def _overdue_rows(actor, filters: dict) -> Iterator[list]:
    names = display_names()
    for v in read_models.all_follow_ups(actor, status="overdue", **filters):
        yield [v["kk_number"], v["head_name"], v["village_code"], v.get("village_name"), v["assigned_to"],
               names.get(v["assigned_to"], v["assigned_to"]), v["due_on"], v["days_overdue"], v["purpose"]]


def _overdue_headers() -> list[str]:
    return [_("KK"), _("Head's name"), _("Village code"), _("Village"), _("Assigned to"), _("Worker"),
            _("Due on"), _("Days overdue"), _("Purpose")]


AUDIT_TRAIL_ROLES = (AUDITOR, ADMIN)


class AuditTrailFilter(FlaskForm):
    """Which events of the audit trail to download (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    by = StringField(_l("User"), validators=[Optional(), Length(max=64)])
    event_type = SelectField(_l("Kind of event"), validators=[Optional()],
                             choices=[SelectChoice("", _l("Everything")), *(SelectChoice(t, t) for t in event_types())])
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("To (inclusive)"), validators=[Optional()])

    def values(self) -> dict:
        """Days are whole WIB days: from the start of ``since`` to the end of ``until``."""
        def start_of(day):
            return datetime.combine(day, datetime.min.time(), WIB) if day else None

        return {"actor": self.by.data or None, "event_type": self.event_type.data or None,
                "since": start_of(self.since.data),
                "until": start_of(self.until.data + timedelta(days=1)) if self.until.data else None}


def _audit_trail_headers() -> list[str]:
    return [_("Position"), _("Recorded at (UTC)"), _("Effective on"), _("Household id"), _("KK"), _("Version"),
            _("Event"), _("User"), _("Source"), _("Summary")]


# -- routes ---------------------------------------------------------------------------


@bp.route("/")
def index():
    form = area_filter(HouseholdFilter)
    filters = form.values()
    area = {k: v for k, v in filters.items() if k in ("kecamatan", "village")}
    audit_form = AuditTrailFilter(request.args) if current_actor().role in AUDIT_TRAIL_ROLES else None
    return render_template("exports/index.html", form=form, filters=filters, area=area,
                           monitoring_tables=MONITORING_TABLES, audit_form=audit_form)


@bp.route("/households.<fmt>")
def households(fmt: str):
    filters = area_filter(HouseholdFilter).values()
    return table_response("households", fmt, _household_headers(), _household_rows(current_actor(), filters))


@bp.route("/monitoring/<table>.<fmt>")
def monitoring(table: str, fmt: str):
    filters = area_filter(AreaFilter).values()
    tables = _monitoring_tables(read_models.summary(current_actor(), **filters))
    if table not in tables:
        abort(404)
    headers, rows = tables[table]
    return table_response(f"monitoring-{table}", fmt, headers(), rows())


@bp.route("/overdue.<fmt>")
def overdue(fmt: str):
    filters = area_filter(AreaFilter).values()
    return table_response("overdue-visits", fmt, _overdue_headers(), _overdue_rows(current_actor(), filters))


@bp.route("/audit-trail.<fmt>")
def audit_trail(fmt: str):
    """The audit trail within the reader's area, newest first; the download is logged."""
    actor = current_actor()
    if actor.role not in AUDIT_TRAIL_ROLES:
        abort(403)
    form = AuditTrailFilter(request.args)
    if fmt not in FORMATS:
        abort(404)
    if not form.validate():
        field, messages = next(iter(form.errors.items()))
        return error_page(422, f"{form[field].label.text}: {messages[0]}")
    filters = form.values()
    asked = {("by" if k == "actor" else k): str(v) for k, v in filters.items() if v is not None}
    audit_for(konvergen()).access_log.record_read(actor, EXPORT, None, table="audit_trail", **asked)
    rows = (audit_row(event) for event in iter_audit_events(konvergen(), actor, **filters))
    return table_response("audit-trail", fmt, _audit_trail_headers(), rows)
