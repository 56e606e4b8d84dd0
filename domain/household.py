"""The household case file: one event-sourced aggregate per family card (No. KK).

Every public command checks its invariants (``check_*``) and only then triggers an
event; the event's ``apply`` only assigns state, so replay is deterministic. Ids and
"today" are passed in by the caller: nothing here reads a clock or makes an id.
"""

from __future__ import annotations

import re
from datetime import date
from dataclasses import field
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import (
    DuplicateNIK,
    HouseholdClosed,
    InvalidState,
    InvalidValue,
    NotFound,
)
from domain.identity import (
    check_kk_number,
    check_name,
    check_not_future,
    check_person,
    check_relationship,
)
from domain.reference import ProgrammeCatalogue, RegionCatalogue

CATEGORIES = ("miskin_ekstrem", "miskin", "rentan", "tidak_miskin")
SOURCES = ("p3ke_dtsen_import", "field_verification", "village_deliberation", "agency_assessment")
DEPARTURE_REASONS = ("moved", "died", "married_out")
CLOSURE_REASONS = ("moved_away", "all_deceased", "duplicate")
KK_CHANGE_REASONS = ("pecah_kk", "reissue", "correction")
HEAD = "kepala_keluarga"
MEMBER_FIELDS = ("nik", "name", "sex", "birth_date", "relationship")

ACTIVE, GRADUATED, CLOSED = "active", "graduated", "closed"
EXTREME = "miskin_ekstrem"
PLANNED, DELIVERED, CANCELLED = "planned", "delivered", "cancelled"
OPEN, COMPLETED = "open", "completed"
REMINDER_KINDS = ("reminder_before", "reminder_due", "reminder_overdue", "escalation")
REMINDER_CHANNELS = ("in_app", "email", "webhook")

_NEIGHBOURHOOD = re.compile(r"^[0-9]{1,3}$")
MAX_TEXT = 2000


def _text(value: Any, field: str, *, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidValue(field, "must be text")
    value = value.strip()
    if required and not value:
        raise InvalidValue(field, "must not be empty")
    if len(value) > MAX_TEXT:
        raise InvalidValue(field, f"must be at most {MAX_TEXT} characters")
    return value


def _date(value: Any, field: str) -> date:
    if not isinstance(value, date):
        raise InvalidValue(field, "must be a date")
    return value


def check_address(address: dict, regions: RegionCatalogue, prefix: str = "address") -> dict:
    """RT and RW are 1-3 digits (kept zero-padded to 3); the village must exist."""
    if not isinstance(address, dict):
        raise InvalidValue(prefix, "must be an object")
    result = {"street": _text(address.get("street"), f"{prefix}.street", required=False)}
    for part in ("rt", "rw"):
        raw = str(address.get(part) or "").strip()
        if not _NEIGHBOURHOOD.match(raw) or int(raw) == 0:
            raise InvalidValue(f"{prefix}.{part}", "must be a number from 1 to 999")
        result[part] = raw.zfill(3)
    result["village_code"] = regions.check_village(
        address.get("village_code"), f"{prefix}.village_code"
    ).code
    return result


def check_location(location: dict | None, prefix: str = "location") -> dict | None:
    """Coordinates are optional, but when given they must lie in Indonesia."""
    if location is None:
        return None
    if not isinstance(location, dict):
        raise InvalidValue(prefix, "must be an object with lat and lon")
    lat, lon = location.get("lat"), location.get("lon")
    for name, value in (("lat", lat), ("lon", lon)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidValue(f"{prefix}.{name}", "must be a number")
    if not -11.5 <= lat <= 6.5:
        raise InvalidValue(f"{prefix}.lat", "must lie within Indonesia (-11.5 to 6.5)")
    if not 94.5 <= lon <= 141.5:
        raise InvalidValue(f"{prefix}.lon", "must lie within Indonesia (94.5 to 141.5)")
    return {"lat": float(lat), "lon": float(lon)}


def check_value_idr(value: Any, field: str = "value_idr") -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue(field, "must be a whole number of Rupiah")
    if value < 0:
        raise InvalidValue(field, "must not be negative")
    return value


def reminder_key(kind: str, follow_up_id: str, due_on: date) -> str:
    """A reminder of one kind, for one follow-up and one due date, happens once."""
    return f"{kind}:{follow_up_id}:{due_on.isoformat()}"


_CONTAINERS = frozenset({dict, list})


def falls_back(
    status: str, graduated_on: date | None, category: str, effective_on: date, current_effective_on: date | None
) -> bool:
    """Does a categorisation put a graduated household back among the extremely poor?

    Graduation means the household was verified as having left extreme poverty. A later
    categorisation as miskin ekstrem (taking effect after the graduation, and current:
    no categorisation already recorded takes effect later) says it is back there, so it
    counts as active and extremely poor again, and may graduate again. One rule, used
    by the aggregate, by the register and monitoring views (through
    ``projections.sql.falls_back_in_view``) and by the audit reports. The follow-ups
    view does not apply it: it keeps a household's status only to tell closed from
    not closed, so a household that fell back may still read "graduated" there.
    """
    return (
        status == GRADUATED
        and category == EXTREME
        and graduated_on is not None
        and effective_on > graduated_on
        and (current_effective_on is None or effective_on >= current_effective_on)
    )


def _copied(value: Any) -> Any:
    """Plain state copied at every depth of dicts and lists; immutable leaves shared."""
    kind = type(value)
    if kind is dict:
        return {k: _copied(v) if type(v) in _CONTAINERS else v for k, v in value.items()}
    if kind is list:
        return [_copied(v) if type(v) in _CONTAINERS else v for v in value]
    return value


class Household(Aggregate):
    """A family and everything every agency has done for it."""

    def __deepcopy__(self, memo: dict) -> Household:
        """What the repository's aggregate cache hands to each command.

        The state is dicts and lists of immutable values (text, numbers, dates), so
        copying the containers is a deep copy; ``copy.deepcopy`` took ten times longer
        on a household with 1,000 events. Pending events are frozen and shared.
        """
        duplicate = object.__new__(type(self))
        duplicate.__dict__.update({key: _copied(value) for key, value in self.__dict__.items()})
        memo[id(self)] = duplicate
        return duplicate

    # 2: reminders_sent joined the state; older snapshots are upcast below.
    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict) -> None:
        state["reminders_sent"] = {}

    class Event(Aggregate.Event):
        """Every fact names who caused it and, optionally, where it came from
        (for instance ``import:<id>:row:<n>``), so an auditor can trace it back."""

        actor: str
        source_ref: str | None = field(default=None, kw_only=True)

    class Registered(Event, Aggregate.Created):
        class_version = 1
        kk_number: str
        head: dict
        members: list
        address: dict
        location: dict | None

    class KKChanged(Event):
        class_version = 1
        old_kk_number: str
        new_kk_number: str
        reason: str
        effective_on: date | None

        def apply(self, household: Household) -> None:
            household.previous_kk_numbers.append(self.old_kk_number)
            household.kk_number = self.new_kk_number

    class IdentificationCorrected(Event):
        class_version = 1
        changes: dict
        reason: str

        def apply(self, household: Household) -> None:
            changes = self.changes
            if "address" in changes:
                household.address = dict(changes["address"])
            if "location" in changes:
                household.location = changes["location"]
            if "head_name" in changes:
                household.members[household.head_nik]["name"] = changes["head_name"]

    class MemberAdded(Event):
        class_version = 1
        member: dict
        joined_on: date | None

        def apply(self, household: Household) -> None:
            household.members[self.member["nik"]] = dict(self.member, status="present")

    class MemberDetailsCorrected(Event):
        class_version = 1
        nik: str
        changes: dict
        reason: str

        def apply(self, household: Household) -> None:
            member = household.members.pop(self.nik)
            member.update(self.changes)
            household.members[member["nik"]] = member
            if household.head_nik == self.nik:
                household.head_nik = member["nik"]

    class MemberLeft(Event):
        class_version = 1
        nik: str
        reason: str
        left_on: date
        note: str

        def apply(self, household: Household) -> None:
            member = household.members[self.nik]
            member.update(status="left", left_reason=self.reason, left_on=self.left_on)

    class Categorised(Event):
        class_version = 1
        category: str
        desil: int | None
        source: str
        effective_on: date
        reason: str

        def apply(self, household: Household) -> None:
            current = household.current_categorisation
            graduated_on = household.graduation["effective_on"] if household.graduation else None
            if falls_back(household.status, graduated_on, self.category, self.effective_on,
                          current["effective_on"] if current else None):
                household.status = ACTIVE
            household.categorisations.append(
                {
                    "category": self.category,
                    "desil": self.desil,
                    "source": self.source,
                    "effective_on": self.effective_on,
                    "reason": self.reason,
                    "recorded_by": self.actor,
                    "version": self.originator_version,
                }
            )

    class InterventionPlanned(Event):
        class_version = 1
        intervention_id: str
        programme: str
        agency: str
        strategy: str
        planned_on: date
        value_idr: int | None
        notes: str

        def apply(self, household: Household) -> None:
            household.interventions[self.intervention_id] = {
                "id": self.intervention_id,
                "programme": self.programme,
                "agency": self.agency,
                "strategy": self.strategy,
                "planned_on": self.planned_on,
                "value_idr": self.value_idr,
                "notes": self.notes,
                "status": PLANNED,
                "delivered_on": None,
                "cancelled_reason": None,
                "recorded_by": self.actor,
            }

    class InterventionDelivered(Event):
        class_version = 1
        intervention_id: str
        delivered_on: date
        value_idr: int | None
        notes: str

        def apply(self, household: Household) -> None:
            item = household.interventions[self.intervention_id]
            item.update(status=DELIVERED, delivered_on=self.delivered_on)
            if self.value_idr is not None:
                item["value_idr"] = self.value_idr
            if self.notes:
                item["notes"] = self.notes

    class InterventionCancelled(Event):
        class_version = 1
        intervention_id: str
        reason: str

        def apply(self, household: Household) -> None:
            household.interventions[self.intervention_id].update(
                status=CANCELLED, cancelled_reason=self.reason
            )

    class FollowUpScheduled(Event):
        class_version = 1
        follow_up_id: str
        due_on: date
        assigned_to: str
        purpose: str

        def apply(self, household: Household) -> None:
            household.follow_ups[self.follow_up_id] = {
                "id": self.follow_up_id,
                "due_on": self.due_on,
                "assigned_to": self.assigned_to,
                "purpose": self.purpose,
                "status": OPEN,
                "completed_on": None,
                "outcome": None,
                "cancelled_reason": None,
                "scheduled_by": self.actor,
            }

    class FollowUpRescheduled(Event):
        class_version = 1
        follow_up_id: str
        due_on: date
        assigned_to: str
        reason: str

        def apply(self, household: Household) -> None:
            household.follow_ups[self.follow_up_id].update(
                due_on=self.due_on, assigned_to=self.assigned_to
            )

    class FollowUpCompleted(Event):
        class_version = 1
        follow_up_id: str
        completed_on: date
        outcome: str

        def apply(self, household: Household) -> None:
            household.follow_ups[self.follow_up_id].update(
                status=COMPLETED, completed_on=self.completed_on, outcome=self.outcome
            )

    class FollowUpCancelled(Event):
        class_version = 1
        follow_up_id: str
        reason: str

        def apply(self, household: Household) -> None:
            household.follow_ups[self.follow_up_id].update(
                status=CANCELLED, cancelled_reason=self.reason
            )

    class ReminderSent(Event):
        """The scheduler told someone about a follow-up (kind ``escalation``: the
        kecamatan supervisors), so the history shows who was told what, and when."""

        class_version = 1
        kind: str
        follow_up_id: str
        due_on: date
        recipients: list
        channels: list

        def apply(self, household: Household) -> None:
            key = reminder_key(self.kind, self.follow_up_id, self.due_on)
            household.reminders_sent[key] = self.originator_version

    class Graduated(Event):
        class_version = 1
        effective_on: date
        reason: str

        def apply(self, household: Household) -> None:
            household.status = GRADUATED
            household.graduation = {"effective_on": self.effective_on, "reason": self.reason}

    class Closed(Event):
        class_version = 1
        reason: str
        duplicate_of: str | None
        effective_on: date
        note: str

        def apply(self, household: Household) -> None:
            household.status_before_closure = household.status
            household.status = CLOSED
            household.closure = {
                "reason": self.reason,
                "duplicate_of": self.duplicate_of,
                "effective_on": self.effective_on,
                "note": self.note,
            }

    class Reopened(Event):
        class_version = 1
        reason: str

        def apply(self, household: Household) -> None:
            household.status = household.status_before_closure or ACTIVE
            household.status_before_closure = None
            household.closure = None

    # -- creation ---------------------------------------------------------------

    def __init__(
        self,
        kk_number: str,
        head: dict,
        members: list,
        address: dict,
        location: dict | None,
        actor: str,
        source_ref: str | None = None,
    ):
        self.kk_number = kk_number
        self.previous_kk_numbers: list[str] = []
        self.head_nik = head["nik"]
        self.members: dict[str, dict] = {
            head["nik"]: dict(head, relationship=HEAD, status="present")
        }
        for member in members:
            self.members[member["nik"]] = dict(member, status="present")
        self.address = dict(address)
        self.location = location
        self.status = ACTIVE
        self.status_before_closure: str | None = None
        self.categorisations: list[dict] = []
        self.interventions: dict[str, dict] = {}
        self.follow_ups: dict[str, dict] = {}
        self.reminders_sent: dict[str, int] = {}  # reminder_key -> version that recorded it
        self.graduation: dict | None = None
        self.closure: dict | None = None
        self.registered_by = actor

    @classmethod
    def register(
        cls,
        *,
        household_id: UUID,
        kk_number: str,
        head: dict,
        address: dict,
        location: dict | None,
        members: list[dict] | None = None,
        regions: RegionCatalogue,
        today: date,
        actor: str,
        source_ref: str | None = None,
    ) -> Household:
        kk_number = check_kk_number(kk_number)
        head = check_person(head, today, "head")
        if members is not None and not isinstance(members, list):
            raise InvalidValue("members", "must be a list")
        checked_members = []
        seen = {head["nik"]}
        for index, member in enumerate(members or []):
            prefix = f"members[{index}]"
            member = check_person(member, today, prefix)
            check_relationship(member.get("relationship"), f"{prefix}.relationship")
            if member["relationship"] == HEAD:
                raise InvalidValue(f"{prefix}.relationship", "the head is given separately")
            if member["nik"] in seen:
                raise DuplicateNIK(f"{prefix}.nik", "appears twice in this household")
            seen.add(member["nik"])
            checked_members.append(_member_record(member))
        return cls._create(
            cls.Registered,
            id=household_id,
            kk_number=kk_number,
            head=_member_record(head, relationship=None),
            members=checked_members,
            address=check_address(address, regions),
            location=check_location(location),
            actor=actor,
            source_ref=source_ref,
        )

    # -- invariants -------------------------------------------------------------

    def check_open(self) -> None:
        if self.status == CLOSED:
            raise HouseholdClosed("the household is closed; reopen it before changing it")

    def check_member(self, nik: str) -> dict:
        member = self.members.get(nik)
        if member is None:
            raise NotFound(f"no member with NIK {nik} in this household")
        return member

    def check_intervention(self, intervention_id: str) -> dict:
        item = self.interventions.get(intervention_id)
        if item is None:
            raise NotFound(f"no intervention {intervention_id} in this household")
        return item

    def check_intervention_planned(self, intervention_id: str) -> dict:
        item = self.check_intervention(intervention_id)
        if item["status"] != PLANNED:
            raise InvalidState(
                f"intervention {intervention_id} is already {item['status']}; that is final"
            )
        return item

    def check_follow_up_open(self, follow_up_id: str) -> dict:
        item = self.follow_ups.get(follow_up_id)
        if item is None:
            raise NotFound(f"no follow-up {follow_up_id} in this household")
        if item["status"] != OPEN:
            raise InvalidState(f"follow-up {follow_up_id} is already {item['status']}")
        return item

    # -- identification ---------------------------------------------------------

    def change_kk(
        self, *, new_kk_number: str, reason: str, effective_on: date | None, today: date, actor: str,
        source_ref: str | None = None,
    ) -> None:
        self.check_open()
        new_kk_number = check_kk_number(new_kk_number, "new_kk_number")
        if new_kk_number == self.kk_number:
            raise InvalidValue("new_kk_number", "is the household's current KK")
        if reason not in KK_CHANGE_REASONS:
            raise InvalidValue("reason", f"must be one of {', '.join(KK_CHANGE_REASONS)}")
        if effective_on is not None:
            check_not_future(effective_on, today, "effective_on")
        self.trigger_event(
            self.KKChanged,
            old_kk_number=self.kk_number,
            new_kk_number=new_kk_number,
            reason=reason,
            effective_on=effective_on,
            actor=actor,
            source_ref=source_ref,
        )

    def correct_identification(
        self,
        *,
        address: dict | None = None,
        location: dict | None = None,
        clear_location: bool = False,
        head_name: str | None = None,
        reason: str,
        regions: RegionCatalogue,
        actor: str,
        source_ref: str | None = None,
    ) -> None:
        self.check_open()
        reason = _text(reason, "reason", required=True)
        changes: dict[str, Any] = {}
        if address is not None:
            if not isinstance(address, dict):
                raise InvalidValue("address", "must be an object")
            merged = dict(self.address)
            merged.update({k: v for k, v in address.items() if v is not None})
            checked = check_address(merged, regions)
            if checked != self.address:
                changes["address"] = checked
        if clear_location:
            if self.location is not None:
                changes["location"] = None
        elif location is not None:
            checked_location = check_location(location)
            if checked_location != self.location:
                changes["location"] = checked_location
        if head_name is not None:
            name = check_name(head_name, "head_name")
            if name != self.members[self.head_nik]["name"]:
                changes["head_name"] = name
        if not changes:
            raise InvalidValue("changes", "nothing to correct: every given value is already recorded")
        self.trigger_event(
            self.IdentificationCorrected, changes=changes, reason=reason, actor=actor, source_ref=source_ref
        )

    def add_member(self, *, member: dict, joined_on: date | None, today: date, actor: str, source_ref: str | None = None) -> None:
        self.check_open()
        member = check_person(member, today, "member")
        check_relationship(member.get("relationship"), "relationship")
        if member["relationship"] == HEAD:
            raise InvalidValue("relationship", "a household has one head; add this person with another relationship")
        earlier = self.members.get(member["nik"])
        if earlier is not None and earlier["status"] == "present":
            raise DuplicateNIK("nik", "already appears in this household")
        # Someone who left and comes back (from work in the city, after a divorce) is the
        # same person: added again, present again; their departure stays in the history.
        if joined_on is not None:
            check_not_future(joined_on, today, "joined_on")
        self.trigger_event(
            self.MemberAdded,
            member=_member_record(member),
            joined_on=joined_on,
            actor=actor,
            source_ref=source_ref,
        )

    def correct_member(self, *, nik: str, changes: dict, reason: str, today: date, actor: str, source_ref: str | None = None) -> None:
        self.check_open()
        member = self.check_member(nik)
        reason = _text(reason, "reason", required=True)
        if not isinstance(changes, dict):
            raise InvalidValue("changes", "must be an object")
        unknown = set(changes) - set(MEMBER_FIELDS)
        if unknown:
            raise InvalidValue(sorted(unknown)[0], "cannot be corrected here")
        proposed = dict(member)
        proposed.update({k: v for k, v in changes.items() if v is not None})
        checked = check_person(proposed, today, "member")
        if nik == self.head_nik:
            if proposed["relationship"] != HEAD:
                raise InvalidValue("relationship", "the head's relationship stays kepala_keluarga")
        else:
            check_relationship(proposed["relationship"], "relationship")
            if proposed["relationship"] == HEAD:
                raise InvalidValue("relationship", "a household has one head")
        if checked["nik"] != nik and checked["nik"] in self.members:
            raise DuplicateNIK("nik", "already appears in this household")
        checked["relationship"] = proposed["relationship"]
        diff = {key: checked[key] for key in MEMBER_FIELDS if checked[key] != member.get(key)}
        if not diff:
            raise InvalidValue("changes", "nothing to correct: every given value is already recorded")
        self.trigger_event(
            self.MemberDetailsCorrected, nik=nik, changes=diff, reason=reason, actor=actor, source_ref=source_ref
        )

    def record_member_left(
        self, *, nik: str, reason: str, left_on: date, note: str = "", today: date, actor: str,
        source_ref: str | None = None,
    ) -> None:
        self.check_open()
        member = self.check_member(nik)
        if member["status"] != "present":
            raise InvalidState(f"member {nik} has already left")
        if reason not in DEPARTURE_REASONS:
            raise InvalidValue("reason", f"must be one of {', '.join(DEPARTURE_REASONS)}")
        check_not_future(_date(left_on, "left_on"), today, "left_on")
        if nik == self.head_nik:
            raise InvalidState(
                "the head of household cannot leave the case file; close the household "
                "or change the family card (KK) instead"
            )
        self.trigger_event(
            self.MemberLeft,
            nik=nik,
            reason=reason,
            left_on=left_on,
            note=_text(note, "note", required=False),
            actor=actor,
            source_ref=source_ref,
        )

    # -- categorisation ---------------------------------------------------------

    def categorise(
        self,
        *,
        category: str,
        desil: int | None,
        source: str,
        effective_on: date,
        reason: str,
        today: date,
        actor: str,
        source_ref: str | None = None,
    ) -> None:
        self.check_open()
        if category not in CATEGORIES:
            raise InvalidValue("category", f"must be one of {', '.join(CATEGORIES)}")
        if desil is not None and (
            isinstance(desil, bool) or not isinstance(desil, int) or not 1 <= desil <= 10
        ):
            raise InvalidValue("desil", "must be a whole number from 1 to 10")
        if source not in SOURCES:
            raise InvalidValue("source", f"must be one of {', '.join(SOURCES)}")
        check_not_future(_date(effective_on, "effective_on"), today, "effective_on")
        self.trigger_event(
            self.Categorised,
            category=category,
            desil=desil,
            source=source,
            effective_on=effective_on,
            reason=_text(reason, "reason", required=True),
            actor=actor,
            source_ref=source_ref,
        )

    @property
    def current_categorisation(self) -> dict | None:
        """The one with the latest effective date; among equals, the last recorded."""
        if not self.categorisations:
            return None
        return max(self.categorisations, key=lambda c: (c["effective_on"], c["version"]))

    # -- interventions ----------------------------------------------------------

    def plan_intervention(
        self,
        *,
        intervention_id: str,
        programme: str,
        agency: str,
        strategy: str,
        planned_on: date,
        value_idr: int | None,
        notes: str,
        programmes: ProgrammeCatalogue,
        actor: str,
        source_ref: str | None = None,
    ) -> None:
        self.check_open()
        if intervention_id in self.interventions:
            raise InvalidState(f"intervention {intervention_id} already exists")
        programmes.check_intervention(programme, agency, strategy)
        self.trigger_event(
            self.InterventionPlanned,
            intervention_id=intervention_id,
            programme=programme,
            agency=agency,
            strategy=strategy,
            planned_on=_date(planned_on, "planned_on"),
            value_idr=check_value_idr(value_idr),
            notes=_text(notes, "notes", required=False),
            actor=actor,
            source_ref=source_ref,
        )

    def deliver_intervention(
        self,
        *,
        intervention_id: str,
        delivered_on: date,
        value_idr: int | None,
        notes: str,
        today: date,
        actor: str,
        source_ref: str | None = None,
    ) -> None:
        self.check_open()
        self.check_intervention_planned(intervention_id)
        check_not_future(_date(delivered_on, "delivered_on"), today, "delivered_on")
        self.trigger_event(
            self.InterventionDelivered,
            intervention_id=intervention_id,
            delivered_on=delivered_on,
            value_idr=check_value_idr(value_idr),
            notes=_text(notes, "notes", required=False),
            actor=actor,
            source_ref=source_ref,
        )

    def cancel_intervention(self, *, intervention_id: str, reason: str, actor: str, source_ref: str | None = None) -> None:
        self.check_open()
        self.check_intervention_planned(intervention_id)
        self.trigger_event(
            self.InterventionCancelled,
            intervention_id=intervention_id,
            reason=_text(reason, "reason", required=True),
            actor=actor,
            source_ref=source_ref,
        )

    # -- follow-ups -------------------------------------------------------------

    def schedule_follow_up(
        self,
        *,
        follow_up_id: str,
        due_on: date,
        assigned_to: str,
        purpose: str,
        today: date,
        actor: str,
        source_ref: str | None = None,
    ) -> None:
        self.check_open()
        if follow_up_id in self.follow_ups:
            raise InvalidState(f"follow-up {follow_up_id} already exists")
        if _date(due_on, "due_on") < today:
            raise InvalidValue("due_on", f"{due_on.isoformat()} is in the past")
        self.trigger_event(
            self.FollowUpScheduled,
            follow_up_id=follow_up_id,
            due_on=due_on,
            assigned_to=_text(assigned_to, "assigned_to", required=True),
            purpose=_text(purpose, "purpose", required=True),
            actor=actor,
            source_ref=source_ref,
        )

    def reschedule_follow_up(
        self,
        *,
        follow_up_id: str,
        due_on: date,
        assigned_to: str | None,
        reason: str,
        today: date,
        actor: str,
        source_ref: str | None = None,
    ) -> None:
        self.check_open()
        current = self.check_follow_up_open(follow_up_id)
        if _date(due_on, "due_on") < today:
            raise InvalidValue("due_on", f"{due_on.isoformat()} is in the past")
        assignee = _text(assigned_to, "assigned_to", required=False) or current["assigned_to"]
        if due_on == current["due_on"] and assignee == current["assigned_to"]:
            raise InvalidValue("due_on", "is already the follow-up's due date")
        self.trigger_event(
            self.FollowUpRescheduled,
            follow_up_id=follow_up_id,
            due_on=due_on,
            assigned_to=assignee,
            reason=_text(reason, "reason", required=True),
            actor=actor,
            source_ref=source_ref,
        )

    def complete_follow_up(
        self, *, follow_up_id: str, completed_on: date, outcome: str, today: date, actor: str,
        source_ref: str | None = None,
    ) -> None:
        self.check_open()
        self.check_follow_up_open(follow_up_id)
        check_not_future(_date(completed_on, "completed_on"), today, "completed_on")
        self.trigger_event(
            self.FollowUpCompleted,
            follow_up_id=follow_up_id,
            completed_on=completed_on,
            outcome=_text(outcome, "outcome", required=True),
            actor=actor,
            source_ref=source_ref,
        )

    def cancel_follow_up(self, *, follow_up_id: str, reason: str, actor: str, source_ref: str | None = None) -> None:
        self.check_open()
        self.check_follow_up_open(follow_up_id)
        self.trigger_event(
            self.FollowUpCancelled,
            follow_up_id=follow_up_id,
            reason=_text(reason, "reason", required=True),
            actor=actor,
            source_ref=source_ref,
        )

    # -- reminders --------------------------------------------------------------

    def has_reminder(self, kind: str, follow_up_id: str, due_on: date) -> bool:
        return reminder_key(kind, follow_up_id, due_on) in self.reminders_sent

    def check_reminder_applies(self, kind: str, follow_up_id: str, due_on: date) -> None:
        """A reminder is for an open follow-up's current due date, and happens once."""
        self.check_open()
        if kind not in REMINDER_KINDS:
            raise InvalidValue("kind", f"must be one of {', '.join(REMINDER_KINDS)}")
        item = self.check_follow_up_open(follow_up_id)
        if _date(due_on, "due_on") != item["due_on"]:
            raise InvalidState(
                f"follow-up {follow_up_id} is now due on {item['due_on'].isoformat()}, "
                f"not {due_on.isoformat()}"
            )
        if self.has_reminder(kind, follow_up_id, due_on):
            raise InvalidState(f"{kind} for follow-up {follow_up_id} due {due_on.isoformat()} was already sent")

    def record_reminder(
        self,
        *,
        kind: str,
        follow_up_id: str,
        due_on: date,
        recipients: list[str],
        channels: list[str],
        actor: str,
    ) -> None:
        self.check_reminder_applies(kind, follow_up_id, due_on)
        if not isinstance(recipients, list) or not recipients:
            raise InvalidValue("recipients", "must name at least one user")
        checked_recipients = [_text(r, "recipients", required=True) for r in recipients]
        if not isinstance(channels, list) or not channels or not set(channels) <= set(REMINDER_CHANNELS):
            raise InvalidValue("channels", f"must be some of {', '.join(REMINDER_CHANNELS)}")
        self.trigger_event(
            self.ReminderSent,
            kind=kind,
            follow_up_id=follow_up_id,
            due_on=due_on,
            recipients=checked_recipients,
            channels=list(channels),
            actor=actor,
        )

    # -- lifecycle --------------------------------------------------------------

    def graduate(self, *, effective_on: date, reason: str, today: date, actor: str, source_ref: str | None = None) -> None:
        self.check_open()
        if self.status == GRADUATED:
            raise InvalidState("the household has already graduated")
        if not any(c["category"] == EXTREME for c in self.categorisations):
            raise InvalidState(
                "only a household once categorised miskin ekstrem can graduate from it"
            )
        check_not_future(_date(effective_on, "effective_on"), today, "effective_on")
        self.trigger_event(
            self.Graduated,
            effective_on=effective_on,
            reason=_text(reason, "reason", required=True),
            actor=actor,
            source_ref=source_ref,
        )

    def close(
        self,
        *,
        reason: str,
        duplicate_of: str | None,
        effective_on: date,
        note: str,
        today: date,
        actor: str,
        source_ref: str | None = None,
    ) -> None:
        self.check_open()
        if reason not in CLOSURE_REASONS:
            raise InvalidValue("reason", f"must be one of {', '.join(CLOSURE_REASONS)}")
        if reason == "duplicate":
            duplicate_of = check_kk_number(duplicate_of, "duplicate_of")
            if duplicate_of == self.kk_number:
                raise InvalidValue("duplicate_of", "a household cannot duplicate itself")
        elif duplicate_of:
            raise InvalidValue("duplicate_of", "only applies when the reason is duplicate")
        check_not_future(_date(effective_on, "effective_on"), today, "effective_on")
        self.trigger_event(
            self.Closed,
            reason=reason,
            duplicate_of=duplicate_of or None,
            effective_on=effective_on,
            note=_text(note, "note", required=False),
            actor=actor,
            source_ref=source_ref,
        )

    def reopen(self, *, reason: str, actor: str, source_ref: str | None = None) -> None:
        if self.status != CLOSED:
            raise InvalidState("only a closed household can be reopened")
        self.trigger_event(
            self.Reopened, reason=_text(reason, "reason", required=True), actor=actor, source_ref=source_ref
        )


def _member_record(person: dict, relationship: str | None = "") -> dict:
    record = {
        "nik": person["nik"],
        "name": person["name"],
        "sex": person["sex"],
        "birth_date": person["birth_date"],
    }
    if relationship is not None:
        record["relationship"] = person.get("relationship")
    return record
