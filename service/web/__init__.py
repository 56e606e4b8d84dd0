"""The case workers' web UI: server-rendered pages, htmx for partial updates.

``init_web(app)`` adds it to the application made by ``create_app``: sign-in
(Flask-Login), CSRF on every form (Flask-WTF), languages (Flask-Babel), login rate
limits (Flask-Limiter), the pages by area, and error pages. The JSON API under /api/v1
is left alone: it has bearer tokens instead of cookies, and problem+json errors.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from flask import Blueprint, Flask, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFProtect

from service.access import ADMIN, AUDITOR
from service.api import API_PREFIX
from service.web import audit, auth, commands, dashboard, exports, filters, households, imports, maps, visits
from service.web.errors import init_error_pages
from service.web.i18n import init_i18n
from service.web.i18n import lazy_gettext as _l
from service.web.labels import label
from service.web.support import has_visits, may_register

DEFAULT_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
PUBLIC_ENDPOINTS = {"web.auth.login", "web.auth.language"}
AUDIT_ROLES = (AUDITOR, ADMIN)


def _nav_items() -> list[dict]:
    if not current_user.is_authenticated:
        return []
    actor = current_user.actor
    items = [
        ("web.dashboard.index", _l("Home")),
        ("web.households.index", _l("Households")),
        ("web.maps.index", _l("Map")),
    ]
    if has_visits(actor):
        items.append(("web.visits.index", _l("My visits")))
    items.append(("web.exports.index", _l("Exports")))
    if actor.role in AUDIT_ROLES:
        items.append(("web.audit.index", _l("Audit")))
    if actor.role == ADMIN:
        items.append(("web.imports.index", _l("Imports")))
    current = request.endpoint or ""
    return [
        {"url": url_for(endpoint), "label": text, "active": current.startswith(endpoint.rsplit(".", 1)[0])}
        for endpoint, text in items
    ]


def _content_security_policy(tiles: str) -> str:
    tile_origin = "{0.scheme}://{0.netloc}".format(urlsplit(tiles.replace("{s}", "a"))) if tiles else ""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src 'self' data: {tile_origin}".rstrip() + "; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'"
    )


ENVIRONMENT_SETTINGS = {
    # setting: (environment variable, default)
    "KONVERGEN_MAP_TILES": ("KONVERGEN_MAP_TILES", DEFAULT_TILES),  # "" = no background map
    "KONVERGEN_LOGIN_RATE_LIMIT": ("KONVERGEN_LOGIN_RATE_LIMIT", auth.DEFAULT_LOGIN_LIMIT),
    "RATELIMIT_STORAGE_URI": ("KONVERGEN_RATELIMIT_STORAGE_URI", "memory://"),  # e.g. redis://... for many workers
    "KONVERGEN_FRAGMENT_CACHE": ("KONVERGEN_FRAGMENT_CACHE", "1"),  # 0: render every page part every time
}


def init_web(app: Flask) -> None:
    for setting, (variable, default) in ENVIRONMENT_SETTINGS.items():
        app.config.setdefault(setting, os.environ.get(variable, default))
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 8 * 3600)  # a working day in the field
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # checked below, outside /api/v1 only
    csrf = CSRFProtect(app)

    @app.before_request
    def _csrf_outside_api():
        if request.routing_exception is not None or request.path.startswith(API_PREFIX):
            return  # no such page (its 404/405 says so), or the API with its bearer tokens
        if app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()

    init_i18n(app)
    auth.init_login(app)
    auth.init_limiter(app)

    web = Blueprint("web", __name__)

    @web.before_request
    def _require_login():
        if request.endpoint not in PUBLIC_ENDPOINTS and not current_user.is_authenticated:
            return app.login_manager.unauthorized()
        return None

    for area in (auth, dashboard, households, commands, filters, maps, visits, exports, audit, imports):
        web.register_blueprint(area.bp)
    init_error_pages(app, web)
    app.register_blueprint(web)

    app.jinja_env.globals["label"] = label  # macros are imported without the context
    policy = _content_security_policy(app.config["KONVERGEN_MAP_TILES"])

    @app.after_request
    def _page_headers(response):
        if request.path.startswith(API_PREFIX):
            return response
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.path.startswith("/static/"):
            # Pages name people and their NIKs: never keep them in a shared cache.
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.context_processor
    def _layout():
        return {
            "nav_items": _nav_items(),
            "may_register": current_user.is_authenticated and may_register(current_user.actor),
        }
