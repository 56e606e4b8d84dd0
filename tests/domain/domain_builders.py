"""Builders for domain tests: a small region and programme catalogue, people, commands.

No database and no eventsourcing Application here: commands run on the aggregate
itself and tests read its state and its pending events.
"""

from __future__ import annotations

from datetime import date

from domain.household import Household
from domain.reference import Agency, Programme, ProgrammeCatalogue, Region, RegionCatalogue

TODAY = date(2026, 11, 28)
VILLAGE = "32.04.05.2001"  # Cileunyi Kulon, kec. Cileunyi
OTHER_VILLAGE = "32.04.06.1001"  # Padasuka (kelurahan), kec. Cimenyan
KK = "3204050101200001"
OTHER_KK = "3204050202210002"
HEAD_NIK = "3204051203800001"  # man born 12-03-1980
WIFE_NIK = "3204055506850002"  # woman born 15-06-1985 (day written 55)
CHILD_NIK = "3204050107100003"  # boy born 01-07-2010

REGIONS = RegionCatalogue(
    [
        Region("32", "Jawa Barat", "provinsi", None),
        Region("32.04", "Kabupaten Bandung", "kabupaten", "32"),
        Region("32.04.05", "Cileunyi", "kecamatan", "32.04"),
        Region("32.04.05.2001", "Cileunyi Kulon", "desa", "32.04.05"),
        Region("32.04.05.2002", "Cileunyi Wetan", "desa", "32.04.05"),
        Region("32.04.06", "Cimenyan", "kecamatan", "32.04"),
        Region("32.04.06.1001", "Padasuka", "kelurahan", "32.04.06"),
    ]
)

PROGRAMMES = ProgrammeCatalogue(
    agencies=[Agency("dinsos", "Dinas Sosial"), Agency("disperkim", "Disperkim"), Agency("dinkes", "Dinas Kesehatan")],
    programmes=[
        Programme("pkh", "Program Keluarga Harapan", "pengurangan_beban", ("dinsos",)),
        Programme("rtlh", "Rutilahu", "penurunan_kantong_kemiskinan", ("disperkim",)),
        Programme("pbi_jk", "PBI JK", "pengurangan_beban", ("dinkes",)),
    ],
)


def head(**overrides) -> dict:
    person = {"nik": HEAD_NIK, "name": "Asep Sunandar", "sex": "L", "birth_date": date(1980, 3, 12)}
    person.update(overrides)
    return person


def wife(**overrides) -> dict:
    person = {
        "nik": WIFE_NIK,
        "name": "Euis Kurniasih",
        "sex": "P",
        "birth_date": date(1985, 6, 15),
        "relationship": "istri",
    }
    person.update(overrides)
    return person


def child(**overrides) -> dict:
    person = {
        "nik": CHILD_NIK,
        "name": "Dadan",
        "sex": "L",
        "birth_date": date(2010, 7, 1),
        "relationship": "anak",
    }
    person.update(overrides)
    return person


def address(**overrides) -> dict:
    result = {"street": "Jl. Cileunyi No. 5", "rt": "3", "rw": "7", "village_code": VILLAGE}
    result.update(overrides)
    return result


def register(**overrides) -> Household:
    from uuid import uuid4

    command = {
        "household_id": uuid4(),
        "kk_number": KK,
        "head": head(),
        "address": address(),
        "location": {"lat": -6.93, "lon": 107.72},
        "members": [wife()],
        "regions": REGIONS,
        "today": TODAY,
        "actor": "asep.pendamping",
    }
    command.update(overrides)
    return Household.register(**command)


def plan(household: Household, intervention_id: str = "i1", **overrides) -> None:
    command = {
        "intervention_id": intervention_id,
        "programme": "pkh",
        "agency": "dinsos",
        "strategy": "pengurangan_beban",
        "planned_on": date(2026, 11, 1),
        "value_idr": 750_000,
        "notes": "tahap 4",
        "programmes": PROGRAMMES,
        "actor": "officer.dinsos",
    }
    command.update(overrides)
    household.plan_intervention(**command)


def categorise(household: Household, **overrides) -> None:
    command = {
        "category": "miskin_ekstrem",
        "desil": 1,
        "source": "p3ke_dtsen_import",
        "effective_on": date(2026, 3, 1),
        "reason": "P3KE 2026 Q1",
        "today": TODAY,
        "actor": "admin",
    }
    command.update(overrides)
    household.categorise(**command)


def schedule(household: Household, follow_up_id: str = "f1", **overrides) -> None:
    command = {
        "follow_up_id": follow_up_id,
        "due_on": date(2026, 12, 5),
        "assigned_to": "asep.pendamping",
        "purpose": "home visit",
        "today": TODAY,
        "actor": "supervisor",
    }
    command.update(overrides)
    household.schedule_follow_up(**command)


def close(household: Household, **overrides) -> None:
    command = {
        "reason": "moved_away",
        "duplicate_of": None,
        "effective_on": date(2026, 11, 1),
        "note": "",
        "today": TODAY,
        "actor": "admin",
    }
    command.update(overrides)
    household.close(**command)


def state(household: Household) -> dict:
    """Everything the aggregate holds, without its pending events."""
    return {k: v for k, v in vars(household).items() if k != "_pending_events"}


def replay(events) -> Household:
    aggregate = None
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate
