"""Loading another region's file reaches the rules, the scope and the running views at once."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from projections.read_models import ReadModels
from projections.runner import start_projections
from service.reference import load_regions, read_region_file

WEST_JAVA = Path(__file__).parents[1] / "cli" / "data" / "wilayah_32_jawa_barat.csv"
PONDOK_RAJEG = "32.01.01.1001"  # Cibinong, Kabupaten Bogor


def test_a_household_in_a_newly_loaded_region_is_filed_under_its_kecamatan(konvergen, admin):
    runner = start_projections(konvergen)
    with konvergen.sessions() as session, open(WEST_JAVA, encoding="utf-8") as stream:
        load_regions(session, read_region_file(stream))
        session.commit()

    konvergen.reload_regions()
    result = konvergen.households.register_household(
        admin,
        kk_number="3201010101200001",
        head={"nik": "3201014101850001", "name": "Euis Bogor", "sex": "P", "birth_date": date(1985, 1, 1)},
        address={"street": "Jl. Tegar Beriman", "rt": "1", "rw": "2", "village_code": PONDOK_RAJEG},
    )
    assert runner.wait_until(result["position"], 2.0)

    rows = ReadModels(konvergen).households(admin, village=PONDOK_RAJEG)["items"]
    assert [(row["kk_number"], row["kecamatan_code"], row["kecamatan_name"]) for row in rows] == [
        ("3201010101200001", "32.01.01", "Cibinong")
    ]
