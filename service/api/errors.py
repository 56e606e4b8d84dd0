"""Every refusal becomes an RFC 9457 problem document, decided here and nowhere else."""

from __future__ import annotations

from flask import Response, json
from werkzeug.exceptions import HTTPException

from domain.errors import DomainError, DuplicateKK, InvalidState, InvalidValue, NotFound
from service.api.schemas import ProblemSchema
from service.errors import Forbidden, VersionConflict

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://konvergen.bandungkab.go.id/problems/"


def documents_problems(blp, problems: dict[int, str]):
    """Declares, for the OpenAPI document, the refusals a route answers with: ``{status: description}``."""
    def decorate(view):
        for status, description in problems.items():
            view = blp.alt_response(status, schema=ProblemSchema, content_type=PROBLEM_JSON, description=description)(view)
        return view

    return decorate


def status_for(error: DomainError) -> int:
    """The HTTP status that says what kind of refusal a domain error is."""
    if isinstance(error, InvalidValue):
        return 422
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, Forbidden):
        return 403
    if isinstance(error, (DuplicateKK, VersionConflict, InvalidState)):
        return 409
    return 400


def problem(status: int, title: str, detail: str | None = None, *, type_: str = "about:blank", headers: dict | None = None, **extra) -> Response:
    body = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def problem_for_domain_error(error: DomainError) -> Response:
    status = status_for(error)
    extra: dict = {"code": error.code}
    headers: dict = {}
    if isinstance(error, InvalidValue):
        extra["errors"] = {error.field: [error.reason]}
    if isinstance(error, DuplicateKK):
        extra["existing_id"] = str(error.existing_id) if error.existing_id else None
        if error.existing_id:
            headers["Location"] = f"/api/v1/households/{error.existing_id}"
    if isinstance(error, VersionConflict):
        extra["current_version"] = error.current
        headers["ETag"] = f'"{error.current}"'
    return problem(
        status,
        _TITLES.get(status, "Refused"),
        error.message,
        type_=PROBLEM_BASE + error.code,
        headers=headers,
        **extra,
    )


def problem_for_http_exception(error: HTTPException) -> Response:
    """Werkzeug/webargs errors (bad JSON, unknown fields, 413, 404 routes) as problems."""
    extra: dict = {}
    headers: dict = {}
    data = getattr(error, "data", None) or {}
    messages = data.get("errors") or data.get("messages")
    if messages:
        # webargs nests by location ({"json": {...}}); clients want field -> messages.
        if isinstance(messages, dict) and set(messages) <= _LOCATIONS:
            flat: dict = {}
            for location_messages in messages.values():
                for field, field_messages in flatten_messages(location_messages).items():
                    flat.setdefault(field, []).extend(field_messages)
            messages = flat
        else:
            messages = flatten_messages(messages)
        extra["errors"] = messages
    headers.update(data.get("headers") or {})
    if error.code == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="konvergen"')
    detail = data.get("message") or error.description
    if error.code == 422 and messages:
        detail = "the request body has invalid fields: " + ", ".join(sorted(map(str, messages)))
    elif error.code == 400 and messages:
        # Werkzeug's stock text says nothing; say what was malformed.
        detail = "the request is malformed: " + "; ".join(
            " ".join(map(str, found)) if field == "_schema" else f"{field}: {' '.join(map(str, found))}"
            for field, found in messages.items()
        )
    return problem(error.code or 500, error.name, detail, headers=headers, **extra)


_LOCATIONS = {"json", "query", "querystring", "form", "headers", "path", "view_args"}


def flatten_messages(messages, prefix: str = "") -> dict[str, list]:
    """Marshmallow's nested messages as the domain names fields: ``head.nik``, ``members[1].sex``.

    ``{"head": {"nik": [..]}}`` becomes ``{"head.nik": [..]}``, so a client reads one
    shape whether the schema or the domain refused the value.
    """
    if not isinstance(messages, dict):
        listed = list(messages) if isinstance(messages, (list, tuple)) else [str(messages)]
        return {prefix or "_schema": listed}
    flat: dict[str, list] = {}
    for key, value in messages.items():
        if isinstance(key, int):
            path = f"{prefix}[{key}]"
        elif key == "_schema":
            path = prefix or "_schema"
        else:
            path = f"{prefix}.{key}" if prefix else str(key)
        for field, field_messages in flatten_messages(value, path).items():
            flat.setdefault(field, []).extend(field_messages)
    return flat


_TITLES = {
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    422: "Unprocessable Content",
}
