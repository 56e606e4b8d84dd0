"""One file row -> typed values and the problems found in it, each naming its field.

Everything that can be judged from one row alone is judged here, with the domain's
own rules (``domain.identity``), so each bad cell gets its own line in the report.
Rules that need the whole household (one head, the address, the categorisation)
are checked when the household is built.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Callable

from domain.errors import InvalidValue
from domain.identity import (
    check_kk_number,
    check_name,
    check_nik,
    check_not_future,
    check_relationship,
    check_sex,
)
from domain.reference import STRATEGIES, ProgrammeCatalogue
from service.importing import cells
from service.importing.cells import CellError
from service.importing.layouts import ColumnMap
from service.importing.villages import VillageResolver

HOUSEHOLD_FIELDS = ("village_code", "desil", "category", "category_source", "category_date")


@dataclass
class Row:
    """A parsed row. ``problems`` are (field, reason); ``raw`` keeps the cells as they came."""

    line: int
    kk_number: str
    values: dict
    raw: dict
    problems: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def same_content(self, other: Row) -> bool:
        return self.values == other.values


class _Memo:
    """Remembers what each distinct cell value read as: columns such as Hubungan,
    Jenis Kelamin, RT or Desil hold a handful of values over a whole file."""

    LIMIT = 20_000

    def __init__(self, read: Callable):
        self.read = read
        self.cache: dict = {}

    def __call__(self, value) -> tuple:
        try:
            return self.cache[value]
        except KeyError:
            pass
        except TypeError:  # an unhashable cell: read it, do not remember
            return self._read(value)
        if len(self.cache) >= self.LIMIT:
            self.cache.clear()
        result = self.cache[value] = self._read(value)
        return result

    def _read(self, value) -> tuple:
        """(value, None) or (None, reason)."""
        try:
            return self.read(value), None
        except (CellError, InvalidValue) as error:
            return None, error.reason


def _required(parse: Callable, rule: Callable | None = None) -> Callable:
    def read(value):
        result = parse(value)
        if result in (None, ""):
            raise CellError("is empty")
        if rule is not None:
            rule(result)
        return result

    return read


class RowParser:
    """Reads the rows of one file in one layout: first only the KK (to group rows
    into households), later the whole row."""

    def __init__(self, columns: ColumnMap):
        self.fields = [(name, column.index) for name, column in columns.columns.items()]
        self.kk_index = columns.columns["kk_number"].index
        self.kk = _Memo(_required(cells.identity_number, check_kk_number))

    def kk_of(self, row_cells: list) -> tuple[str | None, str | None]:
        """(KK, None), or (None, why the row's KK cannot be read)."""
        return self.kk(row_cells[self.kk_index] if self.kk_index < len(row_cells) else None)

    def raw(self, row_cells: list) -> dict:
        length = len(row_cells)
        return {name: (row_cells[index] if index < length else None) for name, index in self.fields}

    def __call__(self, line: int, row_cells: list) -> Row:
        raise NotImplementedError


class PersonParser(RowParser):
    """Reads rows of the households layout; one instance per file."""

    def __init__(self, columns: ColumnMap, villages: VillageResolver, today: date):
        super().__init__(columns)
        self.villages = villages
        self.today = today
        memos = {
            "sex": _Memo(_required(cells.sex, check_sex)),
            "relationship": _Memo(_required(cells.relationship, check_relationship)),
            "birth_date": _Memo(_required(cells.a_date, lambda d: check_not_future(d, today, "birth_date"))),
            "street": _Memo(cells.text),
            "rt": _Memo(cells.neighbourhood),
            "rw": _Memo(cells.neighbourhood),
            "desil": _Memo(cells.whole_number),
            "category": _Memo(cells.category),
            "category_source": _Memo(cells.category_source),
            "category_date": _Memo(cells.a_date),
            "lat": _Memo(cells.coordinate),
            "lon": _Memo(cells.coordinate),
        }
        # What an absent column reads as: the value of an empty cell.
        self.defaults = {name: memo(None)[0] for name, memo in memos.items()}
        self.defaults["relationship"] = ""
        self.memos = [(name, columns.columns[name].index, memo) for name, memo in memos.items() if columns.has(name)]
        self.village_cache: dict = {}

    def __call__(self, line: int, row_cells: list) -> Row:
        raw = self.raw(row_cells)
        get = raw.get
        length = len(row_cells)
        problems: list[tuple[str, str]] = []
        values = dict(self.defaults)
        for name, index, memo in self.memos:
            cell = row_cells[index] if index < length else None
            # The memo's own dict first: most cells were seen before (one call less a cell).
            try:
                value, reason = memo.cache[cell]
            except (KeyError, TypeError):
                value, reason = memo(cell)
            if reason:
                problems.append((name, reason))
            values[name] = value
        kk_cell = get("kk_number")
        try:
            kk, reason = self.kk.cache[kk_cell]  # read when the row was staged
        except (KeyError, TypeError):
            kk, reason = self.kk(kk_cell)
        if reason:
            problems.append(("kk_number", reason))
        sex = values["sex"] or ""
        values["sex"] = sex
        values["relationship"] = values["relationship"] or ""
        try:
            nik = values["nik"] = cells.identity_number(get("nik"))
            if not nik:
                problems.append(("nik", "is empty"))
            else:
                check_nik(nik, "nik", sex=sex or None)
        except (CellError, InvalidValue) as error:
            values["nik"] = ""
            problems.append(("nik", error.reason))
        try:
            values["name"] = check_name(cells.text(get("name")), "name")
        except InvalidValue as error:
            values["name"] = cells.text(get("name"))
            problems.append(("name", error.reason))
        values["village_code"] = self._village(get, problems)
        if (values["lat"] is None) != (values["lon"] is None) and not any(
            f in ("lat", "lon") for f, _ in problems
        ):
            missing = "lon" if values["lon"] is None else "lat"
            problems.append((missing, "is empty while the other coordinate is given"))
        return Row(line, kk or "", values, raw, problems)

    def _village(self, get, problems: list) -> str:
        key = (get("village_code"), get("village_name"), get("kecamatan_name"))
        try:
            code, found = self.village_cache[key]
        except KeyError:
            found = []
            code = _village(found, *key, self.villages)
            if len(self.village_cache) >= _Memo.LIMIT:
                self.village_cache.clear()
            self.village_cache[key] = code, found
        except TypeError:
            found = []
            code = _village(found, *key, self.villages)
        problems.extend(found)
        return code


def _village(problems: list, code_cell, village_cell, kecamatan_cell, villages: VillageResolver) -> str:
    """The village code, from the code or from the names; problems name their column."""
    code = cells.village_code(code_cell)
    village_name = cells.text(village_cell)
    kecamatan_name = cells.text(kecamatan_cell)
    if code:
        disagreement = villages.disagreement(code, village_name, kecamatan_name)
        if disagreement:
            problems.append(disagreement)
        try:
            villages.regions.check_village(code, "village_code")
        except InvalidValue as error:
            problems.append(("village_code", error.reason))
        return code
    if village_name:
        try:
            return villages.by_names(village_name, kecamatan_name)
        except CellError as error:
            problems.append(("village_name", error.reason))
    return ""


# -- interventions ------------------------------------------------------------------

PLANNED, DELIVERED, CANCELLED = "planned", "delivered", "cancelled"
_STATUSES = {
    PLANNED: ("planned", "direncanakan", "rencana", "belum", "belum disalurkan", "usulan", "diusulkan"),
    DELIVERED: ("delivered", "tersalurkan", "disalurkan", "sudah disalurkan", "diterima", "sudah diterima",
                "terealisasi", "realisasi", "selesai", "sudah"),
    CANCELLED: ("cancelled", "canceled", "dibatalkan", "batal", "tidak jadi"),
}
_STATUS_BY_KEY = {alias: status for status, aliases in _STATUSES.items() for alias in aliases}
_INTERVENTION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/\-]{0,63}$")


def _key(value: object) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", cells.text(value).casefold()).split())


class ProgrammeResolver:
    """Programme and agency codes from codes, names or the abbreviation in a name."""

    def __init__(self, catalogue: ProgrammeCatalogue):
        self.catalogue = catalogue
        self.programmes: dict[str, str] = {}
        for programme in catalogue.programmes.values():
            keys = {programme.code, programme.name, *re.findall(r"\(([^)]+)\)", programme.name)}
            keys.update(part for part in programme.name.split(" / "))
            keys.add(re.sub(r"\([^)]*\)", "", programme.name))
            for key in keys:
                self.programmes.setdefault(_key(key), programme.code)
        self.agencies: dict[str, str] = {}
        for agency in catalogue.agencies.values():
            for key in (agency.code, agency.name):
                self.agencies.setdefault(_key(key), agency.code)
        self.strategies = {_key(code): code for code in STRATEGIES}
        self.strategies.update({_key(label): code for code, label in STRATEGIES.items()})

    def programme(self, value: object) -> str:
        return self.programmes.get(_key(value), cells.text(value))

    def agency(self, value: object) -> str:
        return self.agencies.get(_key(value), cells.text(value))

    def strategy(self, value: object) -> str:
        return self.strategies.get(_key(value), cells.text(value))


def _status(value: object) -> str:
    key = _key(value)
    if not key:
        return ""
    try:
        return _STATUS_BY_KEY[key]
    except KeyError:
        raise CellError("is not a status: use planned/direncanakan, delivered/disalurkan or cancelled/dibatalkan") from None


def _intervention_id(value: object) -> str:
    raw = cells.text(value)
    if raw and not _INTERVENTION_ID.match(raw):
        raise CellError("must be 1-64 letters, digits, '.', '_', ':', '/' or '-'")
    return raw


class InterventionParser(RowParser):
    """Reads rows of the interventions layout; one instance per file."""

    def __init__(self, columns: ColumnMap, programmes: ProgrammeResolver):
        super().__init__(columns)
        self.programmes = programmes

    def __call__(self, line: int, row_cells: list) -> Row:
        raw = self.raw(row_cells)
        get = raw.get
        problems: list[tuple[str, str]] = []

        def read(name: str, parse: Callable):
            try:
                return parse(get(name))
            except CellError as error:
                problems.append((name, error.reason))
                return None

        kk, reason = self.kk(get("kk_number"))
        if reason:
            problems.append(("kk_number", reason))
        values = {
            "intervention_id": read("intervention_id", _intervention_id) or "",
            "programme": self.programmes.programme(get("programme")),
            "agency": self.programmes.agency(get("agency")),
            "strategy": self.programmes.strategy(get("strategy")),
            "status": read("status", _status) or "",
            "planned_on": read("planned_on", cells.a_date),
            "delivered_on": read("delivered_on", cells.a_date),
            "value_idr": read("value_idr", cells.rupiah),
            "notes": cells.text(get("notes")),
            "cancel_reason": cells.text(get("cancel_reason")),
        }
        troubled = {name for name, _ in problems}
        for name in ("programme", "agency"):
            if not values[name]:
                problems.append((name, "is empty"))
        if not values["status"] and "status" not in troubled:
            values["status"] = DELIVERED if values["delivered_on"] else PLANNED
        if values["planned_on"] is None and "planned_on" not in troubled:
            if values["delivered_on"] is not None:
                values["planned_on"] = values["delivered_on"]  # lists of deliveries often have no plan date
            else:
                problems.append(("planned_on", "is empty"))
        if values["status"] == DELIVERED and values["delivered_on"] is None and "delivered_on" not in troubled:
            problems.append(("delivered_on", "is empty, but the status is delivered"))
        if values["status"] in (PLANNED, CANCELLED) and values["delivered_on"] is not None:
            problems.append(("delivered_on", f"is given, but the status is {values['status']}"))
        return Row(line, kk or "", values, raw, problems)
