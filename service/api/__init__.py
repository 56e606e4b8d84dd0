"""The JSON API under /api/v1, documented as OpenAPI 3 by flask-smorest."""

from __future__ import annotations

from flask import Flask


def init_api(app: Flask) -> None:
    """Registers the API's blueprints and its error handlers on the app."""
