"""The auditors' pages: verification, a household's history as of any instant, the
two-basis summary, and who looked.

Thin views over ``service.audit``: each page asks one audit use case as the signed-in
user and renders what it returns. Words specific to these pages live in their own
Flask-Babel domain (``audit``, in ``service/translations``) so they are translated
without touching the shared catalogue; event sentences reuse the household
timeline's, so both pages say the same thing in the same words.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import Domain

from domain.errors import DomainError, InvalidValue
from domain.identity import check_kk_number
from service.access import ADMIN, AUDITOR, SYSTEM
from service.audit import audit_for
from service.audit.access_log import ACTIONS
from service.audit.history import AS_OF_HELP, NotYetRecorded, parse_instant
from service.errors import HouseholdNotFound
from service.exporting.tables import FORMATS, attachment
from service.web.households import reference_names
from service.web.support import current_actor, konvergen
from service.web.timeline import sentences

bp = Blueprint("audit", __name__, url_prefix="/audit")

DOMAIN = Domain(translation_directories=[str(Path(__file__).resolve().parent.parent / "translations")], domain="audit")
t = DOMAIN.gettext
INTEGRITY_ROLES = (AUDITOR, ADMIN, SYSTEM)
PAGE = 50


@bp.context_processor
def _words():
    return {"t": t, "may_verify": current_actor().role in INTEGRITY_ROLES}


def _audit():
    return audit_for(konvergen())


@bp.route("/")
def index():
    """Where an auditor starts: find a household, run the check, read the summary."""
    query = (request.args.get("household") or "").strip()
    error = None
    if query:
        try:
            return redirect(url_for(".history", household_id=_find(query)))
        except (HouseholdNotFound, InvalidValue):
            error = t("No household with this id or KK in your area.")
    return render_template("audit/index.html", query=query, error=error)


def _find(query: str) -> str:
    """A household id, or the household holding (or having held) a KK number."""
    if len(query) == 16 and query.isdigit():
        check_kk_number(query)
        return konvergen().households.find_by_kk(current_actor(), query)["id"]
    return konvergen().households.get_household(current_actor(), query)["id"]


@bp.route("/households/<household_id>")
def history(household_id: str):
    """Every event with its changes; the state as of an instant; a diff between two."""
    actor = current_actor()
    histories = _audit().histories
    record = histories.history(actor, household_id)
    for event, sentence in sentences(record["events"], reference_names()):
        event["sentence"] = sentence
    as_of_text = request.args.get("as_of", "").strip()
    since, until = request.args.get("from", "").strip(), request.args.get("to", "").strip()
    state = diff = None
    errors: dict[str, str] = {}
    if as_of_text:
        try:
            state = histories.state_as_of(actor, household_id, as_of_text)
        except (InvalidValue, NotYetRecorded) as error:
            errors["as_of"] = _refusal(error)
    if since or until:
        try:
            diff = histories.diff(actor, household_id, since, until)
        except InvalidValue as error:
            errors[error.field] = _refusal(error)
    return render_template(
        "audit/history.html",
        record=record,
        events=list(reversed(record["events"])),
        current=konvergen().households.get_household(actor, household_id),
        state=state,
        diff=diff,
        errors=errors,
        as_of=as_of_text,
        since=since,
        until=until,
    )


def _refusal(error: DomainError) -> str:
    if isinstance(error, InvalidValue) and error.reason == AS_OF_HELP:
        return t("Give a date (2025-06-30) or a date and time (2025-06-30T23:59).")
    if isinstance(error, InvalidValue):  # the diff's "from" after its "to"
        return t("The first moment must not be later than the second.")
    return t("The household was not yet recorded then.")


@bp.route("/verification", methods=["GET", "POST"])
def verification():
    """The check runs when asked (a POST: it may seal finished days), never on a mere visit."""
    actor = current_actor()
    integrity = _audit().integrity
    result = integrity.verify(actor) if request.method == "POST" else None
    seals = integrity.seals(actor)
    return render_template("audit/verification.html", result=result, seals=list(reversed(seals))[:30], seal_count=len(seals))


@bp.route("/summary")
def summary_page():
    """The monitoring summary as recorded by a date and as effective by it, side by side."""
    as_of = (request.args.get("as_of") or "").strip()
    comparison = error = None
    if as_of:
        try:
            parse_instant(as_of)
            comparison = _audit().reports.compare(current_actor(), as_of)
        except InvalidValue:
            error = t("Give a date (2025-06-30) or a date and time (2025-06-30T23:59).")
    only_differences = request.args.get("differences") == "1"
    rows = comparison["differences" if only_differences else "rows"] if comparison else []
    return render_template(
        "audit/summary.html", as_of=as_of, comparison=comparison, rows=rows, only_differences=only_differences, error=error
    )


@bp.route("/summary.<fmt>")
def summary_download(fmt: str):
    if fmt not in FORMATS:
        return redirect(url_for(".summary_page"))
    content, media_type, name = _audit().reports.export_comparison(current_actor(), request.args.get("as_of", ""), fmt)
    return Response(content, mimetype=media_type, headers=attachment(name))


@bp.route("/access-log")
def access_log():
    """Who read which history, looked at a past state, exported or checked, newest first."""
    filters = {key: (request.args.get(key) or "").strip() or None for key in ("username", "action", "household_id")}
    if filters["action"] not in (None, *ACTIONS):
        filters["action"] = None
    before = request.args.get("before", "")
    page = _audit().access_log.browse(
        current_actor(), before_id=int(before) if before.isdigit() else None, limit=PAGE, **filters
    )
    return render_template("audit/access_log.html", page=page, filters=filters, actions=ACTIONS)
