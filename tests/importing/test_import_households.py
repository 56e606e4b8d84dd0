"""Importing P3KE/DTSEN-like extracts: one row per person, households whole or not at all."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from importing_helpers import (
    ADMIN,
    CILEUNYI_KULON,
    CILEUNYI_WETAN,
    HEADERS,
    family,
    household_for,
    kk,
    nik,
    person,
    rejected,
    run_import,
    write_csv,
    write_xlsx,
)

from service.access import Actor
from service.errors import Forbidden, HouseholdNotFound
from service.importing import Importer, ImportOptions
from service.importing.records import ImportLog


def test_a_semicolon_csv_with_a_bom_and_apostrophes_in_names_registers_each_family(konvergen, tmp_path):
    rows = family(1) + family(2, children=2)
    rows[0]["Nama"] = "Ma'ruf Amin"
    path = write_csv(tmp_path / "p3ke.csv", rows, delimiter=";", bom=True)

    summary = run_import(konvergen, path)

    assert summary.counts["households_created"] == 2
    assert summary.rows_rejected == 0
    first = household_for(konvergen, 1)
    assert first["head"]["name"] == "Ma'ruf Amin"
    assert [m["relationship"] for m in first["members"]] == ["kepala_keluarga", "istri", "anak"]
    assert first["address"] == dict(first["address"], street="Jl. Cileunyi No. 5", rt="003", rw="007",
                                    village_code=CILEUNYI_KULON)
    assert first["category"]["category"] == "miskin_ekstrem"
    assert first["category"]["desil"] == 1
    assert first["category"]["source"] == "p3ke_dtsen_import"
    assert len(household_for(konvergen, 2)["members"]) == 4


def test_an_xlsx_with_date_cells_excel_serials_and_niks_stored_as_numbers_imports(konvergen, tmp_path):
    rows = family(1)
    rows[0]["Tanggal Lahir"] = datetime(1980, 5, 17)  # a date cell
    rows[1]["Tanggal Lahir"] = 30356  # an Excel serial number: 1983-02-09
    rows[0]["NIK"] = int(rows[0]["NIK"])  # the NIK column formatted as a number
    rows[0]["No KK"] = float(rows[0]["No KK"])
    rows[0]["RT"], rows[0]["RW"] = 3, 7  # the leading zeros a number column drops
    rows[0]["Kode Desa"] = 3204052001
    path = write_xlsx(tmp_path / "p3ke.xlsx", rows)

    summary = run_import(konvergen, path)

    assert rejected(summary) == []
    household = household_for(konvergen, 1)
    assert household["head"]["birth_date"] == date(1980, 5, 17)
    assert household["members"][1]["birth_date"] == date(1983, 2, 9)
    assert (household["address"]["rt"], household["address"]["rw"]) == ("003", "007")


def test_a_nik_that_lost_digits_to_scientific_notation_rejects_its_household_naming_line_and_column(
        konvergen, tmp_path):
    rows = family(1) + family(2)
    rows[4]["NIK"] = "3.20405E+15"  # family 2's wife, line 6
    path = write_csv(tmp_path / "p3ke.csv", rows)

    summary = run_import(konvergen, path)

    assert summary.counts["households_created"] == 1
    assert summary.counts["households_rejected"] == 1
    reasons = {(r.line, r.column): r for r in summary.rejections}
    assert "scientific notation" in reasons[(6, "NIK")].reason
    assert reasons[(6, "NIK")].value == "3.20405E+15"
    # The good rows of that household say why they were not imported.
    assert reasons[(5, "No KK")].reason.startswith("household rejected because line 6 (NIK)")
    assert reasons[(7, "No KK")].reason.startswith("household rejected because line 6 (NIK)")
    with pytest.raises(HouseholdNotFound):
        household_for(konvergen, 2)


def test_every_bad_cell_of_a_row_is_reported_and_good_households_still_import(konvergen, tmp_path):
    rows = family(1) + family(2)
    rows[0].update({"Jenis Kelamin": "X", "Tanggal Lahir": "31/02/1980", "Kode Desa": "32.04.99.9999"})
    rows.append(person(kk(3), "Kepala Keluarga", name=" ", serial=31, Desil="11"))
    path = write_csv(tmp_path / "p3ke.csv", rows)

    summary = run_import(konvergen, path)

    assert summary.counts["households_created"] == 1
    found = rejected(summary)
    assert (2, "Jenis Kelamin", "is not a sex: use L (Laki-laki) or P (Perempuan)") in found
    assert (2, "Tanggal Lahir", "31/02/1980 is not a real date") in found
    assert (2, "Kode Desa", "'32.04.99.9999' is not a known village code") in found
    assert (8, "Nama", "must not be empty") in found
    assert household_for(konvergen, 2)["head"]["name"] == "Dadang 2"
    assert summary.rows_rejected == 4  # lines 2-4 (family 1) and 8


def test_a_desil_out_of_range_is_refused_by_the_domains_rule_on_the_desil_column(konvergen, tmp_path):
    rows = family(1, Desil="11")
    path = write_csv(tmp_path / "p3ke.csv", rows)

    summary = run_import(konvergen, path)

    assert (2, "Desil", "must be a whole number from 1 to 10") in rejected(summary)
    assert summary.counts["households_created"] == 0


def test_an_unknown_village_name_is_rejected_and_a_known_one_is_found_with_its_kecamatan(konvergen, tmp_path):
    headers = [h for h in HEADERS if h != "Kode Desa"] + ["Desa/Kelurahan", "Kecamatan"]
    rows = family(1, **{"Desa/Kelurahan": "CILEUNYI WETAN", "Kecamatan": "Kec. Cileunyi"})
    rows += family(2, **{"Desa/Kelurahan": "Desa Antah Berantah", "Kecamatan": "Cileunyi"})
    rows += family(3, **{"Desa/Kelurahan": "Cibodas"})  # a name two kecamatan share
    path = write_csv(tmp_path / "p3ke.csv", rows, headers=headers)

    summary = run_import(konvergen, path)

    assert household_for(konvergen, 1)["address"]["village_code"] == CILEUNYI_WETAN
    found = {(r.line, r.column): r.reason for r in summary.rejections}
    assert found[(5, "Desa/Kelurahan")] == "'Desa Antah Berantah' is not a known village"
    assert found[(8, "Desa/Kelurahan")].startswith("'Cibodas' is the name of villages in ")
    assert found[(8, "Desa/Kelurahan")].endswith("; give the Kecamatan or Kode Desa")


def test_a_village_name_that_contradicts_the_village_code_is_rejected(konvergen, tmp_path):
    headers = HEADERS + ["Desa/Kelurahan"]
    path = write_csv(tmp_path / "p3ke.csv", family(1, **{"Desa/Kelurahan": "Cileunyi Wetan"}), headers=headers)

    summary = run_import(konvergen, path)

    assert (2, "Desa/Kelurahan", f"'Cileunyi Wetan' is not the name of village {CILEUNYI_KULON} (Cileunyi Kulon)") \
        in rejected(summary)


def test_an_exact_duplicate_row_is_ignored_and_reported_while_its_household_imports(konvergen, tmp_path):
    rows = family(1)
    rows.insert(2, dict(rows[1]))  # the wife twice, lines 3 and 4
    path = write_csv(tmp_path / "p3ke.csv", rows)

    summary = run_import(konvergen, path)

    assert rejected(summary) == [(4, "NIK", "duplicate of line 3; ignored")]
    assert len(household_for(konvergen, 1)["members"]) == 3


def test_the_same_nik_twice_with_different_details_rejects_the_household(konvergen, tmp_path):
    rows = family(1)
    rows.append(dict(rows[1], Nama="Euis Kurniasih"))
    path = write_csv(tmp_path / "p3ke.csv", rows)

    summary = run_import(konvergen, path)

    assert (5, "NIK", "is also on line 3, with other details") in rejected(summary)
    assert summary.counts["households_rejected"] == 1


def test_a_household_without_a_head_or_with_two_is_rejected_whole(konvergen, tmp_path):
    no_head = family(1)
    no_head[0]["Hubungan"] = "Suami"
    two_heads = family(2)
    two_heads[1]["Hubungan"] = "Kepala Keluarga"
    path = write_csv(tmp_path / "p3ke.csv", no_head + two_heads)

    summary = run_import(konvergen, path)

    found = rejected(summary)
    assert (2, "Hubungan", f"no row of KK {kk(1)} is the Kepala Keluarga") in found
    assert (6, "Hubungan", "a second Kepala Keluarga (the first is on line 5)") in found
    assert summary.counts["households_rejected"] == 2


def test_a_member_row_that_disagrees_with_the_heads_desil_is_rejected_with_both_lines(konvergen, tmp_path):
    rows = family(1)
    rows[2]["Desil"] = "3"
    path = write_csv(tmp_path / "p3ke.csv", rows)

    summary = run_import(konvergen, path)

    assert (4, "Desil", "differs from the Kepala Keluarga's row (line 2: 1)") in rejected(summary)


def test_member_rows_may_leave_the_households_columns_empty(konvergen, tmp_path):
    rows = family(1)
    for row in rows[1:]:
        row.update({"Alamat": "", "RT": "", "RW": "", "Kode Desa": "", "Desil": "", "Kategori": ""})
    path = write_csv(tmp_path / "p3ke.csv", rows)

    summary = run_import(konvergen, path)

    assert rejected(summary) == []
    assert len(household_for(konvergen, 1)["members"]) == 3


def test_rows_of_one_kk_spread_over_the_file_still_make_one_household(konvergen, tmp_path):
    first, second, third = family(1), family(2), family(3)
    rows = [second[1], first[2], third[0], first[0], second[0], third[1], first[1], second[2], third[2]]
    path = write_csv(tmp_path / "sorted_by_name.csv", rows)

    summary = run_import(konvergen, path)

    assert summary.counts["households_created"] == 3
    assert rejected(summary) == []
    assert {m["name"] for m in household_for(konvergen, 1)["members"]} == {"Dadang 1", "Euis 1", "Rizky 1.0"}


def test_a_row_without_a_usable_kk_is_rejected_on_its_own(konvergen, tmp_path):
    rows = family(1) + [person("", "Kepala Keluarga", serial=99), person("3.20405E+15", "Anak", serial=98)]
    path = write_csv(tmp_path / "p3ke.csv", rows)

    summary = run_import(konvergen, path)

    found = rejected(summary)
    assert (5, "No KK", "is empty") in found
    assert any(line == 6 and column == "No KK" and "scientific notation" in reason for line, column, reason in found)
    assert summary.counts["households_created"] == 1


def test_every_event_names_the_import_and_row_and_the_import_is_on_record(konvergen, tmp_path):
    path = write_csv(tmp_path / "p3ke.csv", family(1) + family(2))

    summary = run_import(konvergen, path)

    household = household_for(konvergen, 2)
    history = konvergen.households.history(ADMIN, household["id"])
    assert [(e["type"], e["source_ref"]) for e in history] == [
        ("Registered", f"import:{summary.import_id}:row:5"),
        ("Categorised", f"import:{summary.import_id}:row:5"),
    ]
    record = ImportLog(konvergen.sessions).get(summary.import_id)
    assert record["file_name"] == "p3ke.csv"
    assert record["sha256"] == summary.sha256 and len(record["sha256"]) == 64
    assert record["username"] == "admin"
    assert record["status"] == "completed"
    assert (record["rows"], record["households_created"], record["rows_rejected"]) == (6, 2, 0)


def test_the_rejection_report_is_kept_with_the_import_and_written_as_csv_and_xlsx(konvergen, tmp_path):
    from openpyxl import load_workbook

    rows = family(1)
    rows[1]["NIK"] = "3204"
    path = write_csv(tmp_path / "p3ke.csv", rows)

    summary = run_import(konvergen, path, report_path=tmp_path / "report.xlsx")

    sheet = load_workbook(tmp_path / "report.xlsx").active
    table = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert table[0] == ["line", "column", "value", "reason"]
    assert table[1] == [2, "No KK", kk(1), "household rejected because line 3 (NIK) must be exactly 16 digits"]
    assert table[2] == [3, "NIK", "3204", "must be exactly 16 digits"]
    kept = list(ImportLog(konvergen.sessions).rejections(summary.import_id))
    assert [(r.line, r.column) for r in kept] == [(2, "No KK"), (3, "NIK"), (4, "No KK")]


def test_a_case_worker_imports_only_into_their_villages(konvergen, tmp_path):
    worker = Actor(username="euis", role="case_worker", villages=frozenset({CILEUNYI_KULON}))
    rows = family(1) + family(2, **{"Kode Desa": CILEUNYI_WETAN})
    path = write_csv(tmp_path / "p3ke.csv", rows)

    summary = run_import(konvergen, path, actor=worker)

    assert summary.counts["households_created"] == 1
    assert (5, "Kode Desa", f"euis may not register households in village {CILEUNYI_WETAN}") in rejected(summary)


def test_auditors_and_agency_officers_may_not_import_households(konvergen, tmp_path):
    path = write_csv(tmp_path / "p3ke.csv", family(1))
    auditor = Actor(username="inspektorat", role="auditor")
    officer = Actor(username="dinsos", role="agency_officer", agency="dinsos")

    with pytest.raises(Forbidden, match="read-only"):
        run_import(konvergen, path, actor=auditor)
    with pytest.raises(Forbidden, match="imports intervention lists"):
        run_import(konvergen, path, actor=officer)


def test_a_dry_run_validates_and_counts_but_writes_nothing(konvergen, tmp_path):
    rows = family(1) + family(2)
    rows[3]["NIK"] = "x"
    path = write_csv(tmp_path / "p3ke.csv", rows)

    summary = run_import(konvergen, path, dry_run=True)

    assert (summary.counts["households_created"], summary.counts["households_rejected"]) == (1, 1)
    assert summary.import_id is None
    assert konvergen.households.recorder.max_notification_id() is None
    assert ImportLog(konvergen.sessions).recent() == []


def test_the_preview_shows_the_mapping_first_rows_and_validation_and_confirm_imports_that_file(
        konvergen, tmp_path):
    rows = family(1) + family(2)
    rows[4]["Tanggal Lahir"] = "kemarin"
    path = write_csv(tmp_path / "p3ke.csv", rows)
    importer = Importer(konvergen)

    preview = importer.preview(ADMIN, path)

    assert preview["columns"]["Tanggal Lahir"] == "birth_date"
    assert preview["first_rows"][0] == {"line": 2, "cells": dict(rows[0])}
    assert preview["counts"]["households_created"] == 1
    assert preview["rejections"][0]["line"] == 5
    assert konvergen.households.recorder.max_notification_id() is None

    summary = importer.confirm(ADMIN, path, sha256=preview["sha256"])
    assert summary.counts["households_created"] == 1


def test_confirming_a_file_that_changed_since_its_preview_is_refused(konvergen, tmp_path):
    from service.importing import ImportFileError

    path = write_csv(tmp_path / "p3ke.csv", family(1))
    importer = Importer(konvergen)
    preview = importer.preview(ADMIN, path)
    write_csv(path, family(1) + family(2))

    with pytest.raises(ImportFileError, match="not the file that was previewed"):
        importer.confirm(ADMIN, path, sha256=preview["sha256"])
    assert konvergen.households.recorder.max_notification_id() is None


def test_a_file_date_in_the_future_is_refused_before_anything_is_read(konvergen, tmp_path):
    from service.importing import ImportFileError

    path = write_csv(tmp_path / "p3ke.csv", family(1))

    with pytest.raises(ImportFileError, match="file date 2027-01-01 is in the future"):
        Importer(konvergen).run(ADMIN, path, ImportOptions(file_date=date(2027, 1, 1)))


def test_a_woman_whose_nik_has_no_forty_added_is_refused_by_the_nik_rule(konvergen, tmp_path):
    rows = family(1)
    rows[1]["NIK"] = nik(date(1983, 2, 9), "L", 12)  # written as a man's NIK
    path = write_csv(tmp_path / "p3ke.csv", rows)

    summary = run_import(konvergen, path)

    assert (3, "NIK", "date part does not match sex P (expected day plus 40)") in rejected(summary)


def test_an_xlsx_files_date_defaults_to_the_date_the_workbook_was_saved(konvergen, tmp_path):
    import re
    import zipfile

    saved = write_xlsx(tmp_path / "saved.xlsx", family(1))
    path = tmp_path / "p3ke.xlsx"
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2026-06-29T20:00:00Z", data)
            target.writestr(item, data)

    summary = run_import(konvergen, path)

    # 20:00 UTC on 29 June is already 30 June in Bandung (WIB).
    assert (summary.file_date, summary.file_date_source) == (date(2026, 6, 30), "workbook")
    assert household_for(konvergen, 1)["category"]["effective_on"] == date(2026, 6, 30)


def test_a_csv_files_date_defaults_to_the_import_date_and_says_so(konvergen, tmp_path):
    summary = run_import(konvergen, write_csv(tmp_path / "p3ke.csv", family(1)))

    assert (summary.file_date, summary.file_date_source) == (date(2026, 11, 28), "import date")


def test_an_import_that_breaks_off_is_recorded_as_failed_and_running_it_again_completes_it(
        konvergen, tmp_path, monkeypatch):
    path = write_csv(tmp_path / "p3ke.csv", family(1) + family(2) + family(3))
    save = konvergen.households.save_aggregates  # what the import saves each batch with
    calls = []

    def save_then_fail(aggregates):
        calls.append(aggregates)
        if len(calls) == 2:
            raise ConnectionError("database went away")
        return save(aggregates)

    monkeypatch.setattr(konvergen.households, "save_aggregates", save_then_fail)
    with pytest.raises(ConnectionError):
        run_import(konvergen, path, batch_size=1)
    monkeypatch.setattr(konvergen.households, "save_aggregates", save)

    [record] = ImportLog(konvergen.sessions).recent()
    assert (record["status"], record["message"]) == ("failed", "ConnectionError: database went away")
    again = run_import(konvergen, path)
    assert (again.counts["households_unchanged"], again.counts["households_created"]) == (1, 2)


def test_an_earlier_imports_rejection_report_can_be_written_again_later(konvergen, tmp_path):
    rows = family(1)
    rows[2]["Tanggal Lahir"] = "2030-01-01"
    summary = run_import(konvergen, write_csv(tmp_path / "p3ke.csv", rows))
    importer = Importer(konvergen)

    written = importer.write_report(summary.import_id, tmp_path / "later.csv")

    assert written == 3
    assert (tmp_path / "later.csv").read_text(encoding="utf-8-sig").splitlines()[3] == \
        "4,Tanggal Lahir,2030-01-01,2030-01-01 is in the future"
    assert [record["id"] for record in importer.imports()] == [summary.import_id]


def test_a_nik_number_cell_with_a_digit_missing_is_rejected_saying_so(konvergen, tmp_path):
    rows = family(1)
    rows[2]["NIK"] = int(rows[2]["NIK"][1:])  # 15 digits left in a number cell
    path = write_xlsx(tmp_path / "p3ke.xlsx", rows)

    summary = run_import(konvergen, path)

    [(line, column, reason)] = [r for r in rejected(summary) if r[1] == "NIK"]
    assert (line, column) == (4, "NIK")
    assert reason.startswith("has 15 digits, not 16: stored as a number")


def test_the_garbage_collector_runs_as_before_once_an_import_is_over_even_a_failed_one(
        konvergen, tmp_path, monkeypatch):
    import gc

    before = gc.get_threshold()
    seen = []
    save = konvergen.households.save_aggregates

    def save_and_look(aggregates):
        seen.append(gc.get_threshold())
        return save(aggregates)

    monkeypatch.setattr(konvergen.households, "save_aggregates", save_and_look)
    run_import(konvergen, write_csv(tmp_path / "p3ke.csv", family(1)))
    assert seen[0][0] > before[0]  # fewer collections while writing
    assert gc.get_threshold() == before

    monkeypatch.setattr(konvergen.households, "save_aggregates", lambda aggregates: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        run_import(konvergen, write_csv(tmp_path / "other.csv", family(2)))
    assert gc.get_threshold() == before


def test_saving_many_households_at_once_records_and_snapshots_them_as_save_does(konvergen, monkeypatch):
    from uuid import uuid4

    from domain.household import Household
    from domain.kk_index import KKIndex

    households = konvergen.households
    monkeypatch.setattr(households, "snapshotting_intervals", {Household: 1})  # a snapshot at every version
    aggregates = []
    for number in (1, 2):
        household = Household.register(
            household_id=uuid4(), kk_number=kk(number),
            head={"nik": nik(date(1980, 5, 17), "L", number), "name": "Asep", "sex": "L",
                  "birth_date": date(1980, 5, 17)},
            address={"street": "", "rt": "003", "rw": "007", "village_code": CILEUNYI_KULON}, location=None,
            regions=households.regions, today=date(2026, 11, 28), actor="admin", source_ref="import:x:row:2",
        )
        aggregates += [household, KKIndex.reserve(kk_number=kk(number), household_id=household.id, actor="admin")]

    pending = [event for aggregate in aggregates for event in aggregate.pending_events]
    recordings = households.save_aggregates(aggregates)

    assert [r.domain_event for r in recordings] == pending  # as save returns them
    assert [r.notification.originator_id for r in recordings] == [e.originator_id for e in pending]
    for number, household in ((1, aggregates[0]), (2, aggregates[2])):
        assert household_for(konvergen, number)["id"] == str(household.id)
        assert [s.originator_version for s in households.snapshots.get(household.id)] == [1]
        assert not household.pending_events
