"""Integration fixtures: the whole service on a real database (SQLite file, PostgreSQL).

``database_url`` (tests/conftest.py) gives each PostgreSQL run a database of its own,
which these tests need: they run many processes for seconds.
"""

from __future__ import annotations

import pytest


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
