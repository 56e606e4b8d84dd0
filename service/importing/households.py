"""The households layout: the rows of one KK become one household, whole or not at all.

A KK not yet on file is registered (with its categorisation, when the file gives one).
A KK already on file gets only what is new: members whose NIK it does not have, and a
categorisation when the file's category or desil differs from what the same source
said as of the file's date. Nothing is removed because a file omits it, and details
already on file (names, address) are not overwritten: corrections to the case file go
through its own commands, with a reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from uuid import uuid4

from domain.errors import DomainError, InvalidValue
from domain.household import HEAD, Household, check_address, check_location
from domain.kk_index import KKIndex, kk_index_id
from service.errors import Forbidden
from service.importing.cells import text
from service.importing.context import BatchSaver, ImportContext, Pending, household_holding
from service.importing.rows import HOUSEHOLD_FIELDS, Row

IMPORT_SOURCE = "p3ke_dtsen_import"
PERSON_FIELDS = ("nik", "name", "sex", "birth_date", "relationship")
_MEMBER_FIELD = re.compile(r"^members\[(\d+)\]\.(\w+)$")
_DOMAIN_TO_FILE_FIELD = {"source": "category_source", "effective_on": "category_date", "joined_on": "nik"}


@dataclass
class Vetted:
    """A KK's rows that passed every check that needs no database."""

    kk: str
    head: Row
    members: list[Row]
    address: dict
    location: dict | None

    @property
    def rows(self) -> list[Row]:
        return [self.head, *self.members]

    def categorisation(self, context: ImportContext) -> dict | None:
        values = self.head.values
        if not values["category"]:
            return None
        source = values["category_source"] or IMPORT_SOURCE
        reason = f"P3KE/DTSEN import of {context.file_name}" if source == IMPORT_SOURCE else f"imported from {context.file_name}"
        return {
            "category": values["category"],
            "desil": values["desil"],
            "source": source,
            "effective_on": values["category_date"] or context.file_date,
            "reason": reason,
        }


class HouseholdRejected(Exception):
    def __init__(self, problems: dict[int, list[tuple[str, str]]]):
        super().__init__(problems)
        self.problems = problems


def person(row: Row) -> dict:
    return {name: row.values[name] for name in PERSON_FIELDS}


class HouseholdImport:
    def __init__(self, context: ImportContext, batch_size: int = 500):
        self.context = context
        self.households = context.households
        self.saver = BatchSaver(context, batch_size)

    def add(self, kk: str, rows: list[Row]) -> None:
        vetted = self._vet(kk, rows)
        if vetted is not None:
            self.saver.add(self._plan(vetted, fresh=False))

    def finish(self) -> None:
        self.saver.flush()

    # -- checks on the rows alone ------------------------------------------------

    def _vet(self, kk: str, rows: list[Row]) -> Vetted | None:
        problems: dict[int, list[tuple[str, str]]] = {}
        accepted: list[Row] = []
        by_nik: dict[str, Row] = {}
        considered: list[Row] = []
        for row in rows:
            if not row.ok:
                problems[row.line] = list(row.problems)
                considered.append(row)
                continue
            earlier = by_nik.get(row.values["nik"])
            if earlier is not None and earlier.same_content(row):
                self.context.reject(row, "nik", f"duplicate of line {earlier.line}; ignored")
                continue
            considered.append(row)
            if earlier is not None:
                problems[row.line] = [("nik", f"is also on line {earlier.line}, with other details")]
                continue
            by_nik[row.values["nik"]] = row
            accepted.append(row)
        if problems:
            return self._rejected(considered, problems)
        heads = [row for row in accepted if row.values["relationship"] == HEAD]
        if not heads:
            problems[accepted[0].line] = [("relationship", f"no row of KK {kk} is the Kepala Keluarga")]
            return self._rejected(considered, problems)
        head = heads[0]
        for extra in heads[1:]:
            problems[extra.line] = [("relationship", f"a second Kepala Keluarga (the first is on line {head.line})")]
        members = [row for row in accepted if row is not head and row not in heads[1:]]
        for member in members:
            for name in HOUSEHOLD_FIELDS:
                value = member.values[name]
                if value not in (None, "") and value != head.values[name]:
                    shown = text(head.raw.get(name)) or text(head.values[name]) or "empty"
                    problems.setdefault(member.line, []).append(
                        (name, f"differs from the Kepala Keluarga's row (line {head.line}: {shown})")
                    )
        address, location, head_problems = self._check_household_fields(head)
        if head_problems:
            problems.setdefault(head.line, []).extend(head_problems)
        if problems:
            return self._rejected(considered, problems)
        return Vetted(kk, head, members, address, location)

    def _check_household_fields(self, head: Row) -> tuple[dict | None, dict | None, list[tuple[str, str]]]:
        """The address and coordinates by the domain's rules; a desil needs a category."""
        values = head.values
        problems = []
        address = location = None
        if not values["village_code"]:
            if not any(name in ("village_code", "village_name") for name, _ in head.problems):
                problems.append(("village_code", "is empty on the Kepala Keluarga's row"))
        else:
            try:
                address = check_address(
                    {"street": values["street"], "rt": values["rt"], "rw": values["rw"],
                     "village_code": values["village_code"]},
                    self.households.regions,
                )
            except InvalidValue as error:
                problems.append((error.field.split(".")[-1], error.reason))
        if values["lat"] is not None:
            try:
                location = check_location({"lat": values["lat"], "lon": values["lon"]})
            except InvalidValue as error:
                problems.append((error.field.split(".")[-1], error.reason))
        if not values["category"]:
            for name in ("desil", "category_source", "category_date"):
                if values[name] not in (None, ""):
                    problems.append(("category", f"is empty while {self.context.columns.header_of(name)} is given"))
                    break
        return address, location, problems

    def _rejected(self, rows: list[Row], problems: dict) -> None:
        self.context.reject_group(rows, problems)
        self.context.counts["households_rejected"] += 1
        return None

    # -- against the case file -----------------------------------------------------

    def _plan(self, vetted: Vetted, *, fresh: bool) -> Pending | None:
        """The aggregates to save for this KK (None when rejected or unchanged)."""
        try:
            household = self._existing(vetted.kk, fresh)
            if household is None:
                aggregates, outcome = self._register(vetted), "households_created"
            else:
                aggregates, outcome = self._update(vetted, household), "households_updated"
                if not aggregates:
                    self.context.counts["households_unchanged"] += 1
                    return None
        except HouseholdRejected as rejected:
            self._rejected(vetted.rows, rejected.problems)
            return None
        return Pending(
            aggregates=aggregates,
            outcome=outcome,
            replan=lambda: self._plan(vetted, fresh=True),
            fail=lambda reason: self._rejected(vetted.rows, {vetted.head.line: [("kk_number", reason)]}),
        )

    def _existing(self, kk: str, fresh: bool) -> Household | None:
        if self.context.store_was_empty and not fresh:
            return None  # a register that was empty has no such KK unless someone races us
        if not self.households.recorder.select_events(kk_index_id(kk), limit=1):
            return None  # one cheap query for the usual answer
        return household_holding(self.households, kk)

    def _register(self, vetted: Vetted) -> list:
        context = self.context
        self._guard(vetted, vetted.head, lambda: self.households.access.check_register(
            context.actor, vetted.address["village_code"]), field="village_code")
        household = self._guard(vetted, vetted.head, lambda: Household.register(
            household_id=uuid4(),
            kk_number=vetted.kk,
            head=person(vetted.head),
            address=vetted.address,
            location=vetted.location,
            members=[person(m) for m in vetted.members],
            regions=self.households.regions,
            today=context.today,
            actor=context.actor.username,
            source_ref=context.ref(vetted.head.line),
        ))
        categorisation = vetted.categorisation(context)
        if categorisation:
            self._categorise(vetted, household, categorisation)
        index = KKIndex.reserve(kk_number=household.kk_number, household_id=household.id, actor=context.actor.username)
        return [household, index]

    def _update(self, vetted: Vetted, household: Household) -> list:
        context = self.context
        head = vetted.head
        self._guard(vetted, head, lambda: self.households.access.check_change(
            context.actor, household.address["village_code"]), field="village_code")
        if household.kk_number != vetted.kk:
            raise HouseholdRejected({head.line: [(
                "kk_number", f"this family card was replaced by {household.kk_number}; use the new number")]})
        if head.values["nik"] != household.head_nik:
            raise HouseholdRejected({head.line: [(
                "nik", f"the household's Kepala Keluarga on file is NIK {household.head_nik}; "
                "change the head through the case file, not an import")]})
        new_members = [m for m in vetted.members if m.values["nik"] not in household.members]
        categorisation = vetted.categorisation(context)
        if categorisation and _already_said(household, categorisation):
            categorisation = None
        if not new_members and categorisation is None:
            return []
        self._guard(vetted, head, household.check_open, field="kk_number")
        for member in new_members:
            self._guard(vetted, member, lambda m=member: household.add_member(
                member=person(m), joined_on=None, today=context.today,
                actor=context.actor.username, source_ref=context.ref(m.line),
            ))
        if categorisation:
            self._categorise(vetted, household, categorisation)
        return [household]

    def _categorise(self, vetted: Vetted, household: Household, categorisation: dict) -> None:
        context = self.context
        self._guard(vetted, vetted.head, lambda: household.categorise(
            **categorisation, today=context.today, actor=context.actor.username,
            source_ref=context.ref(vetted.head.line),
        ))

    def _guard(self, vetted: Vetted, row: Row, command, field: str | None = None):
        """Runs a domain command; a refusal rejects the household, naming the row and column."""
        try:
            return command()
        except Forbidden as error:
            raise HouseholdRejected({row.line: [(field or "kk_number", error.message)]}) from None
        except InvalidValue as error:
            blamed_row, blamed_field = self._locate(vetted, row, error.field)
            raise HouseholdRejected({blamed_row.line: [(blamed_field, error.reason)]}) from None
        except DomainError as error:
            raise HouseholdRejected({row.line: [(field or "kk_number", error.message)]}) from None

    @staticmethod
    def _locate(vetted: Vetted, row: Row, domain_field: str) -> tuple[Row, str]:
        """Which row and column a domain error's field ('members[2].nik', 'desil') is about."""
        if match := _MEMBER_FIELD.match(domain_field):
            return vetted.members[int(match.group(1))], match.group(2)
        prefix, _, name = domain_field.rpartition(".")
        if prefix in ("head", "address", "location"):
            return vetted.head, name
        if prefix == "member":
            return row, name
        return row, _DOMAIN_TO_FILE_FIELD.get(name, name)


def _already_said(household: Household, categorisation: dict) -> bool:
    """True when the same source's categorisation in effect on that date says the same:
    importing the same (or an older) file again records nothing new."""
    earlier = [
        c for c in household.categorisations
        if c["source"] == categorisation["source"] and c["effective_on"] <= categorisation["effective_on"]
    ]
    if not earlier:
        return False
    in_effect = max(earlier, key=lambda c: (c["effective_on"], c["version"]))
    return (in_effect["category"], in_effect["desil"]) == (categorisation["category"], categorisation["desil"])
