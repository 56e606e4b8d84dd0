"""What both layouts' importers share: who imports, which file, where rejections go,
the counts, and saving several households in one transaction."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Callable

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.household import Household
from domain.kk_index import kk_index_id

from service.access import Actor
from service.errors import HouseholdNotFound
from service.households import Households
from service.importing.cells import text
from service.importing.layouts import ColumnMap
from service.importing.records import source_ref
from service.importing.rows import Row
from service.importing.staging import Staging

SAVE_ATTEMPTS = 4


def household_holding(households: Households, kk: str) -> Household | None:
    """The household that holds (or once held) this family card, as a private copy a
    command may change; None when no household has it.

    Loaded through ``Households._load``: it copies the cached household under the
    household's lock, so a concurrent fast-forward in another thread cannot tear the
    copy. (The service has no public "load for a command" yet; see the report.)
    """
    try:
        index = households.repository.get(kk_index_id(kk))
    except AggregateNotFoundError:
        return None
    try:
        return households._load(index.household_id)
    except HouseholdNotFound:  # pragma: no cover - an index is saved with its household
        return None


@dataclass
class ImportContext:
    households: Households
    actor: Actor
    today: date
    file_date: date
    file_name: str
    import_id: str
    columns: ColumnMap
    staging: Staging
    dry_run: bool
    store_was_empty: bool
    counts: Counter = field(default_factory=Counter)

    def ref(self, line: int) -> str:
        return source_ref(self.import_id, line)

    def reject(self, row: Row, field_name: str, reason: str) -> None:
        self.staging.reject(row.line, self.columns.header_of(field_name), text(row.raw.get(field_name)), reason)

    def reject_group(self, rows: list[Row], problems: dict[int, list[tuple[str, str]]]) -> None:
        """Every row of a unit that is imported whole or not at all: the bad ones with
        their own reasons, the good ones naming the first bad line."""
        first_line = min(problems)
        first_field, first_reason = problems[first_line][0]
        because = (
            f"household rejected because line {first_line} "
            f"({self.columns.header_of(first_field)}) {first_reason}"
        )
        for row in rows:
            for field_name, reason in problems.get(row.line, ()):
                self.reject(row, field_name, reason)
            if row.line not in problems:
                self.reject(row, "kk_number", because)


@dataclass
class Pending:
    """One unit's aggregates to save, and how to plan it again after a conflict."""

    aggregates: list
    outcome: str  # a counter name, e.g. "households_created"
    replan: Callable[[], "Pending | None"]
    fail: Callable[[str], None]
    extra: Counter = field(default_factory=Counter)


class BatchSaver:
    """Saves many units' aggregates in one transaction; on a conflict (another writer
    got there first) falls back to one unit at a time, each planned again."""

    def __init__(self, context: ImportContext, size: int):
        self.context = context
        self.size = size
        self.pending: list[Pending] = []

    def add(self, unit: Pending | None) -> None:
        if unit is None:
            return
        self.pending.append(unit)
        if len(self.pending) >= self.size:
            self.flush()

    def flush(self) -> None:
        units, self.pending = self.pending, []
        if not units:
            return
        if self.context.dry_run:
            for unit in units:
                self._count(unit)
            return
        try:
            self.context.households.save_aggregates([a for unit in units for a in unit.aggregates if a.pending_events])
        except IntegrityError:
            for unit in units:
                self._save_alone(unit)
            return
        for unit in units:
            self._count(unit)

    def _save_alone(self, unit: Pending | None) -> None:
        for _attempt in range(SAVE_ATTEMPTS):
            unit = unit.replan()
            if unit is None:  # rejected or nothing left to do: replan said so
                return
            try:
                self.context.households.save_aggregates(unit.aggregates)
            except IntegrityError:
                continue
            self._count(unit)
            return
        unit.fail("was changed by someone else during the import again and again; import the file again")

    def _count(self, unit: Pending) -> None:
        self.context.counts[unit.outcome] += 1
        self.context.counts.update(unit.extra)

