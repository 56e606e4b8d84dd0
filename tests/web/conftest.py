"""The web UI through Flask's test client, on the in-memory service, CSRF switched on.

Projections run inline (a read-your-writes wait catches up in the request's thread),
so lists and figures show a change as soon as the command that made it returns.
``people`` makes one user per role; ``web(username)`` is that person's signed-in
browser; ``household`` registers one household in Cileunyi Kulon.

Modules with many small independent tests (the command forms) share one service per
module through ``shared_service`` and give each test its own household instead.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from projections.runner import start_projections
from service.app import create_app
from service.clock import FixedClock
from service.container import Konvergen
from web_helpers import KK, QUICK_HASHER, TEST_CONFIG, add_people, browser_factory, register_household

@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch):
    """argon2 at the lowest cost: these tests are about pages, not password hashing."""
    monkeypatch.setattr("service.users._hasher", QUICK_HASHER)


@pytest.fixture
def people(konvergen):
    return add_people(konvergen)


@pytest.fixture
def projections(konvergen):
    runner = start_projections(konvergen, mode="inline")
    runner.catch_up()
    return runner


@pytest.fixture
def app(konvergen, people, projections):
    return create_app(konvergen, dict(TEST_CONFIG))


@pytest.fixture
def web(app):
    """``web("asep")``: a signed-in browser session for that person."""
    return browser_factory(app)


@pytest.fixture
def register(konvergen, people):
    """``register(kk=..., village=..., head=...)`` -> the new household's id (as admin)."""

    def make(kk: str = KK, **details) -> str:
        return register_household(konvergen, people["admin"], kk=kk, **details)

    return make


@pytest.fixture
def household(register) -> str:
    return register()


@pytest.fixture(scope="module")
def shared_service():
    """One service, its users and app for a whole module: (konvergen, people, app)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("service.users._hasher", QUICK_HASHER)
        konvergen = Konvergen("memory://", clock=FixedClock(datetime(2026, 11, 28, 3, 0, tzinfo=timezone.utc)))
        people = add_people(konvergen)
    start_projections(konvergen, mode="inline").catch_up()
    app = create_app(konvergen, dict(TEST_CONFIG))
    yield konvergen, people, app
    konvergen.close()
