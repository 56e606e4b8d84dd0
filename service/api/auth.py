"""Bearer-token authentication for the JSON API: every request names its user."""

from __future__ import annotations

from flask import g, request
from werkzeug.exceptions import Unauthorized

from service.access import Actor

PUBLIC_ENDPOINTS = {"api-docs.openapi_json", "api_meta.health"}


def authenticate_request() -> None:
    """Runs before every API request; sets ``g.actor`` or answers 401."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    from service.app import current_konvergen

    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send an API token as 'Authorization: Bearer <token>'")
    actor = current_konvergen().users.actor_for_token(token.strip())
    if actor is None:
        raise Unauthorized("the API token is unknown or revoked")
    g.actor = actor


def current_actor() -> Actor:
    return g.actor
