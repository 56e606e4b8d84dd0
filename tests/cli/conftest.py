"""CLI-test fixtures: a fresh SQLite file named by KONVERGEN_DATABASE_URL, in a scratch
working directory so nothing lands in the checkout's ./instance."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

import service.users


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """argon2 at its production cost takes 0.1 s a hash; these tests are not about it."""
    monkeypatch.setattr(service.users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def database_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KONVERGEN_INSTANCE_PATH", raising=False)
    path = tmp_path / "instance" / "konvergen.db"
    monkeypatch.setenv("KONVERGEN_DATABASE_URL", f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(database_file) -> str:
    return f"sqlite:///{database_file}"
