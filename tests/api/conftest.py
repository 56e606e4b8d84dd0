"""The JSON API through Flask's test client, on the in-memory service.

``make_client(role, ...)`` makes a user and a client sending their bearer token; ``api``
is an administrator's; ``household`` registers one household in Cileunyi Kulon through
the API; ``state`` reads a household's version and event count to prove nothing changed.
"""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from api_helpers import PASSWORD, ApiClient, registration
from service.app import create_app


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch):
    """Every API test makes users; argon2 at production cost (a quarter second each) is
    not what these tests are about, so they hash at the lowest cost argon2 allows."""
    monkeypatch.setattr("service.users._hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def app(konvergen):
    return create_app(konvergen, {"TESTING": True})


@pytest.fixture
def make_client(app, konvergen):
    """``make_client(role, **scope)`` -> an ApiClient for a new user of that role."""
    made: dict[str, int] = {}

    def make(role: str, username: str | None = None, **scope) -> ApiClient:
        made[role] = made.get(role, 0) + 1
        username = username or f"{role.replace('_', '-')}{made[role]}"
        konvergen.users.create_user(username=username, password=PASSWORD, role=role, **scope)
        return ApiClient(app.test_client(), konvergen.users.issue_token(username), username)

    return make


@pytest.fixture
def api(make_client):
    """An administrator: may do everything everywhere."""
    return make_client("admin", "admin")


@pytest.fixture
def anonymous(app):
    return ApiClient(app.test_client(), None)


@pytest.fixture
def household(api):
    """A registered household's id (version 1)."""
    response = api.post("/households", registration())
    assert response.status_code == 201, response.json
    return response.json["id"]


@pytest.fixture
def state(konvergen, admin):
    """``state(id)`` -> (version, number of events): what 'nothing changed' compares."""

    def read(household_id: str) -> tuple[int, int]:
        version = konvergen.households.current_version(admin, household_id)
        return version, len(konvergen.households.history(admin, household_id))

    return read
