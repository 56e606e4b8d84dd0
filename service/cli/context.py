"""What every `konvergen` command shares: the service from the environment, and errors
turned into one clear line with a non-zero exit instead of a traceback."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import click
from eventsourcing.persistence import InfrastructureFactoryError, PersistenceError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from domain.errors import DomainError
from service.access import Actor
from service.container import Konvergen
from service.storage import StorageConfigError, database_url_from_env


def shown_url(url: str) -> str:
    """The database URL without its password, for messages."""
    if url.startswith("memory:"):
        return url
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is reported by open_storage itself
        return url


@contextmanager
def cli_errors() -> Iterator[None]:
    """Domain refusals print as ``field: reason``; database trouble as one line."""
    try:
        yield
    except DomainError as error:  # InvalidValue's message is already "field: reason"
        raise click.ClickException(error.message) from None
    except StorageConfigError as error:
        raise click.ClickException(str(error)) from None
    except (PersistenceError, InfrastructureFactoryError, SQLAlchemyError) as error:
        first_line = (str(error).strip().splitlines() or [error.__class__.__name__])[0]
        raise click.ClickException(
            f"database {shown_url(database_url_from_env())}: {first_line}"
        ) from None


@contextmanager
def open_konvergen() -> Iterator[Konvergen]:
    """The service on KONVERGEN_DATABASE_URL (default: SQLite under ./instance), closed after."""
    with cli_errors():
        konvergen = Konvergen()
    try:
        with cli_errors():
            yield konvergen
    finally:
        konvergen.close()


def acting_user(konvergen: Konvergen, username: str) -> Actor:
    """The active user ``--username`` names (the directory forgives case and spaces)."""
    actor = konvergen.users.actor(username)
    if actor is None:
        raise click.ClickException(f"--username: no active user {username}")
    return actor
