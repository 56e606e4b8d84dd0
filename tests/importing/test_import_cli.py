"""`konvergen import` and `konvergen export` on a SQLite file."""

from __future__ import annotations

import csv
import json

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from importing_helpers import family, household_for, kk, line, write_csv

import service.importing.importer
import service.users
from service.access import Actor
from service.cli import main
from service.container import Konvergen
from service.errors import HouseholdNotFound
from service.importing.parallel import Helpers
from service.importing.staging import share_of

READER = Actor(username="reader", role="admin")


@pytest.fixture
def database(tmp_path, monkeypatch):
    """A SQLite file with an administrator, named by KONVERGEN_DATABASE_URL."""
    monkeypatch.setattr(service.users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'instance' / 'konvergen.db'}"
    monkeypatch.setenv("KONVERGEN_DATABASE_URL", url)
    konvergen = Konvergen(url)
    konvergen.users.create_user(username="dina", password="rahasia-sekali", role="admin")
    konvergen.close()
    return url


def konvergen_import(*args: str):
    return CliRunner().invoke(main, ["import", *args])


def count_households(url: str) -> int:
    konvergen = Konvergen(url)
    try:
        found = 0
        for number in range(1, 10):
            try:
                konvergen.households.find_by_kk(READER, kk(number))
                found += 1
            except HouseholdNotFound:
                continue
        return found
    finally:
        konvergen.close()


def test_an_import_prints_a_summary_and_exits_zero(database, tmp_path):
    path = write_csv(tmp_path / "p3ke.csv", family(1) + family(2))

    result = konvergen_import(str(path), "--username", "dina", "--file-date", "2026-09-30")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Imported p3ke.csv (households) as import ")
    assert "file date 2026-09-30 (given with --file-date)" in result.stdout
    assert "households created              2" in result.stdout
    assert "rows rejected                   0" in result.stdout
    assert result.stderr == ""
    assert count_households(database) == 2


def test_an_agencys_intervention_list_is_imported_with_layout_interventions(database, tmp_path):
    households = write_csv(tmp_path / "p3ke.csv", family(1) + family(2))
    assert konvergen_import(str(households), "--username", "dina").exit_code == 0
    agency_list = [line(kk(1)), line(kk(2), status="Tersalurkan", delivered="2026-07-20")]
    agency = write_csv(tmp_path / "dinsos.csv", agency_list, delimiter=";")

    result = konvergen_import(str(agency), "--layout", "interventions", "--username", "dina")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Imported dinsos.csv (interventions) as import ")
    assert "interventions created           2" in result.stdout
    assert "interventions updated           0" in result.stdout
    assert "households created" not in result.stdout
    assert "rows rejected                   0" in result.stdout
    assert result.stderr == ""
    konvergen = Konvergen(database)
    try:
        statuses = [[i["status"] for i in household_for(konvergen, n, READER)["interventions"]] for n in (1, 2)]
    finally:
        konvergen.close()
    assert statuses == [["planned"], ["delivered"]]


def test_processes_two_shares_the_households_and_prints_the_same_summary(database, tmp_path, monkeypatch):
    numbers = (1, 2, 4, 5)
    assert [share_of(kk(n), 2) for n in numbers] == [1, 1, 0, 0]  # families of both shares
    rows = [row for n in numbers for row in family(n)]
    rows[4]["NIK"] = "3.20405E+15"  # family 2 (share 1) is rejected
    path = write_csv(tmp_path / "p3ke.csv", rows)
    helpers_built = []

    class RecordedHelpers(Helpers):
        def import_shares(self, *args, **kwargs):
            counts = super().import_shares(*args, **kwargs)
            helpers_built.append((self.shares, dict(self.results)))
            return counts

    monkeypatch.setattr(service.importing.importer, "Helpers", RecordedHelpers)

    result = konvergen_import(str(path), "--username", "dina", "--processes", "2")

    assert result.exit_code == 3, result.output
    assert "households created              3" in result.stdout
    assert "households rejected             1" in result.stdout
    assert result.stderr.splitlines()[0].startswith("line 5, No KK: household rejected because line 6 (NIK)")
    assert count_households(database) == 3
    [(shares, results)] = helpers_built
    assert shares == 2
    assert (results[1]["households_created"], results[1]["households_rejected"]) == (1, 1)  # in the helper


def test_rejected_rows_are_listed_on_stderr_with_line_and_column_and_the_exit_status_says_so(database, tmp_path):
    rows = family(1) + family(2)
    rows[4]["NIK"] = "3.20405E+15"
    path = write_csv(tmp_path / "p3ke.csv", rows, delimiter=";")

    result = konvergen_import(str(path), "--username", "dina", "--report", "ditolak.csv")

    assert result.exit_code == 3
    errors = result.stderr.splitlines()
    assert errors[0] == f"line 5, No KK: household rejected because line 6 (NIK) 3.20405E+15 is in scientific " \
                        f"notation and lost its last 10 digit(s); the number cannot be recovered: format the " \
                        f"column as text and export again (value '{kk(2)}')"
    assert errors[1].startswith("line 6, NIK: 3.20405E+15 is in scientific notation")
    assert "households created              1" in result.stdout
    assert "rejection report: ditolak.csv" in result.stdout
    with open(tmp_path / "ditolak.csv", encoding="utf-8-sig", newline="") as stream:
        report = list(csv.reader(stream))
    assert [row[:2] for row in report] == [["line", "column"], ["5", "No KK"], ["6", "NIK"], ["7", "No KK"]]


def test_a_file_missing_columns_is_refused_in_one_line_naming_the_line_and_nothing_is_written(database, tmp_path):
    path = write_csv(tmp_path / "p3ke.csv", [{k: v for k, v in row.items() if k != "NIK"} for row in family(1)])

    result = konvergen_import(str(path), "--username", "dina")

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: line 1: missing column(s) NIK for the households layout (headers are matched "
        "case-insensitively; map others with --mapping)"
    ]
    assert count_households(database) == 0


def test_a_dry_run_says_so_and_writes_nothing(database, tmp_path):
    path = write_csv(tmp_path / "p3ke.csv", family(1))

    result = konvergen_import(str(path), "--username", "dina", "--dry-run")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Dry run of p3ke.csv (households): nothing was written.")
    assert "households created              1" in result.stdout
    assert count_households(database) == 0


def test_the_same_file_twice_says_it_was_already_imported(database, tmp_path):
    path = write_csv(tmp_path / "p3ke.csv", family(1))
    first = konvergen_import(str(path), "--username", "dina")
    import_id = first.stdout.split(" as import ")[1].split(".")[0]

    again = konvergen_import(str(path), "--username", "dina")

    assert again.exit_code == 0
    assert again.stdout.startswith(f"p3ke.csv was already imported as import {import_id} (")
    assert again.stdout.rstrip().endswith("by dina); nothing changed.")


def test_a_mapping_file_and_column_options_name_unusual_headers(database, tmp_path):
    rows = [{("Nomor Kartu" if k == "No KK" else "Nama ART" if k == "Nama" else k): v for k, v in row.items()}
            for row in family(1)]
    path = write_csv(tmp_path / "p3ke.csv", rows)
    (tmp_path / "map.json").write_text(json.dumps({"Nomor Kartu": "kk_number"}), encoding="utf-8")

    result = konvergen_import(str(path), "--username", "dina", "--mapping", "map.json", "--column", "Nama ART=name")

    assert result.exit_code == 0, result.output
    assert count_households(database) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--username", "nobody"], "Error: --username: no active user nobody"),
        (["--username", "dina", "--report", "report.pdf"], "Error: report.pdf: write .csv or .xlsx (not pdf)"),
        (["--username", "dina", "--report", "nowhere/report.csv"],
         "Error: nowhere/report.csv: folder nowhere does not exist"),
        (["--username", "dina", "--file-date", "2030-01-01"], "Error: file date 2030-01-01 is in the future"),
        (["--username", "dina", "--column", "oops"], "Error: --column 'oops': use HEADER=field"),
    ],
)
def test_bad_options_are_refused_in_one_line(database, tmp_path, args, message):
    path = write_csv(tmp_path / "p3ke.csv", family(1))

    result = konvergen_import(str(path), *args)

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [message]
    assert count_households(database) == 0


def test_an_old_excel_file_is_refused_with_what_to_do(database, tmp_path):
    (tmp_path / "p3ke.xls").write_bytes(b"\xd0\xcf\x11\xe0")

    result = konvergen_import("p3ke.xls", "--username", "dina")

    assert result.stderr.splitlines() == ["Error: p3ke.xls: .xls is the old Excel format; save it as .xlsx or CSV UTF-8"]


def test_export_writes_the_households_a_user_may_see(database, tmp_path):
    konvergen_import(str(write_csv(tmp_path / "p3ke.csv", family(1) + family(2))), "--username", "dina")

    result = CliRunner().invoke(main, ["export", "households", "--format", "xlsx", "--out", "semua.xlsx",
                                       "--username", "dina"])

    assert result.exit_code == 0, result.output
    assert result.stdout == "Wrote 6 row(s) for 2 household(s) to semua.xlsx.\n"
    assert (tmp_path / "semua.xlsx").stat().st_size > 0


def test_export_refuses_a_format_that_contradicts_the_file_name(database):
    result = CliRunner().invoke(main, ["export", "interventions", "--format", "csv", "--out", "x.xlsx",
                                       "--username", "dina"])

    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["Error: --out x.xlsx does not end in .csv"]
