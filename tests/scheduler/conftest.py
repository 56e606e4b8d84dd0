"""Scheduler-test fixtures: people, a stand-in follow-up source and a scheduler."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from scheduler_helpers import QUICK, CaseFileFollowUps, people
from service.scheduler import Scheduler


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """These tests create many users; their passwords need not resist cracking."""
    monkeypatch.setattr("service.users._hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def staff(konvergen):
    people(konvergen)
    return konvergen


@pytest.fixture
def source(konvergen):
    return CaseFileFollowUps(konvergen)


@pytest.fixture
def scheduler(staff, source):
    return Scheduler(staff, QUICK, source=source)
