"""The import on the real stores: SQLite and PostgreSQL (skipped with a reason when down)."""

from __future__ import annotations

from datetime import date

from importing_helpers import ADMIN, family, household_for, rejected, run_import, write_csv

from service.container import Konvergen
from service.importing.records import ImportLog


def test_an_import_and_a_newer_file_are_recorded_and_traceable_on_each_database(database_url, clock, tmp_path):
    konvergen = Konvergen(database_url, clock=clock)
    try:
        rows = family(1) + family(2) + family(3)
        rows[7]["Tanggal Lahir"] = "kemarin"  # family 3's wife: line 9
        first = run_import(konvergen, write_csv(tmp_path / "march.csv", rows), batch_size=2,
                           file_date=date(2026, 3, 31))
        newer = run_import(konvergen, write_csv(tmp_path / "june.csv", family(1, children=2, Desil="2")),
                           file_date=date(2026, 6, 30))

        assert (first.counts["households_created"], first.counts["households_rejected"]) == (2, 1)
        assert (9, "Tanggal Lahir", "is not a date (use YYYY-MM-DD or DD/MM/YYYY)") in rejected(first)
        assert newer.counts["households_updated"] == 1
        household = household_for(konvergen, 1)
        assert len(household["members"]) == 4
        assert household["category"]["desil"] == 2
        refs = [e["source_ref"] for e in konvergen.households.history(ADMIN, household["id"])]
        assert refs == [f"import:{first.import_id}:row:2", f"import:{first.import_id}:row:2",
                        f"import:{newer.import_id}:row:5", f"import:{newer.import_id}:row:2"]
        log = ImportLog(konvergen.sessions)
        assert [r["status"] for r in log.recent()] == ["completed", "completed"]
        assert [r.line for r in log.rejections(first.import_id)] == [8, 9, 10]
    finally:
        konvergen.close()
