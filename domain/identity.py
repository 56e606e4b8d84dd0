"""Rules for Indonesian identity numbers (NIK, No. KK) and the people they name.

A NIK is province(2) kabupaten(2) kecamatan(2) DDMMYY serial(4); for women the day
is written plus 40. People move, so any real province code is accepted, not only 32.
"""

from __future__ import annotations

import re
from datetime import date

from domain.errors import InvalidValue

# Kemendagri province codes (including the 2022 Papua provinces).
PROVINCE_CODES = frozenset(
    {
        "11", "12", "13", "14", "15", "16", "17", "18", "19", "21",
        "31", "32", "33", "34", "35", "36",
        "51", "52", "53",
        "61", "62", "63", "64", "65",
        "71", "72", "73", "74", "75", "76",
        "81", "82",
        "91", "92", "93", "94", "95", "96",
    }
)

SEXES = ("L", "P")  # laki-laki, perempuan

RELATIONSHIPS = (
    "kepala_keluarga",
    "suami",
    "istri",
    "anak",
    "menantu",
    "cucu",
    "orang_tua",
    "mertua",
    "famili_lain",
    "lainnya",
)

_SIXTEEN_DIGITS = re.compile(r"^[0-9]{16}$")


def check_kk_number(value: str, field: str = "kk_number") -> str:
    """A family-card number is 16 digits starting with a real province code."""
    if not isinstance(value, str) or not _SIXTEEN_DIGITS.match(value):
        raise InvalidValue(field, "must be exactly 16 digits")
    if value[:2] not in PROVINCE_CODES:
        raise InvalidValue(field, f"starts with {value[:2]}, which is not a province code")
    return value


def nik_birth_date_parts(nik: str) -> tuple[int, int, int, str]:
    """Day, month, two-digit year and sex as written in a NIK's date part."""
    day, month, year = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    sex = "L"
    if day > 40:
        day -= 40
        sex = "P"
    return day, month, year, sex


def _is_real_date(day: int, month: int, yy: int) -> bool:
    for century in (1900, 2000):
        try:
            date(century + yy, month, day)
            return True
        except ValueError:
            continue
    return False


def check_nik(value: str, field: str = "nik", sex: str | None = None) -> str:
    """A NIK is 16 digits, a real province, a real birth date, and agrees with sex."""
    check_kk_number(value, field)  # the same 16 digits and province code as a family card
    day, month, yy, nik_sex = nik_birth_date_parts(value)
    if not _is_real_date(day, month, yy):
        raise InvalidValue(field, f"date part {value[6:12]} is not a real date")
    if sex is not None and sex in SEXES and sex != nik_sex:
        expected = "day plus 40" if sex == "P" else "day without 40 added"
        raise InvalidValue(field, f"date part does not match sex {sex} (expected {expected})")
    return value


def check_sex(value: str, field: str = "sex") -> str:
    if value not in SEXES:
        raise InvalidValue(field, "must be L or P")
    return value


def check_name(value: str, field: str = "name") -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(field, "must not be empty")
    if len(value) > 200:
        raise InvalidValue(field, "must be at most 200 characters")
    return " ".join(value.split())


def check_not_future(value: date, today: date, field: str) -> date:
    if value > today:
        raise InvalidValue(field, f"{value.isoformat()} is in the future")
    return value


def check_relationship(value: str, field: str = "relationship") -> str:
    if value not in RELATIONSHIPS:
        raise InvalidValue(field, f"must be one of {', '.join(RELATIONSHIPS)}")
    return value


def check_person(person: dict, today: date, prefix: str) -> dict:
    """Validates a person record; returns it normalised (name whitespace folded)."""
    if not isinstance(person, dict):
        raise InvalidValue(prefix, "must be an object with nik, name, sex and birth_date")
    sex = check_sex(person.get("sex"), f"{prefix}.sex")
    nik = check_nik(person.get("nik"), f"{prefix}.nik", sex=sex)
    name = check_name(person.get("name"), f"{prefix}.name")
    birth_date = person.get("birth_date")
    if not isinstance(birth_date, date):
        raise InvalidValue(f"{prefix}.birth_date", "must be a date")
    check_not_future(birth_date, today, f"{prefix}.birth_date")
    result = dict(person)
    result.update(nik=nik, name=name, sex=sex, birth_date=birth_date)
    return result
