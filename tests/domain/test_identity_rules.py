"""NIK and No. KK rules: 16 digits, a real province, a real birth date that agrees with sex."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidValue
from domain.identity import PROVINCE_CODES, check_kk_number, check_nik, check_person

from domain_builders import TODAY, head


def nik_for(born: date, sex: str, province: str = "32", serial: int = 1) -> str:
    day = born.day + 40 if sex == "P" else born.day
    return f"{province}0405{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


@pytest.mark.parametrize(
    "value",
    ["320405120380000", "32040512038000011", "32040512038000a1", " 3204051203800001", "", None, 3204051203800001],
)
def test_a_nik_that_is_not_exactly_sixteen_digits_is_refused(value):
    with pytest.raises(InvalidValue, match="16 digits") as refusal:
        check_nik(value)
    assert refusal.value.field == "nik"


@pytest.mark.parametrize("value", ["320405010120000", "32040501012000011", "320405010120000X", None])
def test_a_kk_number_that_is_not_exactly_sixteen_digits_is_refused(value):
    with pytest.raises(InvalidValue, match="16 digits") as refusal:
        check_kk_number(value)
    assert refusal.value.field == "kk_number"


@pytest.mark.parametrize("province", ["00", "10", "20", "39", "99"])
def test_a_nik_or_kk_from_a_province_code_that_does_not_exist_is_refused(province):
    with pytest.raises(InvalidValue, match="not a province code"):
        check_nik(province + "04051203800001")
    with pytest.raises(InvalidValue, match="not a province code"):
        check_kk_number(province + "04050101200001")


def test_a_nik_from_outside_west_java_is_accepted_because_people_move():
    assert check_nik("3171011203800001", sex="L") == "3171011203800001"  # DKI Jakarta
    assert check_nik("9471015506850002", sex="P") == "9471015506850002"  # Papua


@pytest.mark.parametrize(
    "date_part",
    ["000180", "320180", "400180", "310480", "300280", "011380", "010080", "720180", "410080"],
)
def test_a_nik_whose_date_part_is_not_a_real_date_is_refused(date_part):
    with pytest.raises(InvalidValue, match="not a real date"):
        check_nik("320405" + date_part + "0001")


def test_a_woman_s_nik_carries_her_birth_day_plus_forty():
    assert check_nik("3204055506850002", sex="P")
    with pytest.raises(InvalidValue, match="does not match sex P"):
        check_nik("3204051506850002", sex="P")


def test_a_man_s_nik_carries_his_birth_day_as_is():
    assert check_nik("3204051506850002", sex="L")
    with pytest.raises(InvalidValue, match="does not match sex L"):
        check_nik("3204055506850002", sex="L")


def test_the_twenty_ninth_of_february_is_real_in_a_leap_year_of_either_century():
    assert check_nik("3204052902000001", sex="L")  # 2000 is a leap year
    assert check_nik("3204052902840001", sex="L")  # 1984
    with pytest.raises(InvalidValue, match="not a real date"):
        check_nik("3204052902830001")  # neither 1983 nor 2083


@given(
    born=st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    sex=st.sampled_from(["L", "P"]),
    province=st.sampled_from(sorted(PROVINCE_CODES)),
    serial=st.integers(min_value=1, max_value=9999),
)
def test_every_real_birth_date_written_by_the_rule_is_accepted_and_the_other_sex_refused(born, sex, province, serial):
    nik = nik_for(born, sex, province, serial)
    assert check_nik(nik, sex=sex) == nik
    other = "P" if sex == "L" else "L"
    with pytest.raises(InvalidValue, match=f"does not match sex {other}"):
        check_nik(nik, sex=other)


@given(day=st.integers(min_value=0, max_value=99), month=st.integers(min_value=0, max_value=99), yy=st.integers(0, 99))
def test_a_nik_date_part_is_accepted_exactly_when_it_names_a_real_day(day, month, yy):
    real_day = day - 40 if day > 40 else day

    def exists(century: int) -> bool:
        try:
            date(century + yy, month, real_day)
        except ValueError:
            return False
        return True

    nik = f"320405{day:02d}{month:02d}{yy:02d}0001"
    if exists(1900) or exists(2000):
        assert check_nik(nik) == nik
    else:
        with pytest.raises(InvalidValue, match="not a real date"):
            check_nik(nik)


def test_a_person_born_in_the_future_is_refused():
    with pytest.raises(InvalidValue, match="in the future") as refusal:
        check_person(head(birth_date=date(2026, 11, 29)), TODAY, "head")
    assert refusal.value.field == "head.birth_date"


def test_a_person_born_today_is_accepted():
    assert check_person(head(birth_date=TODAY), TODAY, "head")["birth_date"] == TODAY


@pytest.mark.parametrize("person", [None, "3204051203800001", ["nik"]])
def test_a_person_that_is_not_a_record_is_refused_with_the_field_named(person):
    with pytest.raises(InvalidValue) as refusal:
        check_person(person, TODAY, "head")
    assert refusal.value.field == "head"


def test_a_person_s_name_is_required_and_its_whitespace_folded():
    with pytest.raises(InvalidValue, match="must not be empty"):
        check_person(head(name="   "), TODAY, "head")
    assert check_person(head(name="  Asep   Sunandar "), TODAY, "head")["name"] == "Asep Sunandar"


def test_a_person_s_sex_is_l_or_p():
    with pytest.raises(InvalidValue, match="must be L or P") as refusal:
        check_person(head(sex="M"), TODAY, "head")
    assert refusal.value.field == "head.sex"
