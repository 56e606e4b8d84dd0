"""Integration fixtures: the whole service on a real database (SQLite file, PostgreSQL).

``database_url`` is redefined here with the same parameters and skip rules as the
shared one, except that each PostgreSQL run gets a database of its own (created from
template0, dropped afterwards) instead of resetting the shared ``test`` database's
schema: these tests run many processes for seconds, and other suites reset that
schema while they run.
"""

from __future__ import annotations

import os
from uuid import uuid4

import pytest
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get("KONVERGEN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_problem() -> str | None:
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return None
    except Exception as error:  # any failure to connect is a reason to skip
        return f"PostgreSQL at {POSTGRES_URL} does not answer: {error.__class__.__name__}: {error}".strip()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """A fresh, empty database of each kind, used by nothing else."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'konvergen.db'}"
        return
    problem = _postgres_problem()
    if problem:
        if os.environ.get("KONVERGEN_REQUIRE_POSTGRES") == "1":
            pytest.fail(problem)
        pytest.skip(problem)
    import psycopg

    name = f"konvergen_it_{uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def open_store(database_url, clock):
    """Opens ``Konvergen(database_url)``, as many times as a test asks; closes them all."""
    from service.container import Konvergen

    opened = []

    def open_():
        konvergen = Konvergen(database_url, clock=clock)
        opened.append(konvergen)
        return konvergen

    yield open_
    for konvergen in reversed(opened):
        konvergen.close()


@pytest.fixture
def store(open_store):
    return open_store()
