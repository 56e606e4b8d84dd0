"""Turning spreadsheet cells into the values the domain expects.

Cells arrive as text (CSV) or as whatever Excel stored (int, float, datetime). These
functions only *read* a value; whether it is a valid NIK, a real village or a desil in
range is the domain's rule, checked afterwards with the domain's own functions.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from openpyxl.utils.datetime import from_excel

from domain.household import CATEGORIES, SOURCES
from domain.identity import RELATIONSHIPS


class CellError(ValueError):
    """A cell cannot be read as the value its column holds; ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def text(value: object) -> str:
    """The cell as trimmed text ('' for empty); integral floats lose their '.0'."""
    if value is None:
        return ""
    if type(value) is str:
        value = value.strip()
        if "  " not in value and "\u00a0" not in value and "\t" not in value and "\n" not in value:
            return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return " ".join(str(value).replace("\u00a0", " ").split())


# -- identity numbers (NIK, No. KK) -------------------------------------------------

ID_LENGTH = 16
_SCIENTIFIC = re.compile(r"^[0-9]+(?:[.,][0-9]+)?[eE]\+?[0-9]+$")
_DIGITS_WITH_SEPARATORS = re.compile(r"^[0-9][0-9 .\-]*$")


def identity_number(value: object) -> str:
    """A 16-digit number however the spreadsheet stored it.

    Text keeps its digits (spaces, dots, dashes and Excel's leading apostrophe
    dropped); the domain then judges them. A number cell shorter than 16 digits did
    not just lose leading zeros (no province code starts with 0): a digit is missing,
    and the reason says so. Scientific notation (3.20405E+15) means the spreadsheet
    rounded the number: the lost digits cannot be recovered.
    """
    if value is None:
        return ""
    if type(value) is str and len(value) == ID_LENGTH and value.isdigit():
        return value  # the common case, as it should be written
    if isinstance(value, bool):
        raise CellError("is not a number")
    if isinstance(value, int):
        return _whole_number(str(value))
    if isinstance(value, float):
        if not value.is_integer():
            raise CellError(f"{value!r} is not a whole number")
        if value >= 2**53:
            raise CellError(
                "was stored as a number too large for a spreadsheet to keep exactly; "
                "format the column as text and export again"
            )
        return _whole_number(str(int(value)))
    raw = text(value).lstrip("'")
    if not raw:
        return ""
    if _SCIENTIFIC.match(raw):
        return _from_scientific(raw)
    if _DIGITS_WITH_SEPARATORS.match(raw):
        digits = re.sub(r"[ .\-]", "", raw)
        if raw.endswith(".0") and len(digits) == ID_LENGTH + 1:
            digits = digits[:-1]  # a number written out by a tool as 3204...0001.0
        return digits
    return raw


def _whole_number(digits: str) -> str:
    if len(digits) < ID_LENGTH:
        raise CellError(
            f"has {len(digits)} digits, not {ID_LENGTH}: stored as a number, and no NIK or KK "
            "starts with 0, so a digit is missing (not a dropped leading zero)"
        )
    return digits


def _from_scientific(raw: str) -> str:
    number = Decimal(raw.replace(",", "."))
    sign, digits, exponent = number.as_tuple()
    if exponent > 0:
        raise CellError(
            f"{raw} is in scientific notation and lost its last {exponent} digit(s); "
            "the number cannot be recovered: format the column as text and export again"
        )
    if number != number.to_integral_value():
        raise CellError(f"{raw} is not a whole number")
    return _whole_number(str(int(number)))


# -- dates --------------------------------------------------------------------------

_ISO = re.compile(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[ T][0-9:.]+)?$")
_DAY_FIRST = re.compile(r"^([0-9]{1,2})[/\-.]([0-9]{1,2})[/\-.]([0-9]{4})$")
# As text, only five-digit serials (1927 onwards) are taken for dates: four digits
# are far more often a bare year, which is not a date.
_SERIAL = re.compile(r"^[0-9]{5}(?:\.[0-9]+)?$")
_YEAR = re.compile(r"^(19|20)[0-9]{2}$")
# Serial numbers Excel uses for 1900-01-01 .. 2099-12-31; anything else is not a date.
SERIAL_RANGE = (1, 73050)


def a_date(value: object) -> date | None:
    """ISO, dd/mm/yyyy, dd-mm-yyyy, dd.mm.yyyy, an Excel serial number or a date cell."""
    if value is None:
        return None
    if type(value) is str and len(value) == 10 and value[4] == "-" == value[7] and value.isascii():
        # The common case, YYYY-MM-DD as it should be written, without the regexes.
        year, month, day = value[:4], value[5:7], value[8:]
        if year.isdigit() and month.isdigit() and day.isdigit():
            try:
                return date(int(year), int(month), int(day))
            except ValueError:
                raise CellError(f"{value} is not a real date") from None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise CellError("is not a date")
    if isinstance(value, (int, float)):
        return _from_serial(float(value), value)
    raw = text(value)
    if not raw:
        return None
    try:
        if match := _ISO.match(raw):
            year, month, day = (int(g) for g in match.groups())
            return date(year, month, day)
        if match := _DAY_FIRST.match(raw):
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
    except ValueError:
        raise CellError(f"{raw} is not a real date") from None
    if _SERIAL.match(raw):
        return _from_serial(float(raw), raw)
    if _YEAR.match(raw):
        raise CellError(f"{raw} is only a year; a full date is needed")
    raise CellError("is not a date (use YYYY-MM-DD or DD/MM/YYYY)")


def _from_serial(serial: float, shown: object) -> date:
    if not SERIAL_RANGE[0] <= serial <= SERIAL_RANGE[1]:
        raise CellError(f"{shown} is not a date")
    # openpyxl knows Excel's calendar, including the 29 February 1900 that never was.
    return from_excel(int(serial)).date()


# -- codes with many spellings ------------------------------------------------------

def _key(value: object) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text(value).casefold()).split())


_SEXES = {
    "L": ("l", "lk", "laki laki", "laki", "lakilaki", "pria", "male", "m", "1"),
    "P": ("p", "pr", "perempuan", "wanita", "female", "f", "w", "2"),
}
_SEX_BY_KEY = {alias: code for code, aliases in _SEXES.items() for alias in aliases}


def sex(value: object) -> str:
    """L or P, from L/P, Laki-laki/Perempuan, LK/PR, Pria/Wanita, M/F, 1/2."""
    key = _key(value)
    if not key:
        return ""
    try:
        return _SEX_BY_KEY[key]
    except KeyError:
        raise CellError("is not a sex: use L (Laki-laki) or P (Perempuan)") from None


_RELATIONSHIP_ALIASES = {
    "kepala keluarga": "kepala_keluarga",
    "kepala rumah tangga": "kepala_keluarga",
    "kepala": "kepala_keluarga",
    "krt": "kepala_keluarga",
    "kk": "kepala_keluarga",
    "head": "kepala_keluarga",
    "suami": "suami",
    "istri": "istri",
    "isteri": "istri",
    "anak": "anak",
    "anak kandung": "anak",
    "anak tiri": "anak",
    "anak angkat": "anak",
    "menantu": "menantu",
    "cucu": "cucu",
    "orang tua": "orang_tua",
    "orangtua": "orang_tua",
    "ayah": "orang_tua",
    "ibu": "orang_tua",
    "mertua": "mertua",
    "famili lain": "famili_lain",
    "famili": "famili_lain",
    "saudara": "famili_lain",
    "lainnya": "lainnya",
    "lain lain": "lainnya",
    "pembantu": "lainnya",
}
RELATIONSHIP_LABELS = {
    "kepala_keluarga": "Kepala Keluarga",
    "suami": "Suami",
    "istri": "Istri",
    "anak": "Anak",
    "menantu": "Menantu",
    "cucu": "Cucu",
    "orang_tua": "Orang Tua",
    "mertua": "Mertua",
    "famili_lain": "Famili Lain",
    "lainnya": "Lainnya",
}


def relationship(value: object) -> str:
    """A code of domain.identity.RELATIONSHIPS from how Dukcapil forms write it.

    Unknown words come back as typed; the domain's check then refuses them.
    """
    key = _key(value)
    if not key:
        return ""
    code = key.replace(" ", "_")
    if code in RELATIONSHIPS:
        return code
    return _RELATIONSHIP_ALIASES.get(key, text(value))


CATEGORY_LABELS = {
    "miskin_ekstrem": "Miskin Ekstrem",
    "miskin": "Miskin",
    "rentan": "Rentan",
    "tidak_miskin": "Tidak Miskin",
}
_CATEGORY_ALIASES = {"miskin ekstrim": "miskin_ekstrem", "ekstrem": "miskin_ekstrem", "rentan miskin": "rentan"}


def _coded(value: object, codes, aliases: dict) -> str:
    """A cell naming a code ("Miskin Ekstrem" -> miskin_ekstrem) or one of its aliases;
    anything else comes back as written, for the domain to refuse with its reason."""
    key = _key(value)
    if not key:
        return ""
    code = key.replace(" ", "_")
    if code in codes:
        return code
    return aliases.get(key, text(value))


def category(value: object) -> str:
    return _coded(value, CATEGORIES, _CATEGORY_ALIASES)


_SOURCE_ALIASES = {"p3ke": "p3ke_dtsen_import", "dtsen": "p3ke_dtsen_import", "p3ke dtsen": "p3ke_dtsen_import"}


def category_source(value: object) -> str:
    return _coded(value, SOURCES, _SOURCE_ALIASES)


# -- numbers ------------------------------------------------------------------------

def whole_number(value: object) -> int | None:
    """Desil and the like: '3', 3, 3.0 and 'Desil 3' are all 3."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise CellError(f"{value!r} is not a whole number")
    raw = re.sub(r"^(desil|d)\s*", "", text(value).casefold())
    if not raw:
        return None
    try:
        number = Decimal(raw.replace(",", "."))
    except InvalidOperation:
        raise CellError("is not a whole number") from None
    if number != number.to_integral_value():
        raise CellError(f"{raw} is not a whole number")
    return int(number)


def neighbourhood(value: object) -> str:
    """RT/RW as written ('003', 3, 'RT 03'); the domain checks the range and pads."""
    raw = text(value)
    return re.sub(r"^(rt|rw)\s*[.:]?\s*", "", raw, flags=re.IGNORECASE)


def coordinate(value: object) -> float | None:
    """A decimal degree; a decimal comma (-7,0123) is read as a point."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    raw = text(value)
    if not raw:
        return None
    if raw.count(",") == 1 and "." not in raw:
        raw = raw.replace(",", ".")
    try:
        return float(raw)
    except ValueError:
        raise CellError("is not a number of degrees (e.g. -7.0123)") from None


_THOUSANDS_DOT = re.compile(r"^[0-9]{1,3}(\.[0-9]{3})+(,[0-9]{1,2})?$")
_THOUSANDS_COMMA = re.compile(r"^[0-9]{1,3}(,[0-9]{3})+(\.[0-9]{1,2})?$")


def rupiah(value: object) -> int | None:
    """'Rp 300.000', '300,000', '300000.00' and 300000 are all 300000."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise CellError(f"{value!r} is not a whole number of Rupiah")
    raw = re.sub(r"^rp\.?\s*", "", text(value).casefold()).replace(" ", "")
    if not raw or raw == "-":
        return None
    if _THOUSANDS_DOT.match(raw):
        whole, _, cents = raw.partition(",")
        raw = whole.replace(".", "") + ("." + cents if cents else "")
    elif _THOUSANDS_COMMA.match(raw):
        raw = raw.replace(",", "")
    elif raw.count(",") == 1 and "." not in raw:
        raw = raw.replace(",", ".")
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise CellError("is not an amount of Rupiah") from None
    if number != number.to_integral_value():
        raise CellError(f"{text(value)} is not a whole number of Rupiah")
    return int(number)


# -- village codes ------------------------------------------------------------------

_UNDOTTED_VILLAGE = re.compile(r"^[0-9]{10}$")


def village_code(value: object) -> str:
    """'32.04.05.2001' as is; '3204052001' (or that number) gets its dots back."""
    raw = text(value)
    if _UNDOTTED_VILLAGE.match(raw):
        return f"{raw[:2]}.{raw[2:4]}.{raw[4:6]}.{raw[6:]}"
    return raw
