"""Service-test fixtures on top of the shared in-memory ``konvergen``."""

from __future__ import annotations

import pytest

from service_helpers import FAR_KK, FAR_VILLAGE, VILLAGE, register


@pytest.fixture
def households(konvergen):
    return konvergen.households


@pytest.fixture
def household_id(households) -> str:
    """A household in Cileunyi Kulon, registered by the administrator."""
    return register(households)["id"]


@pytest.fixture
def far_household_id(households) -> str:
    """A household in Padasuka, another kecamatan."""
    return register(households, kk=FAR_KK, village=FAR_VILLAGE)["id"]


@pytest.fixture
def pendamping(konvergen) -> str:
    """A case worker in Cileunyi Kulon that follow-ups can be assigned to."""
    konvergen.users.create_user(username="asep", password="rahasia-sekali", role="case_worker", villages=[VILLAGE])
    return "asep"
