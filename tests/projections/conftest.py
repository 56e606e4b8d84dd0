"""Projection fixtures: the service on each database, its engine, and household commands.

``konvergen_db`` runs a test once on a fresh SQLite file and once on PostgreSQL (the
``database_url`` fixture); ``konvergen`` (from the top conftest) is the in-memory
service, for tests whose point is not the database.
"""

from __future__ import annotations

import pytest

from projection_builders import Cases
from projections.runner import build_engine


@pytest.fixture
def konvergen_db(database_url, clock):
    from service.container import Konvergen

    k = Konvergen(database_url, clock=clock)
    yield k
    k.close()


@pytest.fixture
def engine_db(konvergen_db):
    engine = build_engine(konvergen_db)
    engine.prepare()
    return engine


@pytest.fixture
def cases_db(konvergen_db):
    return Cases(konvergen_db)


@pytest.fixture
def engine(konvergen):
    engine = build_engine(konvergen)
    engine.prepare()
    return engine


@pytest.fixture
def cases(konvergen):
    return Cases(konvergen)
