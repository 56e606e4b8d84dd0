"""People, places and commands for the service-layer tests (in-memory store)."""

from __future__ import annotations

from datetime import date, datetime

from service.access import Actor

VILLAGE = "32.04.05.2001"  # Cileunyi Kulon, kec. Cileunyi (32.04.05)
NEIGHBOUR_VILLAGE = "32.04.05.2002"  # Cileunyi Wetan, same kecamatan
FAR_VILLAGE = "32.04.06.1001"  # Padasuka, kec. Cimenyan (32.04.06)
KK = "3204050101200001"
FAR_KK = "3204060101200002"

ADMIN = Actor(username="admin", role="admin")
CASE_WORKER = Actor(username="asep", role="case_worker", villages=frozenset({VILLAGE}))
SUPERVISOR = Actor(username="kasi.cileunyi", role="supervisor", kecamatan="32.04.05")
DINSOS = Actor(username="officer.dinsos", role="agency_officer", agency="dinsos")
DISPERKIM = Actor(username="officer.disperkim", role="agency_officer", agency="disperkim")
AUDITOR = Actor(username="inspektorat", role="auditor")


def head(nik: str = "3204051203800001") -> dict:
    return {"nik": nik, "name": "Asep Sunandar", "sex": "L", "birth_date": date(1980, 3, 12)}


def address(village: str = VILLAGE) -> dict:
    return {"street": "Jl. Raya 1", "rt": "1", "rw": "2", "village_code": village}


def register(households, actor=ADMIN, *, kk: str = KK, village: str = VILLAGE, **extra) -> dict:
    return households.register_household(actor, kk_number=kk, head=head(), address=address(village), **extra)


def plan(households, actor, household_id, **overrides) -> dict:
    command = {"programme": "pkh", "agency": "dinsos", "planned_on": date(2026, 11, 1), "value_idr": 600_000}
    command.update(overrides)
    return households.plan_intervention(actor, household_id, **command)


SIMPLE_SCALARS = (str, int, float, bool, type(None), date, datetime)


def assert_simple(value, path: str = "result") -> None:
    """Plain data only: what a JSON encoder or a template can take, never an aggregate."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), f"{path} has a non-text key {key!r}"
            assert_simple(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            assert_simple(item, f"{path}[{index}]")
    else:
        assert isinstance(value, SIMPLE_SCALARS), f"{path} is a {type(value).__name__}"
