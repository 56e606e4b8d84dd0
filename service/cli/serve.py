"""`konvergen serve`: the web service and API under gunicorn.

Why gunicorn, one worker process with threads: it is a production WSGI server (werkzeug's
``run_simple`` is a development server and says so), and one process is what the embedded
SQLite default wants: a single writer process, and a single home for what runs beside
the requests (projections, the scheduler), which must not run once per worker. Threads
give the concurrency; the event store's optimistic concurrency keeps them honest.
"""

from __future__ import annotations

import os

import click
from flask import Flask
from gunicorn.app.base import BaseApplication

from projections.runner import start_projections
from service.app import create_app
from service.cli.context import open_konvergen, shown_url
from service.container import Konvergen
from service.scheduler import SchedulerConfigError, load_config, start_scheduler
from service.storage import database_url_from_env

# "embedded" runs the reminder scheduler inside `serve`; "off" when `konvergen scheduler
# run` is its own process beside several web workers (production on PostgreSQL).
SCHEDULER_ENV = "KONVERGEN_SCHEDULER"


# gunicorn 25.1+ opens a control socket at one fixed path per user by default; two servers
# (a demo and a test run) would fight over it, and nothing here uses it.
OPTIONAL_SETTINGS = ("control_socket_disable",)


def build_app() -> Flask:
    """The serving process's one Konvergen and the Flask app around it.

    Whatever runs in the background of a serving process starts here, once.
    """
    konvergen = Konvergen()
    try:
        start_projections(konvergen)  # KONVERGEN_PROJECTIONS=embedded (default) or worker
        app = create_app(konvergen)
        if os.environ.get(SCHEDULER_ENV, "embedded").strip().lower() == "embedded":
            app.extensions["konvergen_scheduler"] = start_scheduler(konvergen)
    except BaseException:
        konvergen.close()
        raise
    return app


def _close_konvergen(_server, worker) -> None:
    """gunicorn's worker_exit hook: stop background work and release the database."""
    app = getattr(worker, "wsgi", None)
    konvergen = app.extensions.get("konvergen") if isinstance(app, Flask) else None
    scheduler = app.extensions.get("konvergen_scheduler") if isinstance(app, Flask) else None
    if scheduler is not None:
        scheduler.stop()
    if konvergen is not None:
        konvergen.close()


class KonvergenServer(BaseApplication):
    """gunicorn configured from our options, not from sys.argv or a config file."""

    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in OPTIONAL_SETTINGS and key not in self.cfg.settings:
                continue  # an older gunicorn without this feature
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return build_app()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256), help="Requests served at once.")
def serve(host: str, port: int, threads: int) -> None:
    """Serve Konvergen on KONVERGEN_DATABASE_URL (default: SQLite under ./instance)."""
    # Open the database once here so a wrong URL fails with one line before gunicorn
    # starts; closed again so the worker process opens its own connections.
    with open_konvergen():
        pass
    try:
        load_config()
    except SchedulerConfigError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Konvergen on http://{host}:{port}/ (database {shown_url(database_url_from_env())})")
    KonvergenServer(
        {
            "bind": f"{host}:{port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": threads,
            "accesslog": "-",
            "errorlog": "-",
            "worker_exit": _close_konvergen,
            "control_socket_disable": True,
        }
    ).run()
