"""The interventions layout: an agency's list of what it planned, delivered or cancelled.

Each row is its own unit (one bad row does not hold back the agency's other rows for
the same family). A row names its intervention by the file's ID column or, without
one, by KK + programme + agency + planned date, so importing the list again finds
the intervention it created and only moves it on (planned -> delivered/cancelled).
Delivered and cancelled are final: a later list that says otherwise is refused.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from uuid import NAMESPACE_URL, uuid5

from domain.errors import DomainError, InvalidState, InvalidValue
from domain.household import Household
from domain.identity import check_not_future
from service.errors import Forbidden
from service.importing.context import BatchSaver, ImportContext, Pending, household_holding
from service.importing.rows import CANCELLED, DELIVERED, PLANNED, Row

_DOMAIN_TO_FILE_FIELD = {"reason": "cancel_reason"}


class RowRejected(Exception):
    def __init__(self, field: str, reason: str):
        super().__init__(reason)
        self.field = field
        self.reason = reason


def intervention_key(kk: str, values: dict) -> str:
    """The intervention's id: the file's own, or one derived from what identifies it."""
    if values["intervention_id"]:
        return values["intervention_id"]
    planned = values["planned_on"].isoformat() if isinstance(values["planned_on"], date) else ""
    return uuid5(NAMESPACE_URL, f"/konvergen/intervention/{kk}/{values['programme']}/{values['agency']}/{planned}").hex


class InterventionImport:
    def __init__(self, context: ImportContext, batch_size: int = 500):
        self.context = context
        self.households = context.households
        self.saver = BatchSaver(context, batch_size)

    def add(self, kk: str, rows: list[Row]) -> None:
        rows = self._vet(kk, rows)
        if rows:
            self.saver.add(self._plan(kk, rows))

    def finish(self) -> None:
        self.saver.flush()

    def _vet(self, kk: str, rows: list[Row]) -> list[Row]:
        """Rows without problems, each intervention once."""
        accepted: list[Row] = []
        by_key: dict[str, Row] = {}
        for row in rows:
            if not row.ok:
                for name, reason in row.problems:
                    self.context.reject(row, name, reason)
                continue
            key = intervention_key(kk, row.values)
            earlier = by_key.get(key)
            if earlier is not None:
                if earlier.same_content(row):
                    self.context.reject(row, "programme", f"duplicate of line {earlier.line}; ignored")
                else:
                    self.context.reject(
                        row, "programme",
                        f"names the same intervention as line {earlier.line} (same KK, programme, agency and "
                        "planned date, or the same ID) with other details; add an ID Intervensi column to tell them apart",
                    )
                continue
            by_key[key] = row
            accepted.append(row)
        return accepted

    def _plan(self, kk: str, rows: list[Row]) -> Pending | None:
        """Applies the rows to the household; the rows that change it are replanned
        together if another writer gets there first."""
        household = self._household(kk)
        if household is None:
            for row in rows:
                self.context.reject(row, "kk_number", "no household with this family card; import the households first")
            return None
        changed: list[Row] = []
        outcomes: Counter = Counter()
        for row in rows:
            pending_before = len(household.pending_events)
            try:
                outcome = self._apply(kk, household, row)
            except RowRejected as rejected:
                self.context.reject(row, rejected.field, rejected.reason)
                if len(household.pending_events) != pending_before:
                    # The row got half-way (planned, then refused delivery): start
                    # again from the stored household with the rows that worked.
                    household = self._household(kk)
                    for good in changed:
                        self._apply(kk, household, good)
                continue
            if outcome == "interventions_unchanged":
                self.context.counts[outcome] += 1
            else:
                changed.append(row)
                outcomes[outcome] += 1
        if not changed:
            return None
        return Pending(
            aggregates=[household],
            outcome="households_updated",
            extra=outcomes,
            replan=lambda: self._plan(kk, changed),
            fail=lambda reason: self._reject_all(changed, reason),
        )

    def _reject_all(self, rows: list[Row], reason: str) -> None:
        for row in rows:
            self.context.reject(row, "kk_number", reason)

    def _household(self, kk: str) -> Household | None:
        """The household holding (or once holding) this card, if the actor may see it."""
        household = household_holding(self.households, kk)
        if household is None:
            return None
        if not self.households.access.can_read(self.context.actor, household.address["village_code"]):
            return None  # not told apart from "not on file"
        return household

    def _apply(self, kk: str, household: Household, row: Row) -> str:
        values = row.values
        intervention_id = intervention_key(kk, values)
        context = self.context
        actor = context.actor.username
        ref = context.ref(row.line)
        existing = household.interventions.get(intervention_id)
        agency = existing["agency"] if existing else values["agency"]
        self._guard(lambda: self.households.access.check_intervention(
            context.actor, household.address["village_code"], agency), "agency")
        wanted = values["status"]
        if existing is not None:
            if existing["status"] == wanted or wanted == PLANNED:
                return "interventions_unchanged"  # a list that is behind changes nothing
            if existing["status"] != PLANNED:
                raise RowRejected("status", f"the intervention is already {existing['status']}, which is final")
        else:
            if wanted == DELIVERED:
                self._guard(lambda: check_not_future(values["delivered_on"], context.today, "delivered_on"))
            programme = self.households.programmes.programmes.get(values["programme"])
            strategy = values["strategy"] or (programme.strategy if programme else "")
            self._guard(lambda: household.plan_intervention(
                intervention_id=intervention_id, programme=values["programme"], agency=values["agency"],
                strategy=strategy, planned_on=values["planned_on"], value_idr=values["value_idr"],
                notes=values["notes"], programmes=self.households.programmes, actor=actor, source_ref=ref,
            ))
        if wanted == DELIVERED:
            value = values["value_idr"] if existing is not None else None
            self._guard(lambda: household.deliver_intervention(
                intervention_id=intervention_id, delivered_on=values["delivered_on"], value_idr=value,
                notes=values["notes"] if existing is not None else "", today=context.today, actor=actor,
                source_ref=ref,
            ))
        elif wanted == CANCELLED:
            reason = values["cancel_reason"] or values["notes"] or f"cancelled in {context.file_name}"
            self._guard(lambda: household.cancel_intervention(
                intervention_id=intervention_id, reason=reason, actor=actor, source_ref=ref))
        return "interventions_created" if existing is None else "interventions_updated"

    @staticmethod
    def _guard(command, field: str = "kk_number"):
        try:
            return command()
        except Forbidden as error:
            raise RowRejected(field, error.message) from None
        except InvalidValue as error:
            raise RowRejected(_DOMAIN_TO_FILE_FIELD.get(error.field, error.field), error.reason) from None
        except InvalidState as error:
            raise RowRejected("status", error.message) from None
        except DomainError as error:
            raise RowRejected(field, error.message) from None
