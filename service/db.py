"""SQLAlchemy's side of the database: everything that is not the event store."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import DeclarativeBase, sessionmaker


class Base(DeclarativeBase):
    """Tables owned by the service: users, tokens, reference data."""


def create_tables(engine: Engine) -> None:
    # Import the modules that declare tables so their metadata is complete.
    from service import reference, users  # noqa: F401
    from service.importing import records  # noqa: F401

    Base.metadata.create_all(engine)


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)
