"""The Flask application factory: one Konvergen per process, shared by every request."""

from __future__ import annotations

import os
import secrets

from flask import Flask, current_app

from service.container import Konvergen
from service.storage import default_instance_path

SECRET_KEY_ENV = "KONVERGEN_SECRET_KEY"
MAX_BODY_BYTES = 1 * 1024 * 1024


def create_app(konvergen: Konvergen | None = None, config: dict | None = None) -> Flask:
    # The folder the default SQLite file lives in: uploads and the database side by side.
    app = Flask(__name__, instance_path=str(default_instance_path()))
    secret = os.environ.get(SECRET_KEY_ENV)
    app.config.update(
        # Without a configured secret, sessions last as long as the process: safe, not handy.
        SECRET_KEY=secret or secrets.token_hex(32),
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("KONVERGEN_SECURE_COOKIES", "0") == "1",
    )
    # Keep fields in the order the schemas declare them (Flask 3 sorts by default).
    app.json.sort_keys = False
    if config:
        app.config.update(config)
    app.extensions["konvergen"] = konvergen or Konvergen()

    from service.api import init_api

    init_api(app)

    from service.web import init_web

    init_web(app)  # after the API: its error pages leave /api/v1 to the API's handlers
    return app


def current_konvergen() -> Konvergen:
    return current_app.extensions["konvergen"]
