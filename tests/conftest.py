"""Shared fixtures: a clock, an in-memory service, and the stores to run against.

Storage tests take the ``database_url`` fixture, which runs them once on a fresh
SQLite file and once on PostgreSQL. PostgreSQL comes from KONVERGEN_TEST_POSTGRES_URL
(default postgresql://postgres@127.0.0.1:5432/test); when it does not answer the
PostgreSQL runs are skipped with that reason, never silently. With
KONVERGEN_REQUIRE_POSTGRES=1 (CI) they fail instead.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

import pytest

from service.access import Actor
from service.clock import FixedClock

POSTGRES_URL = os.environ.get("KONVERGEN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_problem() -> str | None:
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL.replace("postgresql://", "postgresql://", 1), connect_timeout=3):
            return None
    except Exception as error:  # any failure to connect is a reason to skip
        return f"PostgreSQL at {POSTGRES_URL} does not answer: {error.__class__.__name__}: {error}".strip()


_PG_PROBLEM: list = []


def postgres_problem() -> str | None:
    if not _PG_PROBLEM:
        _PG_PROBLEM.append(_postgres_problem())
    return _PG_PROBLEM[0]


def reset_postgres() -> None:
    """Drops every table in the test database's public schema: each test starts empty."""
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'konvergen.db'}"
        return
    problem = postgres_problem()
    if problem:
        if os.environ.get("KONVERGEN_REQUIRE_POSTGRES") == "1":
            pytest.fail(problem)
        pytest.skip(problem)
    reset_postgres()
    yield POSTGRES_URL


@pytest.fixture
def clock():
    return FixedClock(datetime(2026, 11, 28, 3, 0, tzinfo=timezone.utc))


@pytest.fixture
def konvergen(clock):
    """The whole service on the in-memory store."""
    from service.container import Konvergen

    k = Konvergen("memory://", clock=clock)
    yield k
    k.close()


ADMIN = Actor(username="admin", role="admin", display_name="Admin")


@pytest.fixture
def admin():
    return ADMIN
