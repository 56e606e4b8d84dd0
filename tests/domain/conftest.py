"""Domain-test fixtures; the builders live in domain_builders.py."""

from __future__ import annotations

import pytest

from domain.household import Household
from domain_builders import register


@pytest.fixture
def household() -> Household:
    """A registered household whose registration event has already been collected."""
    registered = register()
    registered.collect_events()
    return registered
