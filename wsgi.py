"""WSGI entry point: `gunicorn wsgi:app` serves Konvergen on KONVERGEN_DATABASE_URL."""

from service.app import create_app

app = create_app()
