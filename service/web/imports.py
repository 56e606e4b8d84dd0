"""The administrators' import pages: upload a spreadsheet, read the preview (first
rows, counts, first rejections), confirm, and download the rejection report.

Thin views over ``service.importing.Importer``: the upload is kept in a temporary
folder under the instance folder between the preview and the confirmation, and the
confirmation carries the previewed file's sha256, so the importer refuses a file
whose bytes changed in between. Words of these pages live in their own Flask-Babel
domain (``imports``), like the auditors' pages, so they are translated without
touching the shared catalogue.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path
from uuid import uuid4

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import Domain
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from werkzeug.utils import secure_filename
from wtforms import DateField, HiddenField, SelectChoice, SelectField
from wtforms.validators import InputRequired, Optional, Regexp

from service.access import ADMIN
from service.exporting.tables import FORMATS, MEDIA_TYPES, attachment
from service.importing.errors import ImportFileError
from service.importing.importer import Importer
from service.importing.layouts import LAYOUTS
from service.web.messages import translate_reason
from service.web.support import current_actor, konvergen

bp = Blueprint("imports", __name__, url_prefix="/imports")

DOMAIN = Domain(translation_directories=[str(Path(__file__).resolve().parent.parent / "translations")],
                domain="imports")
t = DOMAIN.gettext
lt = DOMAIN.lazy_gettext
UPLOAD_TOKEN = re.compile(r"^[0-9a-f]{32}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
UPLOAD_FOLDER = "KONVERGEN_IMPORT_FOLDER"
PENDING = "pending_imports"
STALE_UPLOAD_SECONDS = 24 * 3600
UPLOAD_LIMIT = "KONVERGEN_IMPORT_MAX_BYTES"
DEFAULT_UPLOAD_LIMIT = 64 * 1024 * 1024  # a P3KE extract of a kabupaten; the rest of the UI keeps 1 MB  # the upload tokens of this browser session


def _layout_choices():
    return [SelectChoice("households", lt("Households (one row per person)")),
            SelectChoice("interventions", lt("Interventions (an agency's list)"))]


class UploadForm(FlaskForm):
    layout = SelectField(lt("Layout"), choices=_layout_choices, validators=[InputRequired()])
    file_date = DateField(lt("File date"), validators=[Optional()])
    file = FileField(lt("File"), validators=[
        FileRequired(lt("Choose a file.")),
        FileAllowed(["csv", "xlsx"], lt("Upload a .csv or .xlsx file.")),
    ])


class ConfirmForm(FlaskForm):
    """What the preview page sends back: which upload, and the bytes it showed."""
    token = HiddenField(validators=[InputRequired(), Regexp(UPLOAD_TOKEN)])
    sha256 = HiddenField(validators=[InputRequired(), Regexp(SHA256)])
    layout = HiddenField(validators=[InputRequired()])
    file_date = HiddenField(validators=[Optional(), Regexp(r"^\d{4}-\d{2}-\d{2}$")])


@bp.record_once
def _allow_large_uploads(state) -> None:
    """Spreadsheets are bigger than any other form. The body is read by the CSRF
    check, before this blueprint's own hooks run, so the limit is raised first,
    for uploads to this page only (Werkzeug spools large files to disk)."""
    def raise_limit() -> None:
        if request.endpoint == f"web.{bp.name}.upload":
            request.max_content_length = int(state.app.config.get(UPLOAD_LIMIT, DEFAULT_UPLOAD_LIMIT))

    state.app.before_request_funcs.setdefault(None, []).insert(0, raise_limit)


@bp.before_request
def _administrators_only():
    if current_actor().role != ADMIN:
        abort(403)


@bp.context_processor
def _words():
    return {"t": t, "count_words": {
        "rows": t("Rows read"), "rows_rejected": t("Rows rejected"),
        "households_created": t("Households registered"), "households_updated": t("Households updated"),
        "households_unchanged": t("Households unchanged"), "households_rejected": t("Households rejected"),
        "interventions_created": t("Interventions recorded"), "interventions_updated": t("Interventions updated"),
        "interventions_unchanged": t("Interventions unchanged"),
    }, "date_sources": {
        "option": t("as given"), "workbook": t("the workbook's saved date"), "import date": t("the import date"),
    }, "statuses": {
        "completed": t("completed"), "failed": t("failed"), "already_imported": t("already imported: nothing changed"),
    }, "layouts": {"households": t("households"), "interventions": t("interventions")},
        "reason": translate_reason}


def _importer() -> Importer:
    return Importer(konvergen())


def _upload_root() -> Path:
    """``KONVERGEN_IMPORT_FOLDER``, else ``imports`` in the instance folder."""
    root = Path(current_app.config.get(UPLOAD_FOLDER) or Path(current_app.instance_path) / "imports")
    root.mkdir(parents=True, exist_ok=True)
    return root


def _saved_upload(token: str) -> Path:
    """The file uploaded under ``token`` in this session, or 404."""
    if not UPLOAD_TOKEN.match(token or "") or token not in session.get(PENDING, []):
        abort(404)
    files = list((_upload_root() / token).glob("*"))
    if len(files) != 1:
        abort(404)
    return files[0]


def _forget_stale_uploads() -> None:
    """Uploads previewed but never confirmed are kept a day, then removed."""
    for folder in _upload_root().iterdir():
        if folder.is_dir() and time.time() - folder.stat().st_mtime > STALE_UPLOAD_SECONDS:
            shutil.rmtree(folder, ignore_errors=True)


def _forget_upload(token: str) -> None:
    shutil.rmtree(_upload_root() / token, ignore_errors=True)
    session[PENDING] = [t_ for t_ in session.get(PENDING, []) if t_ != token]


def _index(form: UploadForm, error: str | None = None, status: int = 200):
    return render_template("imports/index.html", form=form, error=error, imports=_importer().imports(20)), status


@bp.route("/", methods=["GET"])
def index():
    return _index(UploadForm())


@bp.route("/", methods=["POST"])
def upload():
    """Keeps the file under the instance folder and shows what importing it would do."""
    form = UploadForm()
    if not form.validate():
        return _index(form, status=422)
    _forget_stale_uploads()
    token = uuid4().hex
    folder = _upload_root() / token
    folder.mkdir()
    name = secure_filename(form.file.data.filename) or f"upload{Path(form.file.data.filename).suffix.lower()}"
    path = folder / name
    form.file.data.save(path)
    session[PENDING] = [*session.get(PENDING, [])[-9:], token]
    try:
        preview = _importer().preview(current_actor(), path, layout=form.layout.data, file_date=form.file_date.data)
    except ImportFileError as error:
        _forget_upload(token)
        return _index(form, error=str(error), status=422)
    confirm = ConfirmForm(formdata=None, token=token, sha256=preview["sha256"], layout=form.layout.data,
                          file_date=form.file_date.data.isoformat() if form.file_date.data else "")
    return render_template("imports/preview.html", preview=preview, confirm=confirm)


@bp.route("/confirm", methods=["POST"])
def confirm():
    """Imports the previewed upload; a file changed since the preview is refused."""
    form = ConfirmForm()
    if not form.validate() or form.layout.data not in LAYOUTS:
        abort(400)
    path = _saved_upload(form.token.data)
    file_date = _date(form.file_date.data)
    try:
        summary = _importer().confirm(current_actor(), path, sha256=form.sha256.data, layout=form.layout.data,
                                      file_date=file_date)
    except ImportFileError as error:
        _forget_upload(form.token.data)
        return _index(UploadForm(formdata=None), error=str(error), status=409)
    _forget_upload(form.token.data)
    return redirect(url_for(".result", import_id=summary.import_id))


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


@bp.route("/<import_id>")
def result(import_id: str):
    """One import's summary: counts, status and its rejection report."""
    record = _record(import_id)
    return render_template("imports/result.html", record=record)


def _record(import_id: str) -> dict:
    record = _importer().log.get(import_id) if UPLOAD_TOKEN.match(import_id) else None
    if record is None:
        abort(404)
    return record


@bp.route("/<import_id>/rejections.<fmt>")
def rejections(import_id: str, fmt: str):
    """The import's rejected rows (line, column, value, reason) as CSV or XLSX."""
    if fmt not in FORMATS:
        abort(404)
    record = _record(import_id)
    with tempfile.TemporaryDirectory(dir=_upload_root()) as folder:
        path = Path(folder) / f"rejections.{fmt}"
        _importer().write_report(import_id, path)
        content = path.read_bytes()
    name = f"konvergen-rejections-{Path(record['file_name']).stem}-{import_id[:8]}.{fmt}"
    return Response(content, mimetype=MEDIA_TYPES[fmt], headers=attachment(name))
