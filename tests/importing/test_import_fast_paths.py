"""The import's shortcuts for the common case must read cells exactly as the general path does."""

from datetime import date

import pytest

from service.importing.cells import CellError, a_date


@pytest.mark.parametrize("written", ["2024-01-05", "2024-1-5", "05/01/2024", "05.01.2024", " 2024-01-05 "])
def test_an_iso_date_reads_the_same_as_its_other_spellings(written):
    assert a_date(written) == date(2024, 1, 5)


def test_an_iso_date_that_is_not_a_real_day_is_refused_naming_it():
    with pytest.raises(CellError) as refused:
        a_date("2024-02-30")
    assert refused.value.reason == "2024-02-30 is not a real date"


@pytest.mark.parametrize("written", ["2024-0a-01", "2024-+1-05", "\uff12\uff10\uff12\uff14-01-01"])
def test_ten_characters_shaped_like_an_iso_date_but_not_digits_are_not_a_date(written):
    with pytest.raises(CellError) as refused:
        a_date(written)
    assert refused.value.reason == "is not a date (use YYYY-MM-DD or DD/MM/YYYY)"
