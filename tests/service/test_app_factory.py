"""How the serving process is put together: `gunicorn wsgi:app` and the instance folder."""

from __future__ import annotations

import importlib
import sys

from service.app import create_app
from service.container import Konvergen


def test_the_wsgi_module_serves_the_service_on_the_configured_database(tmp_path, monkeypatch):
    monkeypatch.setenv("KONVERGEN_DATABASE_URL", f"sqlite:///{tmp_path / 'served.db'}")
    monkeypatch.setenv("KONVERGEN_SCHEDULER", "off")
    monkeypatch.setenv("KONVERGEN_PROJECTIONS", "inline")
    sys.modules.pop("wsgi", None)

    wsgi = importlib.import_module("wsgi")
    try:
        konvergen = wsgi.app.extensions["konvergen"]
        assert konvergen.storage.url == f"sqlite:///{tmp_path / 'served.db'}"
        assert "konvergen_scheduler" not in wsgi.app.extensions
        login = wsgi.app.test_client().get("/login")
        assert login.status_code == 200
        assert (tmp_path / "served.db").exists()
    finally:
        wsgi.app.extensions["konvergen"].close()
        sys.modules.pop("wsgi", None)


def test_uploads_go_to_the_folder_the_default_database_lives_in(tmp_path, monkeypatch):
    monkeypatch.delenv("KONVERGEN_INSTANCE_PATH", raising=False)
    monkeypatch.delenv("KONVERGEN_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    konvergen = Konvergen("memory://")
    try:
        app = create_app(konvergen)
        assert app.instance_path == str(tmp_path / "instance")
    finally:
        konvergen.close()


def test_an_instance_folder_in_the_environment_is_used_by_the_app(tmp_path, monkeypatch):
    monkeypatch.setenv("KONVERGEN_INSTANCE_PATH", str(tmp_path / "elsewhere"))
    konvergen = Konvergen("memory://")
    try:
        assert create_app(konvergen).instance_path == str(tmp_path / "elsewhere")
    finally:
        konvergen.close()
