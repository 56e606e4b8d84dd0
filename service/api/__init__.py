"""The JSON API under /api/v1, documented as OpenAPI 3 by flask-smorest."""

from __future__ import annotations

from flask import Flask, request
from flask_smorest import Api, Blueprint
from werkzeug.exceptions import HTTPException

from domain.errors import DomainError
from service.api.auth import authenticate_request
from service.api.errors import problem_for_domain_error, problem_for_http_exception

API_PREFIX = "/api/v1"


class KonvergenApi(Api):
    """flask-smorest's Api, answering errors as problem+json, and only on the API's paths."""

    def handle_http_exception(self, error: HTTPException):
        if not request.path.startswith(API_PREFIX):
            return error  # the web UI renders its own error pages
        return problem_for_http_exception(error)


meta = Blueprint("api_meta", __name__, url_prefix=API_PREFIX, description="Service health")


@meta.route("/health")
@meta.response(200)
def health():
    """Answers without authentication: for load balancers and benchmarks."""
    return {"status": "ok"}


def init_api(app: Flask) -> None:
    """Registers the API's blueprints and its error handlers on the app."""
    app.config.setdefault("API_TITLE", "Konvergen")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", API_PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "components": {
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}
            },
            "security": [{"bearerAuth": []}],
            "info": {
                "description": "One shared household record for every agency's programme "
                "in Kabupaten Bandung. Errors are application/problem+json (RFC 9457)."
            },
        },
    )
    api = KonvergenApi(app)
    app.extensions["konvergen_api"] = api

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError):
        if not request.path.startswith(API_PREFIX):
            raise error
        return problem_for_domain_error(error)

    @app.before_request
    def _authenticate():
        if request.path.startswith(API_PREFIX):
            authenticate_request()

    for blueprint in api_blueprints():
        api.register_blueprint(blueprint)


def api_blueprints() -> list:
    """The API's resources; each module owns one blueprint."""
    from service.api import audit, households, notifications, reference, views

    return [meta, households.blp, reference.blp, *views.blueprints, *notifications.blueprints, audit.blp]
