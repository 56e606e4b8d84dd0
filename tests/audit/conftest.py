"""Audit-test fixtures: a service on each database kind whose event timestamps follow
the test's clock, so "recorded on 30 June" is something a test can arrange."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

import service.users


@pytest.fixture(autouse=True)
def every_audit_test_records_at_the_clocks_time(recorded_times_follow_the_clock):
    """Every audit test gets ``recorded_times_follow_the_clock`` (tests/conftest.py)."""


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """Audit tests make users; argon2 at production cost is not what they are about."""
    monkeypatch.setattr(service.users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def store(database_url, clock):
    """The whole service on a fresh SQLite file, then on PostgreSQL."""
    from service.container import Konvergen

    k = Konvergen(database_url, clock=clock)
    yield k
    k.close()


@pytest.fixture
def sqlite_store(tmp_path, clock):
    """The whole service on a SQLite file: for tests about answers, not storage."""
    from service.container import Konvergen

    k = Konvergen(f"sqlite:///{tmp_path / 'konvergen.db'}", clock=clock)
    yield k
    k.close()
