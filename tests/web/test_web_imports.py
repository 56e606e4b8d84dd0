"""The administrators' import pages: upload, preview, confirm, rejection report, and
who may use them."""

from __future__ import annotations

import csv
import io
import multiprocessing
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from openpyxl import load_workbook
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

import service.importing.importer
from projections.runner import start_projections
from service.app import create_app
from service.container import Konvergen
from service.importing.parallel import Helpers
from service.importing.staging import share_of
from web_helpers import TEST_CONFIG, add_people, browser_factory, form_values, text

HEADER = "No KK,NIK,Nama,Hubungan,Jenis Kelamin,Tanggal Lahir,Alamat,RT,RW,Kode Desa,Desil,Kategori\n"
GOOD = (
    HEADER
    + "3204051200000001,3204051705800011,Dadang Sukmana,Kepala Keluarga,L,1980-05-17,Jl. Cileunyi 5,3,7,32.04.05.2001,1,Miskin Ekstrem\n"
    + "3204051200000001,3204054902830012,Euis Ma'ruf,Istri,P,1983-02-09,,3,7,,,\n"
    + "3204051200000002,3204051705800021,Ujang Rahmat,Kepala Keluarga,L,1980-05-17,Jl. Cibiru 2,4,8,32.04.05.2001,3,Miskin\n"
)
BAD = (
    HEADER
    + "3204051200000003,3204051705800031,Asep Saepudin,Kepala Keluarga,L,1980-05-17,Jl. Cileunyi 9,3,7,99.99.99.9999,1,Miskin\n"
    + "3204051200000004,32040517058,Iis Dahlia,Kepala Keluarga,P,1981-03-02,Jl. Cileunyi 1,3,7,32.04.05.2001,2,Miskin\n"
)


@pytest.fixture
def uploads(tmp_path) -> Path:
    return tmp_path / "uploads"


@pytest.fixture
def app(konvergen, people, projections, uploads):
    """The web tests' app, keeping uploads in the test's own folder."""
    return create_app(konvergen, {**TEST_CONFIG, "KONVERGEN_IMPORT_FOLDER": str(uploads)})


def upload(browser, content: str, name: str = "p3ke.csv", layout: str = "households", **fields):
    data = {"layout": layout, "file": (io.BytesIO(content.encode("utf-8")), name), **fields}
    return browser.post("/imports/", data, content_type="multipart/form-data")


def confirm_fields(html: str) -> dict:
    return {k: v for k, v in form_values(html).items() if k in ("csrf_token", "token", "sha256", "layout", "file_date")}


def test_an_admin_uploads_sees_a_preview_confirms_and_the_households_are_registered(web, konvergen, people):
    admin = web("admin")
    preview = upload(admin, GOOD)
    assert preview.status_code == 200
    page = text(preview)
    assert "Dadang Sukmana" in page and "Euis Ma&#39;ruf" in page
    assert re.search(r'id="count-rows">3<', page) and re.search(r'id="count-households_created">2<', page)

    done = admin.post("/imports/confirm", confirm_fields(page))
    assert done.status_code == 302
    result = admin.get(done.headers["Location"])
    assert 'data-status="completed"' in text(result)
    assert re.search(r'id="count-households_created">2<', text(result))
    found = konvergen.households.find_by_kk(people["admin"], "3204051200000001")
    assert [m["name"] for m in found["members"]] == ["Dadang Sukmana", "Euis Ma'ruf"]
    assert "p3ke.csv" in text(admin.get("/imports/"))


def test_an_upload_on_a_sqlite_file_is_previewed_and_imported_by_helper_processes_too(
        clock, tmp_path, uploads, monkeypatch):
    """What the importer does for a large file (>= PARALLEL_MIN_BYTES) from this
    threaded server: helper processes, spawned, each with its own service."""
    built = []

    class RecordedHelpers(Helpers):
        def import_shares(self, *args, **kwargs):
            counts = super().import_shares(*args, **kwargs)
            built.append(dict(self.results))
            return counts

    monkeypatch.setattr(service.importing.importer, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(service.importing.importer, "processes_available", lambda: 2)
    monkeypatch.setattr(service.importing.importer, "Helpers", RecordedHelpers)
    content = GOOD + ("3204051200000004,3204051705800041,Iwan Setiawan,Kepala Keluarga,L,1980-05-17,"
                      "Jl. Cibiru 4,4,8,32.04.05.2001,2,Miskin\n")
    assert [share_of(f"320405120000000{n}", 2) for n in (1, 2, 4)] == [1, 1, 0]  # both shares
    konvergen = Konvergen(f"sqlite:///{tmp_path / 'konvergen.db'}", clock=clock)
    try:
        people = add_people(konvergen)
        start_projections(konvergen, mode="inline").catch_up()
        app = create_app(konvergen, {**TEST_CONFIG, "KONVERGEN_IMPORT_FOLDER": str(uploads)})
        admin = browser_factory(app)("admin")

        page = text(upload(admin, content))
        assert re.search(r'id="count-rows">4<', page) and re.search(r'id="count-households_created">3<', page)
        done = admin.post("/imports/confirm", confirm_fields(page))
        assert done.status_code == 302
        result = text(admin.get(done.headers["Location"]))

        assert 'data-status="completed"' in result
        assert re.search(r'id="count-households_created">3<', result)
        assert re.search(r'id="count-rows_rejected">0<', result)
        assert [helper[1]["households_created"] for helper in built] == [2, 2]  # preview, then confirm
        for kk in ("3204051200000001", "3204051200000002", "3204051200000004"):
            assert konvergen.households.find_by_kk(people["admin"], kk)["kk_number"] == kk
        assert multiprocessing.active_children() == []
    finally:
        konvergen.close()


def test_the_preview_writes_nothing(web, konvergen, people):
    from service.errors import HouseholdNotFound

    assert upload(web("admin"), GOOD).status_code == 200
    with pytest.raises(HouseholdNotFound):
        konvergen.households.find_by_kk(people["admin"], "3204051200000001")


@pytest.mark.parametrize("username", ["asep", "sri", "dinsos", "inspektur"])
def test_only_administrators_may_open_or_use_the_import_pages(web, username):
    browser = web(username)
    assert browser.get("/imports/").status_code == 403
    assert upload(browser, GOOD).status_code == 403
    assert "/imports/" not in text(browser.get("/exports/"))


def test_the_menu_offers_imports_to_administrators(web):
    assert 'href="/imports/"' in text(web("admin").get("/exports/"))


def test_an_upload_without_the_csrf_token_is_refused_and_nothing_is_kept(web, uploads):
    admin = web("admin")
    data = {"layout": "households", "file": (io.BytesIO(GOOD.encode()), "p3ke.csv")}
    response = admin.post("/imports/", data, csrf=False, content_type="multipart/form-data")
    assert response.status_code == 400
    assert not uploads.exists() or not any(uploads.iterdir())


def test_a_confirmation_without_the_csrf_token_is_refused_and_imports_nothing(web, konvergen, people):
    from service.errors import HouseholdNotFound

    admin = web("admin")
    fields = confirm_fields(text(upload(admin, GOOD)))
    fields.pop("csrf_token")
    assert admin.post("/imports/confirm", fields, csrf=False).status_code == 400
    with pytest.raises(HouseholdNotFound):
        konvergen.households.find_by_kk(people["admin"], "3204051200000001")


def test_a_bad_file_shows_its_rejections_with_line_column_and_reason_and_offers_the_report(web, konvergen, people):
    admin = web("admin")
    page = text(upload(admin, BAD, name="desa.csv"))
    assert re.search(r'id="count-rows_rejected">2<', page)
    assert "Kode Desa" in page and "NIK" in page
    assert re.search(r"<td[^>]*>2</td><td[^>]*>Kode Desa</td>", page)

    result = admin.get(admin.post("/imports/confirm", confirm_fields(page)).headers["Location"])
    csv_link, xlsx_link = re.findall(r'href="(/imports/[0-9a-f]{32}/rejections\.(?:csv|xlsx))"', text(result))
    report = list(csv.DictReader(io.StringIO(admin.get(csv_link).get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["line"] if "line" in r else list(r.values())[0]) for r in report] == ["2", "3"]
    sheet = load_workbook(io.BytesIO(admin.get(xlsx_link).get_data())).active
    assert len(list(sheet.values)) == 3  # header and two rejected rows


def test_a_file_changed_between_the_preview_and_the_confirmation_is_refused(web, konvergen, people, uploads):
    from service.errors import HouseholdNotFound

    admin = web("admin")
    fields = confirm_fields(text(upload(admin, GOOD)))
    saved = next((uploads / fields["token"]).iterdir())
    saved.write_text(GOOD.replace("Dadang Sukmana", "Dadang Diganti"), encoding="utf-8")

    response = admin.post("/imports/confirm", fields)
    assert response.status_code == 409
    assert "not the file that was previewed" in text(response)
    with pytest.raises(HouseholdNotFound):
        konvergen.households.find_by_kk(people["admin"], "3204051200000001")


def test_a_file_that_is_not_a_spreadsheet_is_refused_by_the_form(web):
    response = upload(web("admin"), "hello", name="notes.txt")
    assert response.status_code == 422
    assert 'id="file-error"' in text(response)


def test_a_spreadsheet_larger_than_other_forms_may_be_uploaded(web):
    notes = ["x" * 110_000] * 10  # 1.1 MB, beyond the 1 MB every other form is held to
    content = GOOD.replace("Kategori\n", "Kategori," + ",".join(f"Catatan {n}" for n in range(10)) + "\n", 1)
    content = content.replace("Miskin Ekstrem\n", "Miskin Ekstrem," + ",".join(notes) + "\n", 1)
    admin = web("admin")
    response = post_large(admin, "/imports/", {"layout": "households", "csrf_token": admin.session_token(),
                                               "file": FileStorage(io.BytesIO(content.encode()), "p3ke.csv", content_type="text/csv")})
    assert response.status_code == 200
    assert re.search(r'id="count-households_created">2<', text(response))


def test_other_forms_keep_their_1_mb_limit(web):
    admin = web("admin")
    response = post_large(admin, "/language", {"language": "en", "next": "/", "csrf_token": admin.session_token(),
                                               "padding": FileStorage(io.BytesIO(b"x" * (1024 * 1024 + 10)), "padding.txt",
                                                                          content_type="text/plain")})
    assert response.status_code == 413


def post_large(browser, url: str, data: dict):
    """Encoded in memory: the test client would spool a large body to a temporary
    file it never closes."""
    boundary, body = encode_multipart(MultiDict(data))
    return browser.client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def test_every_word_of_the_import_pages_is_translated_and_compiled(tmp_path):
    """The pages' own catalogue (domain ``imports``), as the shared one is checked in test_web_i18n."""
    root = Path(__file__).resolve().parents[2]
    catalog = root / "service" / "translations" / "id" / "LC_MESSAGES" / "imports.po"
    method_map = [("service/web/imports.py", "python"), ("service/templates/imports/**.html", "jinja2")]
    found = {m if isinstance(m, str) else m[0]
             for _f, _l, m, _c, _x in extract_from_dir(str(root), method_map, keywords={"t": None, "lt": None})}
    with open(catalog, "rb") as stream:
        translated = {m.id for m in read_po(stream) if m.id and m.string and not m.fuzzy}
    assert found and not sorted(found - translated)
    out = tmp_path / "imports.mo"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "compile", "-i", str(catalog), "-o", str(out)],
                   check=True, capture_output=True)
    assert out.read_bytes() == (catalog.parent / "imports.mo").read_bytes()
