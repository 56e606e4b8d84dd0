"""Reading cells the way spreadsheets mangle them."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from service.importing import cells
from service.importing.cells import CellError


@pytest.mark.parametrize(
    "cell",
    [
        "3204051705800001",
        " 3204051705800001 ",
        "'3204051705800001",  # Excel's "this is text" apostrophe
        "3204 0517 0580 0001",
        "3204051705800001.0",  # a number written out by a script
        3204051705800001,  # an XLSX number cell
        3204051705800001.0,
        "3.204051705800001E+15",  # scientific notation that kept every digit
    ],
)
def test_a_nik_is_read_however_the_spreadsheet_stored_it(cell):
    assert cells.identity_number(cell) == "3204051705800001"


def test_a_nik_in_scientific_notation_that_lost_digits_cannot_be_recovered_and_says_so():
    with pytest.raises(CellError) as refused:
        cells.identity_number("3.20405E+15")

    assert "scientific notation" in refused.value.reason
    assert "lost its last 10 digit(s)" in refused.value.reason
    assert "format the column as text" in refused.value.reason


def test_a_number_cell_short_of_sixteen_digits_says_a_digit_is_missing_not_a_leading_zero():
    with pytest.raises(CellError) as refused:
        cells.identity_number(320405170580001)

    assert refused.value.reason.startswith("has 15 digits, not 16: stored as a number")


def test_a_number_too_large_for_a_spreadsheet_to_hold_exactly_is_refused():
    with pytest.raises(CellError, match="too large"):
        cells.identity_number(9.6e15 + 1)


@pytest.mark.parametrize(
    "cell",
    ["1980-05-17", "17/05/1980", "17-05-1980", "17.05.1980", "1980-05-17 00:00:00", 29358, 29358.0, "29358",
     datetime(1980, 5, 17, 0, 0), date(1980, 5, 17)],
)
def test_a_birth_date_is_read_from_iso_day_first_excel_serials_and_date_cells(cell):
    assert cells.a_date(cell) == date(1980, 5, 17)


@pytest.mark.parametrize(
    ("cell", "reason"),
    [("31/02/1980", "not a real date"), ("1980", "only a year"), ("kemarin", "is not a date"), (0, "is not a date")],
)
def test_what_is_not_a_date_is_refused_with_the_reason(cell, reason):
    with pytest.raises(CellError, match=reason):
        cells.a_date(cell)


@pytest.mark.parametrize(("cell", "sex"), [("L", "L"), ("laki-laki", "L"), ("LAKI LAKI", "L"), ("Pria", "L"),
                                           ("P", "P"), ("Perempuan", "P"), ("wanita", "P"), ("2", "P")])
def test_sex_is_read_from_the_usual_indonesian_spellings(cell, sex):
    assert cells.sex(cell) == sex


@pytest.mark.parametrize(
    ("cell", "code"),
    [("Kepala Keluarga", "kepala_keluarga"), ("KEPALA RUMAH TANGGA", "kepala_keluarga"), ("Istri", "istri"),
     ("Anak Kandung", "anak"), ("orang_tua", "orang_tua"), ("Famili Lain", "famili_lain")],
)
def test_the_relationship_to_the_head_maps_to_the_domains_codes(cell, code):
    assert cells.relationship(cell) == code


def test_an_unknown_relationship_is_left_as_written_for_the_domain_to_refuse():
    assert cells.relationship("Tetangga") == "Tetangga"


@pytest.mark.parametrize("cell", ["Rp 300.000", "300.000", "300,000", "300000", "300000.00", "Rp. 300.000,00", 300000,
                                  300000.0])
def test_an_amount_of_rupiah_is_read_with_either_thousands_separator(cell):
    assert cells.rupiah(cell) == 300000


def test_half_a_rupiah_is_refused():
    with pytest.raises(CellError, match="whole number of Rupiah"):
        cells.rupiah("300000.50")


def test_a_village_code_without_dots_gets_them_back():
    assert cells.village_code("3204052001") == "32.04.05.2001"
    assert cells.village_code(3204052001) == "32.04.05.2001"


def test_a_decimal_comma_in_a_coordinate_is_read_as_a_point():
    assert cells.coordinate("-7,0123") == pytest.approx(-7.0123)
