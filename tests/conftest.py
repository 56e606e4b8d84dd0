"""Shared fixtures: a clock, an in-memory service, and the stores to run against.

Storage tests take the ``database_url`` fixture, which runs them once on a fresh
SQLite file and once on PostgreSQL. PostgreSQL comes from KONVERGEN_TEST_POSTGRES_URL
(default postgresql://postgres@127.0.0.1:5432/test), where each test creates and drops
a database of its own; when it does not answer the
PostgreSQL runs are skipped with that reason, never silently. With
KONVERGEN_REQUIRE_POSTGRES=1 (CI) they fail instead.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from uuid import uuid4

import pytest

from service.access import Actor
from service.clock import FixedClock

POSTGRES_URL = os.environ.get("KONVERGEN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_problem() -> str | None:
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return None
    except Exception as error:  # any failure to connect is a reason to skip
        return f"PostgreSQL at {POSTGRES_URL} does not answer: {error.__class__.__name__}: {error}".strip()


_PG_PROBLEM: list = []


def postgres_problem() -> str | None:
    if not _PG_PROBLEM:
        _PG_PROBLEM.append(_postgres_problem())
    return _PG_PROBLEM[0]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """A fresh, empty database of each kind, used by this test alone.

    Each PostgreSQL run gets a database of its own (from template0, dropped afterwards)
    rather than resetting a shared one: tests that start processes, or two test runs on
    one machine, would otherwise wipe each other's tables mid-run.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'konvergen.db'}"
        return
    problem = postgres_problem()
    if problem:
        if os.environ.get("KONVERGEN_REQUIRE_POSTGRES") == "1":
            pytest.fail(problem)
        pytest.skip(problem)
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"konvergen_t_{uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def clock():
    return FixedClock(datetime(2026, 11, 28, 3, 0, tzinfo=timezone.utc))


@pytest.fixture
def recorded_times_follow_the_clock(monkeypatch, clock):
    """Event timestamps (and audit chain rows) come from the event library's clock;
    this ties it to the test's, so a test can say when an event was recorded."""
    import eventsourcing.domain

    monkeypatch.setattr(eventsourcing.domain, "datetime_now_with_tzinfo", clock.now)


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
