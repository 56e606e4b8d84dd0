"""WSGI entry point: `gunicorn wsgi:app` serves Konvergen on KONVERGEN_DATABASE_URL.

The same process set-up as `konvergen serve`. With several web workers on PostgreSQL,
set KONVERGEN_PROJECTIONS=worker and KONVERGEN_SCHEDULER=off and run
`konvergen projections run` and `konvergen scheduler run` as processes of their own.
"""

from service.cli.serve import build_app

app = build_app()
