"""Exports: the register in the import layout (so it re-imports identically), honouring scope."""

from __future__ import annotations

import csv
from datetime import date

import pytest
from importing_helpers import ADMIN, CILEUNYI_KULON, CILEUNYI_WETAN, nik, run_import

from service.access import Actor
from service.container import Konvergen
from service.exporting import export_households, export_interventions

VOLATILE = ("id", "version", "created_on", "modified_on", "categorisations", "follow_ups")


def register_families(konvergen) -> list[str]:
    """Households made through the service, as a case worker would: not through an import."""
    households = konvergen.households
    first = households.register_household(
        ADMIN,
        kk_number="3204051200000001",
        head={"nik": nik(date(1975, 1, 31), "L", 1), "name": "Ma'ruf Hidayat", "sex": "L",
              "birth_date": date(1975, 1, 31)},
        address={"street": "Kp. Cikoneng RT 3", "rt": "3", "rw": "12", "village_code": CILEUNYI_KULON},
        location={"lat": -6.9389, "lon": 107.7472},
        members=[
            {"nik": nik(date(1978, 12, 1), "P", 2), "name": "Neneng", "sex": "P", "birth_date": date(1978, 12, 1),
             "relationship": "istri"},
            {"nik": nik(date(2009, 6, 15), "P", 3), "name": "Siti Nur'aini", "sex": "P",
             "birth_date": date(2009, 6, 15), "relationship": "anak"},
            {"nik": nik(date(1950, 3, 3), "P", 4), "name": "Mak Icih", "sex": "P", "birth_date": date(1950, 3, 3),
             "relationship": "mertua"},
        ],
    )
    households.categorise(ADMIN, first["id"], category="miskin", desil=2, source="p3ke_dtsen_import",
                          effective_on=date(2026, 3, 31), reason="P3KE")
    households.categorise(ADMIN, first["id"], category="miskin_ekstrem", desil=1, source="field_verification",
                          effective_on=date(2026, 9, 1), reason="verifikasi lapangan")
    households.plan_intervention(ADMIN, first["id"], programme="pkh", agency="dinsos", planned_on=date(2026, 7, 1),
                                 value_idr=750000, notes="tahap 3")
    delivered = households.plan_intervention(ADMIN, first["id"], programme="rtlh", agency="disperkim",
                                             planned_on=date(2026, 8, 1), value_idr=17500000)
    households.deliver_intervention(ADMIN, first["id"], delivered["intervention_id"],
                                    delivered_on=date(2026, 10, 2), notes="selesai")
    cancelled = households.plan_intervention(ADMIN, first["id"], programme="bpnt", agency="dinsos",
                                             planned_on=date(2026, 7, 1))
    households.cancel_intervention(ADMIN, first["id"], cancelled["intervention_id"], reason="data ganda")
    second = households.register_household(
        ADMIN,
        kk_number="3204051200000002",
        head={"nik": nik(date(1990, 4, 4), "P", 5), "name": "Euis", "sex": "P", "birth_date": date(1990, 4, 4)},
        address={"street": "", "rt": "1", "rw": "1", "village_code": CILEUNYI_WETAN},
    )
    return [first["id"], second["id"]]


def comparable(household: dict) -> dict:
    """The register's content: no ids, versions or times, the current category without its audit fields."""
    data = {k: v for k, v in household.items() if k not in VOLATILE}
    if data["category"]:
        data["category"] = {k: data["category"][k] for k in ("category", "desil", "source", "effective_on")}
    data["interventions"] = sorted(data["interventions"], key=lambda i: i["id"])
    return data


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_household_export_imports_into_an_empty_konvergen_as_the_same_register(konvergen, clock, tmp_path, fmt):
    ids = register_families(konvergen)
    original = [konvergen.households.get_household(ADMIN, i) for i in ids]
    households_file, interventions_file = tmp_path / f"rumah_tangga.{fmt}", tmp_path / f"intervensi.{fmt}"

    assert export_households(konvergen, ADMIN, households_file) == {"households": 2, "rows": 5}
    assert export_interventions(konvergen, ADMIN, interventions_file) == {"households": 1, "rows": 3}

    fresh = Konvergen("memory://", clock=clock)
    try:
        imported = run_import(fresh, households_file)
        interventions = run_import(fresh, interventions_file, layout="interventions")
        assert imported.rows_rejected == 0 and interventions.rows_rejected == 0
        copies = [fresh.households.find_by_kk(ADMIN, h["kk_number"]) for h in original]
    finally:
        fresh.close()
    assert [comparable(c) for c in copies] == [comparable(o) for o in original]


def test_the_household_export_is_one_row_per_member_with_indonesian_headers(konvergen, tmp_path):
    register_families(konvergen)
    out = tmp_path / "rumah_tangga.csv"

    export_households(konvergen, ADMIN, out)

    with open(out, encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))
    # Head first, then by age, as the case file lists them.
    assert [r["Hubungan"] for r in rows] == ["Kepala Keluarga", "Mertua", "Istri", "Anak", "Kepala Keluarga"]
    first = rows[0]
    assert (first["No KK"], first["RT"], first["Kode Desa"], first["Desa/Kelurahan"], first["Kecamatan"]) == (
        "3204051200000001", "003", CILEUNYI_KULON, "Cileunyi Kulon", "Cileunyi")
    assert (first["Kategori"], first["Desil"], first["Sumber Kategori"], first["Tanggal Kategori"]) == (
        "Miskin Ekstrem", "1", "field_verification", "2026-09-01")


def test_an_export_holds_only_what_the_reader_may_see_and_no_closed_household(konvergen, tmp_path):
    ids = register_families(konvergen)
    worker = Actor(username="euis", role="case_worker", villages=frozenset({CILEUNYI_WETAN}))
    konvergen.households.register_household(
        ADMIN, kk_number="3204051200000003",
        head={"nik": nik(date(1960, 1, 1), "L", 6), "name": "Pindah", "sex": "L", "birth_date": date(1960, 1, 1)},
        address={"rt": "1", "rw": "1", "village_code": CILEUNYI_WETAN},
    )
    closed = konvergen.households.find_by_kk(ADMIN, "3204051200000003")["id"]
    konvergen.households.close_household(ADMIN, closed, reason="moved_away", effective_on=date(2026, 11, 1))

    written = export_households(konvergen, worker, tmp_path / "mine.xlsx")

    assert written == {"households": 1, "rows": 1}
    assert konvergen.households.get_household(worker, ids[1])["kk_number"] == "3204051200000002"
    assert export_interventions(konvergen, worker, tmp_path / "mine-intervensi.csv") == {"households": 0, "rows": 0}
