"""`konvergen regions load FILE`."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import error_lines, invoke, opened

WEST_JAVA = Path(__file__).parent / "data" / "wilayah_32_jawa_barat.csv"


def test_west_javas_region_file_loads_every_region_and_its_villages_become_known(sqlite_url):
    result = invoke(sqlite_url, "regions", "load", str(WEST_JAVA))

    assert result.exit_code == 0, result.output
    assert "Loaded 6612 regions" in result.stdout
    with opened(sqlite_url) as konvergen:
        assert len(konvergen.regions.villages()) == 5957
        assert len(konvergen.regions.kecamatan()) == 627
        assert konvergen.regions.get("32.73.01.1001") is not None  # a kelurahan of Kota Bandung


def test_a_malformed_region_file_is_refused_naming_the_line_and_loads_nothing(sqlite_url, tmp_path):
    bad = tmp_path / "regions.csv"
    bad.write_text(
        "code,name,level,parent_code\n"
        "32.99,Kabupaten Contoh,kabupaten,32\n"
        "32.99.01,Kecamatan Contoh,kecamatan,32.99\n"
        "32.99.01.2001,,desa,32.99.01\n",
        encoding="utf-8",
    )
    with opened(sqlite_url) as konvergen:
        before = len(konvergen.regions)

    result = invoke(sqlite_url, "regions", "load", str(bad))

    assert result.exit_code != 0
    assert error_lines(result) == [f"Error: {bad}: line 4: name is empty"]
    with opened(sqlite_url) as konvergen:
        assert len(konvergen.regions) == before
        assert konvergen.regions.get("32.99") is None


def test_a_region_file_without_the_expected_columns_is_refused_at_line_1(sqlite_url, tmp_path):
    bad = tmp_path / "regions.csv"
    bad.write_text("kode,nama\n32.99,Contoh\n", encoding="utf-8")

    result = invoke(sqlite_url, "regions", "load", str(bad))

    assert result.exit_code != 0
    assert error_lines(result) == [f"Error: {bad}: line 1: missing column(s) code, name, level, parent_code"]


def test_a_region_file_that_is_not_utf8_text_is_refused_in_one_line(sqlite_url, tmp_path):
    bad = tmp_path / "regions.csv"
    bad.write_bytes(b"code,name,level,parent_code\n32.99,Kabupaten \xff,kabupaten,32\n")

    result = invoke(sqlite_url, "regions", "load", str(bad))

    assert result.exit_code != 0
    assert len(error_lines(result)) == 1
    assert "not UTF-8 text" in result.stderr
