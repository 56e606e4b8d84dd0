"""Finding the layout's fields among a file's headers."""

from __future__ import annotations

import json

import pytest
from importing_helpers import family, household_for, run_import, write_csv, write_xlsx

from service.importing import HOUSEHOLDS, INTERVENTIONS, ImportFileError, load_mapping
from service.importing.layouts import resolve_columns


def test_indonesian_headers_are_matched_whatever_their_case_spacing_and_punctuation():
    headers = ["  no. kk ", "NIK", "NAMA LENGKAP", "Hubungan Dengan Kepala Keluarga", "jenis_kelamin",
               "Tgl. Lahir", "ALAMAT", "Rt", "rw", "Kode Desa/Kelurahan", "DESIL", "Kategori"]

    columns = resolve_columns(headers, HOUSEHOLDS)

    assert columns.columns["kk_number"].header == "no. kk"
    assert columns.columns["birth_date"].header == "Tgl. Lahir"
    assert columns.columns["village_code"].index == 9
    assert columns.header_of("relationship") == "Hubungan Dengan Kepala Keluarga"


def test_columns_the_layout_does_not_know_are_ignored():
    headers = HOUSEHOLDS.headers + ["Pekerjaan", "Pendidikan Terakhir"]

    columns = resolve_columns(headers, HOUSEHOLDS)

    assert "Pekerjaan" not in columns.describe()


def test_missing_required_columns_are_named_with_the_header_line():
    with pytest.raises(ImportFileError) as refused:
        resolve_columns(["No KK", "Nama", "RT", "RW", "Kecamatan"], HOUSEHOLDS, line=3)

    message = str(refused.value)
    assert message.startswith("line 3: missing column(s) NIK, Hubungan, Jenis Kelamin, Tanggal Lahir, ")
    assert "Kode Desa or Desa/Kelurahan" in message


def test_two_columns_meaning_the_same_field_are_refused_rather_than_guessed():
    with pytest.raises(ImportFileError, match="'Desa' and 'Kelurahan' both mean village_name"):
        resolve_columns(["No KK", "NIK", "Nama", "Hubungan", "JK", "Tanggal Lahir", "RT", "RW", "Desa", "Kelurahan"],
                        HOUSEHOLDS)


def test_a_mapping_names_headers_the_aliases_do_not_know_and_wins_over_an_alias():
    headers = ["Nomor Kartu", "KK", "NIK", "Nama", "Hubungan", "JK", "Tanggal Lahir", "RT", "RW", "Kode Desa"]

    columns = resolve_columns(headers, HOUSEHOLDS, {"Nomor Kartu": "kk_number", "KK": "ignore"})

    assert columns.columns["kk_number"].header == "Nomor Kartu"


def test_a_mapping_to_a_field_the_layout_does_not_have_is_refused_naming_the_fields():
    with pytest.raises(ImportFileError, match="'salary', which is not in the households layout"):
        resolve_columns(HOUSEHOLDS.headers, HOUSEHOLDS, {"Gaji": "salary"})


def test_mapping_files_are_json_or_toml_flat_or_under_columns(tmp_path):
    (tmp_path / "map.json").write_text(json.dumps({"Nomor Kartu": "kk_number"}), encoding="utf-8")
    (tmp_path / "map.toml").write_text('[columns]\n"Nomor Kartu" = "kk_number"\n', encoding="utf-8")
    (tmp_path / "bad.json").write_text('["Nomor Kartu"]', encoding="utf-8")

    assert load_mapping(tmp_path / "map.json") == {"Nomor Kartu": "kk_number"}
    assert load_mapping(tmp_path / "map.toml") == {"Nomor Kartu": "kk_number"}
    with pytest.raises(ImportFileError, match="expected"):
        load_mapping(tmp_path / "bad.json")


def test_the_interventions_layout_needs_kk_programme_and_agency():
    with pytest.raises(ImportFileError, match="missing column.s. Instansi"):
        resolve_columns(["No KK", "Program", "Status"], INTERVENTIONS)


def test_a_mapped_file_imports_like_one_with_the_usual_headers(konvergen, tmp_path):
    rows = [{("Nomor Kartu" if k == "No KK" else k): v for k, v in row.items()} for row in family(1)]
    path = write_csv(tmp_path / "mapped.csv", rows)

    summary = run_import(konvergen, path, mapping={"Nomor Kartu": "kk_number"})

    assert summary.counts["households_created"] == 1
    assert household_for(konvergen, 1)["head"]["name"] == "Dadang 1"


def test_title_rows_above_the_header_are_skipped_and_line_numbers_stay_the_spreadsheets(konvergen, tmp_path):
    rows = family(1)
    rows[1]["NIK"] = "12345"
    path = write_xlsx(tmp_path / "p3ke.xlsx", rows,
                      title_rows=[["DATA P3KE KABUPATEN BANDUNG"], ["Kecamatan Cileunyi"], []])

    summary = run_import(konvergen, path)

    # Header on line 4, so the head is line 5 and the wife's bad NIK is line 6.
    assert (6, "NIK", "must be exactly 16 digits") in [(r.line, r.column, r.reason) for r in summary.rejections]
    assert summary.counts["households_rejected"] == 1
    assert summary.counts["rows"] == 3


def test_a_file_without_a_recognisable_header_is_refused_naming_its_first_line(konvergen, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("hello,world\n1,2\n", encoding="utf-8")

    with pytest.raises(ImportFileError, match="^line 1: missing column"):
        run_import(konvergen, path)
    assert konvergen.households.recorder.max_notification_id() is None
