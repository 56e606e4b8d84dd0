"""Importing again: the same file changes nothing; a newer one adds only what is new."""

from __future__ import annotations

from datetime import date

from importing_helpers import ADMIN, family, household_for, kk, person, run_import, write_csv, write_xlsx

from service.importing.records import ImportLog


def test_importing_the_same_file_twice_changes_nothing_and_says_so(konvergen, tmp_path):
    path = write_csv(tmp_path / "p3ke.csv", family(1) + family(2))
    first = run_import(konvergen, path)
    position = konvergen.households.recorder.max_notification_id()

    second = run_import(konvergen, path)

    assert second.status == "already_imported"
    assert second.previous_import["id"] == first.import_id
    assert konvergen.households.recorder.max_notification_id() == position
    record = ImportLog(konvergen.sessions).get(second.import_id)
    assert record["status"] == "already_imported"
    assert record["message"] == f"same file as import {first.import_id}; nothing changed"


def test_a_file_with_rejections_imported_again_adds_nothing_for_households_already_there(konvergen, tmp_path):
    rows = family(1) + family(2)
    rows[3]["NIK"] = "bad"
    path = write_csv(tmp_path / "p3ke.csv", rows)
    run_import(konvergen, path)
    position = konvergen.households.recorder.max_notification_id()

    again = run_import(konvergen, path)

    assert again.status == "completed"  # not skipped: rejected rows might import now
    assert (again.counts["households_unchanged"], again.counts["households_created"]) == (1, 0)
    assert konvergen.households.recorder.max_notification_id() == position


def test_a_re_exported_file_with_the_same_households_records_no_new_events(konvergen, tmp_path):
    run_import(konvergen, write_csv(tmp_path / "p3ke.csv", family(1) + family(2)))
    position = konvergen.households.recorder.max_notification_id()

    # The same data, saved by Excel as XLSX: other bytes, same households.
    again = run_import(konvergen, write_xlsx(tmp_path / "p3ke.xlsx", family(2) + family(1)))

    assert again.counts["households_unchanged"] == 2
    assert konvergen.households.recorder.max_notification_id() == position


def test_a_newer_file_with_a_changed_desil_records_a_p3ke_categorisation_dated_by_the_file(konvergen, tmp_path):
    run_import(konvergen, write_csv(tmp_path / "march.csv", family(1)), file_date=date(2026, 3, 31))

    newer = run_import(konvergen, write_csv(tmp_path / "june.csv", family(1, Desil="3", Kategori="Rentan")),
                       file_date=date(2026, 6, 30))

    assert newer.counts["households_updated"] == 1
    household = household_for(konvergen, 1)
    assert [(c["category"], c["desil"], c["source"], c["effective_on"]) for c in household["categorisations"]] == [
        ("miskin_ekstrem", 1, "p3ke_dtsen_import", date(2026, 3, 31)),
        ("rentan", 3, "p3ke_dtsen_import", date(2026, 6, 30)),
    ]
    assert household["category"]["category"] == "rentan"
    history = konvergen.households.history(ADMIN, household["id"])
    assert history[-1]["source_ref"] == f"import:{newer.import_id}:row:2"
    assert history[-1]["data"]["reason"] == "P3KE/DTSEN import of june.csv"


def test_importing_an_older_file_after_a_newer_one_keeps_the_newer_category_current(konvergen, tmp_path):
    june = write_csv(tmp_path / "june.csv", family(1, Desil="3", Kategori="Rentan"))
    march = write_csv(tmp_path / "march.csv", family(1))
    run_import(konvergen, june, file_date=date(2026, 6, 30))

    run_import(konvergen, march, file_date=date(2026, 3, 31))
    again = run_import(konvergen, march, file_date=date(2026, 3, 31))

    household = household_for(konvergen, 1)
    assert household["category"]["effective_on"] == date(2026, 6, 30)
    assert len(household["categorisations"]) == 2  # the March one recorded once, in its place
    assert again.status == "already_imported"


def test_a_new_member_in_a_newer_file_is_added_and_a_member_it_omits_stays(konvergen, tmp_path):
    rows = family(1, children=2)
    run_import(konvergen, write_csv(tmp_path / "march.csv", rows))
    baby = person(kk(1), "Anak", name="Bayi", born=date(2026, 8, 1), serial=99, Desil="1")
    newer_rows = rows[:3] + [baby]  # the second child is not in the newer file

    newer = run_import(konvergen, write_csv(tmp_path / "september.csv", newer_rows))

    assert newer.counts["households_updated"] == 1
    household = household_for(konvergen, 1)
    assert [m["name"] for m in household["members"]] == ["Dadang 1", "Euis 1", "Rizky 1.0", "Rizky 1.1", "Bayi"]
    assert all(m["status"] == "present" for m in household["members"])
    history = konvergen.households.history(ADMIN, household["id"])
    assert (history[-1]["type"], history[-1]["source_ref"]) == ("MemberAdded", f"import:{newer.import_id}:row:5")


def test_details_already_on_file_are_not_overwritten_by_a_later_file(konvergen, tmp_path):
    run_import(konvergen, write_csv(tmp_path / "march.csv", family(1)))
    renamed = family(1)
    renamed[0]["Nama"] = "DADANG SUDRAJAT"
    renamed[0]["Alamat"] = "Jl. Lain"

    again = run_import(konvergen, write_csv(tmp_path / "june.csv", renamed))

    assert again.counts["households_unchanged"] == 1
    household = household_for(konvergen, 1)
    assert household["head"]["name"] == "Dadang 1"
    assert household["address"]["street"] == "Jl. Cileunyi No. 5"


def test_a_file_naming_another_head_for_a_known_household_is_rejected(konvergen, tmp_path):
    run_import(konvergen, write_csv(tmp_path / "march.csv", family(1)))
    rows = family(1)
    rows[0]["Hubungan"], rows[1]["Hubungan"] = "Suami", "Kepala Keluarga"

    again = run_import(konvergen, write_csv(tmp_path / "june.csv", rows))

    assert again.counts["households_rejected"] == 1
    assert any(r.line == 3 and r.column == "NIK" and "Kepala Keluarga on file" in r.reason for r in again.rejections)


def test_a_closed_household_refuses_new_members_from_a_file(konvergen, tmp_path):
    run_import(konvergen, write_csv(tmp_path / "march.csv", family(1)))
    household = household_for(konvergen, 1)
    konvergen.households.close_household(ADMIN, household["id"], reason="moved_away", effective_on=date(2026, 5, 1))
    rows = family(1, children=2)

    again = run_import(konvergen, write_csv(tmp_path / "june.csv", rows))

    assert again.counts["households_rejected"] == 1
    assert any("closed" in r.reason for r in again.rejections)
    assert len(household_for(konvergen, 1)["members"]) == 3


def test_a_dry_run_of_a_newer_file_counts_the_updates_without_recording_them(konvergen, tmp_path):
    run_import(konvergen, write_csv(tmp_path / "march.csv", family(1)))
    position = konvergen.households.recorder.max_notification_id()

    dry = run_import(konvergen, write_csv(tmp_path / "june.csv", family(1, Desil="2", Kategori="Miskin")),
                     dry_run=True)

    assert dry.counts["households_updated"] == 1
    assert konvergen.households.recorder.max_notification_id() == position
    assert len(household_for(konvergen, 1)["categorisations"]) == 1
