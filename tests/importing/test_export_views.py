"""`konvergen export monitoring|audit-trail`: the projections' tables as CSV and XLSX,
holding only what the user's role and area let them see."""

from __future__ import annotations

import csv

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from importing_helpers import CILEUNYI_KULON, CILEUNYI_WETAN, family, kk, write_csv
from openpyxl import load_workbook

import service.users
from service.cli import main
from service.container import Konvergen


@pytest.fixture
def database(tmp_path, monkeypatch):
    """A SQLite file with an administrator (dina), a case worker of Cileunyi Kulon (asep)
    and two households imported: one in Cileunyi Kulon, one in Cileunyi Wetan."""
    monkeypatch.setattr(service.users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'instance' / 'konvergen.db'}"
    monkeypatch.setenv("KONVERGEN_DATABASE_URL", url)
    konvergen = Konvergen(url)
    konvergen.users.create_user(username="dina", password="rahasia-sekali", role="admin")
    konvergen.users.create_user(username="asep", password="rahasia-sekali", role="case_worker",
                                villages=[CILEUNYI_KULON])
    konvergen.close()
    rows = family(1, **{"Kode Desa": CILEUNYI_KULON}) + family(2, **{"Kode Desa": CILEUNYI_WETAN})
    result = CliRunner().invoke(main, ["import", str(write_csv(tmp_path / "p3ke.csv", rows)), "--username", "dina"])
    assert result.exit_code == 0, result.output
    return url


def export(*args: str):
    return CliRunner().invoke(main, ["export", *args])


def read_csv(path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream))


def sheet_rows(path, sheet: str) -> list[dict]:
    values = list(load_workbook(path, read_only=True)[sheet].values)
    return [dict(zip(values[0], row)) for row in values[1:]]


def test_the_monitoring_workbook_has_a_sheet_per_table_counting_only_the_users_area(database, tmp_path):
    assert export("monitoring", "--out", "dina.xlsx", "--username", "dina").exit_code == 0
    result = export("monitoring", "--out", "asep.xlsx", "--username", "asep")

    assert result.exit_code == 0, result.output
    assert load_workbook(tmp_path / "asep.xlsx", read_only=True).sheetnames == [
        "areas", "interventions", "convergence", "graduations"]
    everyone = sheet_rows(tmp_path / "dina.xlsx", "areas")
    asep = sheet_rows(tmp_path / "asep.xlsx", "areas")
    assert sum(r["households"] for r in everyone) == 2 and sum(r["persons"] for r in everyone) == 6
    assert sum(r["households"] for r in asep) == 1 and sum(r["persons"] for r in asep) == 3
    assert {r["category"] for r in asep} == {"miskin_ekstrem"}


def test_a_monitoring_table_as_csv_reads_back_with_its_headers(database, tmp_path):
    result = export("monitoring", "--table", "areas", "--village", CILEUNYI_WETAN, "--out", "areas.csv",
                    "--username", "dina")

    assert result.exit_code == 0, result.output
    assert result.stdout == "Wrote the monitoring tables (areas 1 row(s)) to areas.csv.\n"
    assert read_csv(tmp_path / "areas.csv") == [
        {"area_code": CILEUNYI_WETAN, "area_name": "Cileunyi Wetan", "category": "miskin_ekstrem",
         "households": "1", "persons": "3"}]


def test_a_csv_of_all_monitoring_tables_is_refused_with_what_to_do(database, tmp_path):
    result = export("monitoring", "--out", "all.csv", "--username", "dina")

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: a CSV holds one monitoring table: add --table (areas|interventions|convergence|graduations), "
        "or write .xlsx for all of them"]
    assert not (tmp_path / "all.csv").exists()


def test_an_area_outside_the_region_table_is_refused_in_one_line(database, tmp_path):
    result = export("monitoring", "--table", "areas", "--village", "32.04.99.9999", "--out", "x.csv",
                    "--username", "dina")

    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1 and "village" in result.stderr


def test_a_monitoring_export_for_one_kecamatan_counts_only_its_villages(database, tmp_path):
    cimenyan = family(3, **{"Kode Desa": "32.04.06.1001"})  # Padasuka, kecamatan Cimenyan
    imported = CliRunner().invoke(main, ["import", str(write_csv(tmp_path / "cimenyan.csv", cimenyan)),
                                         "--username", "dina"])
    assert imported.exit_code == 0, imported.output

    result = export("monitoring", "--table", "areas", "--kecamatan", "32.04.05", "--out", "cileunyi.csv",
                    "--username", "dina")

    assert result.exit_code == 0, result.output
    assert result.stdout == "Wrote the monitoring tables (areas 2 row(s)) to cileunyi.csv.\n"
    assert read_csv(tmp_path / "cileunyi.csv") == [
        {"area_code": code, "area_name": name, "category": "miskin_ekstrem", "households": "1", "persons": "3"}
        for code, name in ((CILEUNYI_KULON, "Cileunyi Kulon"), (CILEUNYI_WETAN, "Cileunyi Wetan"))]


def test_the_audit_trail_csv_holds_only_the_events_of_the_users_area(database, tmp_path):
    assert export("audit-trail", "--out", "dina.csv", "--username", "dina").exit_code == 0
    result = export("audit-trail", "--out", "asep.csv", "--username", "asep")

    assert result.exit_code == 0, result.output
    everyone, asep = read_csv(tmp_path / "dina.csv"), read_csv(tmp_path / "asep.csv")
    assert {r["kk_number"] for r in everyone} == {kk(1), kk(2)}
    assert {r["kk_number"] for r in asep} == {kk(1)}
    assert result.stdout == f"Wrote {len(asep)} audit-trail event(s) to asep.csv.\n"
    assert {r["event_type"] for r in asep} == {"Registered", "Categorised"}
    assert all(r["actor"] == "dina" and r["source_ref"].startswith("import:") for r in asep)
    positions = [int(r["position"]) for r in everyone]
    assert positions == sorted(positions, reverse=True)  # newest first


def test_the_audit_trail_xlsx_honours_the_filters(database, tmp_path):
    result = export("audit-trail", "--event-type", "Registered", "--by", "dina", "--since", "2000-01-01",
                    "--out", "registered.xlsx", "--username", "dina")
    assert result.exit_code == 0, result.output
    rows = sheet_rows(tmp_path / "registered.xlsx", "audit trail")
    assert sorted(r["kk_number"] for r in rows) == [kk(1), kk(2)]
    assert {r["event_type"] for r in rows} == {"Registered"}

    assert export("audit-trail", "--by", "asep", "--out", "asep.xlsx", "--username", "dina").exit_code == 0
    assert sheet_rows(tmp_path / "asep.xlsx", "audit trail") == []
    assert export("audit-trail", "--until", "2000-01-01", "--out", "old.csv", "--username", "dina").exit_code == 0
    assert read_csv(tmp_path / "old.csv") == []


def test_the_audit_trail_of_one_household_holds_its_events_and_no_others(database, tmp_path):
    assert export("audit-trail", "--out", "everyone.csv", "--username", "dina").exit_code == 0
    everyone = read_csv(tmp_path / "everyone.csv")
    first = next(r["household_id"] for r in everyone if r["kk_number"] == kk(1))

    result = export("audit-trail", "--household", first, "--out", "first.csv", "--username", "dina")

    assert result.exit_code == 0, result.output
    expected = [r for r in everyone if r["household_id"] == first]
    assert {r["kk_number"] for r in expected} == {kk(1)}
    assert read_csv(tmp_path / "first.csv") == expected
    assert result.stdout == f"Wrote {len(expected)} audit-trail event(s) to first.csv.\n"
