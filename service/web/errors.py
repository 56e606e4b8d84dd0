"""Error pages for the web UI, in the same style as every page and never with a trace.

Statuses come from the API's one mapping (``status_for``) so a refusal means the same
thing in both. Requests under /api/v1 keep the API's own problem+json handlers: the
handlers here hand those back untouched.
"""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from domain.errors import DomainError
from service.api import API_PREFIX
from service.api.errors import status_for
from service.errors import HouseholdNotFound
from service.web.i18n import lazy_gettext as _l
from service.web.messages import error_message

log = logging.getLogger(__name__)

TITLES = {
    400: _l("The request could not be understood"),
    401: _l("Please sign in"),
    403: _l("You may not do this"),
    404: _l("Not found"),
    405: _l("This action is not available here"),
    409: _l("This could not be done"),
    413: _l("The upload is too large"),
    422: _l("Some values are not valid"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong on our side"),
}
EXPLANATIONS = {
    400: _l("Go back and try again."),
    403: _l("Your role or area does not allow this. Ask your supervisor if you need it."),
    404: _l("The page or household was not found, or it is outside your area."),
    405: _l("Go back and use the buttons on the page."),
    413: _l("Send a smaller file."),
    429: _l("Wait a minute and try again."),
    500: _l("The problem has been logged. Try again in a moment; your last change may not have been saved."),
}
CSRF_EXPLANATION = _l("The form expired or was sent from elsewhere. Reload the page and send it again.")
FALLBACK_500 = (
    "<!doctype html><title>Konvergen</title><h1>Terjadi kesalahan / Something went wrong</h1>"
    "<p>Coba lagi sebentar lagi. / Try again in a moment.</p>"
)
HOUSEHOLD_NOT_FOUND = _l("This household was not found, or it is outside your area.")


def error_page(status: int, detail: str | None = None):
    title = TITLES.get(status, TITLES[400] if status < 500 else TITLES[500])
    explanation = detail or EXPLANATIONS.get(status, EXPLANATIONS[400] if status < 500 else EXPLANATIONS[500])
    return render_template("errors/error.html", status=status, title=title, explanation=explanation), status


def domain_error_page(error: DomainError):
    """A refusal that reached no form (for instance a household out of scope)."""
    if isinstance(error, HouseholdNotFound):
        return error_page(404, str(HOUSEHOLD_NOT_FOUND))
    return error_page(status_for(error), error_message(error))


def _is_api() -> bool:
    return request.path.startswith(API_PREFIX)


def init_error_pages(app: Flask, web_blueprint) -> None:
    """Must run after the API registered its handlers: those keep answering /api/v1."""
    web_blueprint.register_error_handler(DomainError, domain_error_page)
    api_http_handler = app.error_handler_spec[None][None].get(HTTPException)

    def http_error(error: HTTPException):
        if _is_api() and api_http_handler is not None:
            return api_http_handler(error)
        if isinstance(error, CSRFError):
            return error_page(400, str(CSRF_EXPLANATION))
        if isinstance(error, RateLimitExceeded):
            return error_page(429)
        return error_page(error.code or 500)

    def server_error(error: InternalServerError):
        original = getattr(error, "original_exception", None)
        if original is not None:
            log.error("unhandled error on %s %s", request.method, request.path, exc_info=original)
        if _is_api() and api_http_handler is not None:
            return api_http_handler(error)
        try:
            return error_page(500)
        except Exception:  # the page itself failed (the database is down...): plain words
            log.exception("the error page failed too")
            return FALLBACK_500, 500, {"Content-Type": "text/html; charset=utf-8"}

    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(InternalServerError, server_error)
