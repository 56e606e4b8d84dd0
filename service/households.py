"""The service layer: one method per use case, simple types in and out.

Every method takes the acting user, checks scope through the access policy, loads the
household, runs one domain command and saves. Concurrency: a command that names the
version it was based on is refused if the household moved on; one that does not is
retried on the fresh household, with every invariant checked again. Either way the
event store's unique (household, version) key is what refuses the losing write.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
import time
from contextlib import contextmanager, suppress
from datetime import date
from typing import Any, Callable, ClassVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import ApplicationRecorder, EventStore, IntegrityError, JSONTranscoder, Transcoding
from eventsourcing.postgres import PostgresDatastore

from domain.errors import DomainError, DuplicateKK, InvalidValue
from domain.household import Household
from domain.kk_index import KKIndex, kk_index_id
from domain.reference import ProgrammeCatalogue, RegionCatalogue
from service.access import SYSTEM, SYSTEM_ACTOR, AccessPolicy, Actor
from service.clock import Clock
from service.errors import Forbidden, HouseholdNotFound, VersionConflict

# A command without an expected version is retried after a concurrent write. Threads of
# one process never collide on a household (a striped lock serialises them); processes
# do, so a loser waits a short random while before trying again, which stops writers
# that collided once from colliding again in lockstep.
logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 20
RETRY_BACKOFF_SECONDS = 0.002  # doubled per attempt, capped, and jittered
RETRY_BACKOFF_CAP_SECONDS = 0.05
HOUSEHOLD_LOCK_STRIPES = 64
# PostgreSQL advisory lock key under which processes create the event store's tables.
SCHEMA_LOCK_KEY = 0x4B564E_5343484D  # "KVN" "SCHM"
EVENT_METADATA = ("originator_id", "originator_version", "timestamp", "originator_topic", "actor", "source_ref")


class DateAsISO(Transcoding):
    """Business dates (birth, delivery, due) are dates, not datetimes."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class Households(Application):
    """The household case file as use cases."""

    name = "Households"
    snapshotting_intervals: ClassVar = {Household: 50}
    # Recently used households stay in memory; every load still asks the store for
    # newer events (fast-forward), so other processes' writes are never missed. The
    # environment may override it (AGGREGATE_CACHE_MAXSIZE=0 keeps every household).
    env: ClassVar = {"AGGREGATE_CACHE_MAXSIZE": "1000"}

    def __init__(
        self,
        env: dict | None = None,
        *,
        regions: RegionCatalogue,
        programmes: ProgrammeCatalogue,
        clock: Clock | None = None,
        user_exists: Callable[[str], bool] = lambda username: True,
    ):
        super().__init__(env)
        self._household_locks = [threading.RLock() for _ in range(HOUSEHOLD_LOCK_STRIPES)]
        self.regions = regions
        self.programmes = programmes
        self.access = AccessPolicy(regions)
        self.clock = clock or Clock()
        self.user_exists = user_exists

    # -- event store tables ------------------------------------------------------

    def construct_recorder(self) -> ApplicationRecorder:
        with self._schema_lock():
            return super().construct_recorder()

    def construct_snapshot_store(self) -> EventStore:
        with self._schema_lock():
            return super().construct_snapshot_store()

    def _take_snapshots(self, processing_event) -> None:
        """A snapshot only saves replay time. Failing to take one (a busy database, say)
        must not fail a command whose events are already stored: the client would
        retry it and record it twice. The next snapshot interval tries again."""
        try:
            super()._take_snapshots(processing_event)
        except Exception:
            logger.warning("snapshot not taken; the events are stored", exc_info=True)

    @contextmanager
    def _schema_lock(self):
        """One process at a time creates the event store's tables on PostgreSQL.

        The library's ``CREATE OR REPLACE FUNCTION`` (and any trigger a recorder adds)
        rewrites a catalogue row on every start, so web workers starting together fail
        with "tuple concurrently updated" unless they take turns. SQLite serialises
        its writers already.
        """
        datastore = getattr(self.factory, "datastore", None)
        if not isinstance(datastore, PostgresDatastore):
            yield
            return
        with datastore.get_connection() as connection:
            connection.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
            try:
                yield
            finally:
                connection.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_KEY,))

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def save_aggregates(self, aggregates: list) -> list:
        """``save`` for many aggregates at once, as ``Application.save`` does it but
        without its two runtime protocol checks per object (``isinstance`` against a
        ``typing.Protocol`` walks the protocol's members each time: a twentieth of a
        bulk import's time). Only for this application's own aggregates. Mirrors
        eventsourcing 9.5's ``Application.save`` (pinned <9.6; recheck on upgrading)
        step for step, and returns its recordings as it does."""
        processing_event: ProcessingEvent = ProcessingEvent()
        for aggregate in aggregates:
            processing_event.events.extend(aggregate.collect_events())
            processing_event.aggregates[aggregate.id] = aggregate
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)
        return recordings

    # -- reads ------------------------------------------------------------------

    def get_household(self, actor: Actor, household_id: UUID | str, *, version: int | None = None) -> dict:
        # Read the cached household itself (no copy) and turn it into plain data before
        # letting go of its lock: nothing else can change it meanwhile.
        with self._household_lock(household_id):
            household = self._load_readable(actor, household_id, version=version, private=False)
            return household_dict(household, self.regions)

    def find_by_kk(self, actor: Actor, kk_number: str) -> dict:
        """The household that holds (or once held) this family card."""
        try:
            index = self.repository.get(kk_index_id(kk_number))
        except AggregateNotFoundError:
            raise HouseholdNotFound(kk_number) from None
        return self.get_household(actor, index.household_id)

    def history(self, actor: Actor, household_id: UUID | str) -> list[dict]:
        with self._household_lock(household_id):
            household_uuid = self._load_readable(actor, household_id, private=False).id
        return [event_dict(e) for e in self.events.get(household_uuid)]

    def current_version(self, actor: Actor, household_id: UUID | str) -> int:
        with self._household_lock(household_id):
            return self._load_readable(actor, household_id, private=False).version

    # -- registration -----------------------------------------------------------

    def register_household(
        self,
        actor: Actor,
        *,
        kk_number: str,
        head: dict,
        address: dict,
        location: dict | None = None,
        members: list[dict] | None = None,
        source_ref: str | None = None,
    ) -> dict:
        village = address.get("village_code") if isinstance(address, dict) else None
        self.regions.check_village(village)
        self.access.check_register(actor, village)
        household = Household.register(
            household_id=uuid4(),
            kk_number=kk_number,
            head=head,
            address=address,
            location=location,
            members=members,
            regions=self.regions,
            today=self.clock.today(),
            actor=actor.username,
            source_ref=source_ref,
        )
        index = KKIndex.reserve(kk_number=household.kk_number, household_id=household.id, actor=actor.username)
        try:
            recordings = self.save(household, index)
        except IntegrityError:
            raise DuplicateKK(household.kk_number, self._holder_of(household.kk_number)) from None
        return {"id": str(household.id), "version": household.version, "position": _position(recordings)}

    def _holder_of(self, kk_number: str) -> str | None:
        try:
            return str(self.repository.get(kk_index_id(kk_number)).household_id)
        except AggregateNotFoundError:  # pragma: no cover - the index write lost a race
            return None

    # -- identification ---------------------------------------------------------

    def change_kk(self, actor: Actor, household_id, *, expected_version: int | None = None, **command) -> dict:
        """A new family card (pecah KK, reissue); the old number stays reserved."""

        def run(household: Household) -> list:
            household.change_kk(today=self.clock.today(), actor=actor.username, **command)
            return [KKIndex.reserve(kk_number=household.kk_number, household_id=household.id, actor=actor.username)]

        try:
            return self._change(actor, household_id, expected_version, run)
        except IntegrityError:
            new_kk = command.get("new_kk_number")
            raise DuplicateKK(new_kk, self._holder_of(new_kk)) from None

    def correct_identification(self, actor: Actor, household_id, *, expected_version=None, **command) -> dict:
        def run(household: Household) -> None:
            new_village = (command.get("address") or {}).get("village_code")
            if new_village:
                # Moving a household to another village needs the right to register there.
                self.regions.check_village(new_village)
                self.access.check_register(actor, new_village)
            household.correct_identification(regions=self.regions, actor=actor.username, **command)

        return self._change(actor, household_id, expected_version, run)

    def add_member(self, actor: Actor, household_id, *, expected_version=None, member: dict, joined_on=None, source_ref=None) -> dict:
        def run(household: Household) -> None:
            household.add_member(
                member=member, joined_on=joined_on, today=self.clock.today(), actor=actor.username, source_ref=source_ref
            )

        return self._change(actor, household_id, expected_version, run)

    def correct_member(self, actor: Actor, household_id, nik: str, *, expected_version=None, changes: dict, reason: str) -> dict:
        def run(household: Household) -> None:
            household.correct_member(nik=nik, changes=changes, reason=reason, today=self.clock.today(), actor=actor.username)

        return self._change(actor, household_id, expected_version, run)

    def record_member_left(self, actor: Actor, household_id, nik: str, *, expected_version=None, **command) -> dict:
        def run(household: Household) -> None:
            household.record_member_left(nik=nik, today=self.clock.today(), actor=actor.username, **command)

        return self._change(actor, household_id, expected_version, run)

    # -- categorisation ---------------------------------------------------------

    def categorise(self, actor: Actor, household_id, *, expected_version=None, **command) -> dict:
        def run(household: Household) -> None:
            household.categorise(today=self.clock.today(), actor=actor.username, **command)

        return self._change(actor, household_id, expected_version, run)

    # -- interventions ----------------------------------------------------------

    def plan_intervention(
        self,
        actor: Actor,
        household_id,
        *,
        expected_version=None,
        programme: str,
        agency: str,
        strategy: str | None = None,
        planned_on: date,
        value_idr: int | None = None,
        notes: str = "",
        delivered_on: date | None = None,
        intervention_id: str | None = None,
        source_ref: str | None = None,
    ) -> dict:
        """Plans an intervention; with ``delivered_on`` it is recorded as delivered too."""
        intervention_id = intervention_id or uuid4().hex
        if strategy is None and programme in self.programmes.programmes:
            strategy = self.programmes.programmes[programme].strategy

        def run(household: Household) -> None:
            self.access.check_intervention(actor, household.address["village_code"], agency)
            household.plan_intervention(
                intervention_id=intervention_id,
                programme=programme,
                agency=agency,
                strategy=strategy or "",
                planned_on=planned_on,
                value_idr=value_idr,
                notes=notes,
                programmes=self.programmes,
                actor=actor.username,
                source_ref=source_ref,
            )
            if delivered_on is not None:
                household.deliver_intervention(
                    intervention_id=intervention_id,
                    delivered_on=delivered_on,
                    value_idr=None,
                    notes="",
                    today=self.clock.today(),
                    actor=actor.username,
                    source_ref=source_ref,
                )

        result = self._update(actor, household_id, expected_version, run)
        result["intervention_id"] = intervention_id
        return result

    def deliver_intervention(self, actor: Actor, household_id, intervention_id: str, *, expected_version=None, delivered_on: date, value_idr=None, notes: str = "") -> dict:
        def run(household: Household) -> None:
            item = household.check_intervention(intervention_id)
            self.access.check_intervention(actor, household.address["village_code"], item["agency"])
            household.deliver_intervention(
                intervention_id=intervention_id,
                delivered_on=delivered_on,
                value_idr=value_idr,
                notes=notes,
                today=self.clock.today(),
                actor=actor.username,
            )

        return self._update(actor, household_id, expected_version, run)

    def cancel_intervention(self, actor: Actor, household_id, intervention_id: str, *, expected_version=None, reason: str) -> dict:
        def run(household: Household) -> None:
            item = household.check_intervention(intervention_id)
            self.access.check_intervention(actor, household.address["village_code"], item["agency"])
            household.cancel_intervention(intervention_id=intervention_id, reason=reason, actor=actor.username)

        return self._update(actor, household_id, expected_version, run)

    # -- follow-ups -------------------------------------------------------------

    def _check_assignee(self, username: str | None) -> None:
        """Asked after the scope check, so a reader who may not write hears 403, not who exists."""
        if username and not self.user_exists(username):
            raise InvalidValue("assigned_to", f"no user {username}")

    def schedule_follow_up(self, actor: Actor, household_id, *, expected_version=None, due_on: date, assigned_to: str, purpose: str, follow_up_id: str | None = None) -> dict:
        follow_up_id = follow_up_id or uuid4().hex

        def run(household: Household) -> None:
            self._check_assignee(assigned_to)
            household.schedule_follow_up(
                follow_up_id=follow_up_id,
                due_on=due_on,
                assigned_to=assigned_to,
                purpose=purpose,
                today=self.clock.today(),
                actor=actor.username,
            )

        result = self._change(actor, household_id, expected_version, run)
        result["follow_up_id"] = follow_up_id
        return result

    def reschedule_follow_up(self, actor: Actor, household_id, follow_up_id: str, *, expected_version=None, due_on: date, reason: str, assigned_to: str | None = None) -> dict:
        def run(household: Household) -> None:
            self._check_assignee(assigned_to)
            household.reschedule_follow_up(
                follow_up_id=follow_up_id,
                due_on=due_on,
                assigned_to=assigned_to,
                reason=reason,
                today=self.clock.today(),
                actor=actor.username,
            )

        return self._change(actor, household_id, expected_version, run)

    def complete_follow_up(self, actor: Actor, household_id, follow_up_id: str, *, expected_version=None, completed_on: date, outcome: str) -> dict:
        def run(household: Household) -> None:
            household.complete_follow_up(
                follow_up_id=follow_up_id,
                completed_on=completed_on,
                outcome=outcome,
                today=self.clock.today(),
                actor=actor.username,
            )

        return self._change(actor, household_id, expected_version, run)

    def cancel_follow_up(self, actor: Actor, household_id, follow_up_id: str, *, expected_version=None, reason: str) -> dict:
        def run(household: Household) -> None:
            household.cancel_follow_up(follow_up_id=follow_up_id, reason=reason, actor=actor.username)

        return self._change(actor, household_id, expected_version, run)

    # -- reminders --------------------------------------------------------------

    def record_reminder(
        self,
        household_id,
        *,
        kind: str,
        follow_up_id: str,
        due_on: date,
        recipients: list[str],
        channels: list[str],
        actor: Actor = SYSTEM_ACTOR,
    ) -> dict:
        """The scheduler's record of a reminder or escalation, once per (kind, follow-up, due date).

        A retry of a reminder already in the history answers ``recorded: False`` (the
        scheduler crashed after recording); one that no longer applies (follow-up done,
        rescheduled, household closed) is refused, so a stale read model never sends it.
        """
        if actor.role != SYSTEM:
            raise Forbidden(f"{actor.username} may not record reminders; the scheduler does")
        already: list[bool] = []

        def run(household: Household) -> None:
            already.clear()
            if household.has_reminder(kind, follow_up_id, due_on):
                already.append(True)
                return
            household.record_reminder(
                kind=kind,
                follow_up_id=follow_up_id,
                due_on=due_on,
                recipients=recipients,
                channels=channels,
                actor=actor.username,
            )

        result = self._update(actor, household_id, None, run)
        result["recorded"] = not already
        return result

    def record_reminders(self, reminders: list[dict], *, actor: Actor = SYSTEM_ACTOR) -> list[dict]:
        """Many reminders (keyword arguments of ``record_reminder`` plus ``household_id``)
        in one transaction, each still checked by its household: a pass records
        thousands, and one commit per reminder would be most of its time.

        Answers, in order, ``{"household_id", "outcome", "reason"}`` with outcome
        ``recorded``, ``already_recorded``, ``refused`` (the reason says why) or
        ``conflict``. A concurrent write to any of the households makes the whole
        transaction fail; then each reminder is recorded on its own, with retries.
        """
        if actor.role != SYSTEM:
            raise Forbidden(f"{actor.username} may not record reminders; the scheduler does")
        loaded: dict[str, Household] = {}
        outcomes: list[dict] = []
        for item in reminders:
            household_id = str(item["household_id"])
            outcome = {"household_id": household_id, "outcome": "recorded", "reason": None}
            try:
                household = loaded.get(household_id) or self._load(household_id)
                loaded[household_id] = household
                if household.has_reminder(item["kind"], item["follow_up_id"], item["due_on"]):
                    outcome["outcome"] = "already_recorded"
                else:
                    household.record_reminder(actor=actor.username, **{k: v for k, v in item.items() if k != "household_id"})
            except DomainError as refusal:
                outcome.update(outcome="refused", reason=refusal.message)
            outcomes.append(outcome)
        try:
            self.save(*(h for h in loaded.values() if h.pending_events))
        except IntegrityError:
            return [self._record_reminder_alone(item, actor) for item in reminders]
        return outcomes

    def _record_reminder_alone(self, item: dict, actor: Actor) -> dict:
        outcome = {"household_id": str(item["household_id"]), "outcome": "recorded", "reason": None}
        try:
            if not self.record_reminder(actor=actor, **item)["recorded"]:
                outcome["outcome"] = "already_recorded"
        except VersionConflict as conflict:
            outcome.update(outcome="conflict", reason=conflict.message)
        except DomainError as refusal:
            outcome.update(outcome="refused", reason=refusal.message)
        return outcome

    # -- lifecycle --------------------------------------------------------------

    def graduate(self, actor: Actor, household_id, *, expected_version=None, effective_on: date, reason: str) -> dict:
        def run(household: Household) -> None:
            household.graduate(effective_on=effective_on, reason=reason, today=self.clock.today(), actor=actor.username)

        return self._change(actor, household_id, expected_version, run)

    def close_household(self, actor: Actor, household_id, *, expected_version=None, reason: str, effective_on: date, duplicate_of: str | None = None, note: str = "") -> dict:
        def run(household: Household) -> None:
            household.close(
                reason=reason,
                duplicate_of=duplicate_of,
                effective_on=effective_on,
                note=note,
                today=self.clock.today(),
                actor=actor.username,
            )

        return self._change(actor, household_id, expected_version, run)

    def reopen_household(self, actor: Actor, household_id, *, expected_version=None, reason: str) -> dict:
        def run(household: Household) -> None:
            household.reopen(reason=reason, actor=actor.username)

        return self._change(actor, household_id, expected_version, run)

    # -- plumbing ---------------------------------------------------------------

    def _load(self, household_id, *, version: int | None = None, private: bool = True) -> Household:
        """The household, as a copy of its own (``private``) that a command may change,
        or, for readers holding its lock, the cached instance itself."""
        try:
            uuid = household_id if isinstance(household_id, UUID) else UUID(str(household_id))
        except ValueError:
            raise HouseholdNotFound(household_id) from None
        try:
            # The lock: the cache fast-forwards a household in place, which must not
            # overlap a copy or a read of it in another thread.
            with self._household_lock(uuid):
                household = self.repository.get(uuid, version=version, deepcopy_from_cache=private)
        except AggregateNotFoundError:
            raise HouseholdNotFound(household_id) from None
        if not isinstance(household, Household):
            raise HouseholdNotFound(household_id)
        return household

    def _load_readable(
        self, actor: Actor, household_id, *, version: int | None = None, private: bool = True
    ) -> Household:
        household = self._load(household_id, version=version, private=private)
        # Scope follows where the household is now, even when reading an old version.
        current = household if version is None else self._load(household_id, private=False)
        if not self.access.can_read(actor, current.address["village_code"]):
            raise HouseholdNotFound(household_id)
        return household

    def _change(self, actor: Actor, household_id, expected_version: int | None, command: Callable[[Household], Any]) -> dict:
        """``_update`` for a command on a household the actor may change (its village in their scope)."""

        def checked(household: Household) -> Any:
            self.access.check_change(actor, household.address["village_code"])
            return command(household)

        return self._update(actor, household_id, expected_version, checked)

    def _update(self, actor: Actor, household_id, expected_version: int | None, command: Callable[[Household], Any]) -> dict:
        """Load, command, save; refuse or retry on a concurrent write, never merge."""
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                ceiling = min(RETRY_BACKOFF_CAP_SECONDS, RETRY_BACKOFF_SECONDS * 2**attempt)
                time.sleep(random.uniform(0, ceiling))
            with self._household_lock(household_id):
                # The cached household itself, not a copy: the lock keeps everyone else
                # off it, and a command that fails at any point has it forgotten, so the
                # cache only ever holds what the store holds.
                household = self._load_readable(actor, household_id, private=False)
                if expected_version is not None and household.version != expected_version:
                    raise VersionConflict(household.id, expected_version, household.version)
                try:
                    others = command(household) or []
                    # A command that found nothing to do (a reminder already recorded)
                    # writes nothing: no empty transaction on the event store.
                    recordings = self.save(household, *others) if household.pending_events or others else []
                except IntegrityError:
                    self._forget(household.id)
                    if others and self._others_exist(others):
                        raise
                    if expected_version is not None:
                        raise VersionConflict(household.id, expected_version, self._load(household.id).version) from None
                    continue
                except BaseException:
                    self._forget(household.id)
                    raise
            return {"id": str(household.id), "version": household.version, "position": _position(recordings)}
        raise VersionConflict(household_id, None, self._load(household_id).version)

    def _forget(self, household_id: UUID) -> None:
        """Drops a cached household a failed command may have changed; the next load rebuilds it."""
        if self.repository.cache is not None:
            with suppress(KeyError):
                self.repository.cache.get(household_id, evict=True)

    def _household_lock(self, household_id) -> threading.RLock:
        """The lock that serialises this process's commands on one household."""
        try:
            stripe = UUID(str(household_id)).int % HOUSEHOLD_LOCK_STRIPES
        except ValueError:
            stripe = 0  # not an id at all: the load inside will say not found
        return self._household_locks[stripe]

    def _others_exist(self, aggregates: list) -> bool:
        """True when a side aggregate (a KK index) already exists: a real duplicate."""
        return any(a.id in self.repository for a in aggregates)


def _position(recordings) -> int | None:
    """The notification id of the last event written: projections wait for it."""
    positions = [r.notification.id for r in recordings if getattr(r.notification, "id", None)]
    return max(positions) if positions else None


def _copy_of(record: dict | None) -> dict | None:
    return dict(record) if record is not None else None


def household_dict(household: Household, regions: RegionCatalogue) -> dict:
    """The household as plain data: what the API and templates see, never the aggregate.

    Every dict and list is a new one, so a caller changing the answer cannot change the
    cached household it was read from.
    """
    village = regions.get(household.address["village_code"])
    kecamatan = regions.get(village.parent_code) if village and village.parent_code else None
    members = [dict(m) for m in household.members.values()]
    members.sort(key=lambda m: (m["nik"] != household.head_nik, m["birth_date"]))
    head = dict(household.members[household.head_nik])
    return {
        "id": str(household.id),
        "version": household.version,
        "kk_number": household.kk_number,
        "previous_kk_numbers": list(household.previous_kk_numbers),
        "status": household.status,
        "head": {k: head[k] for k in ("nik", "name", "sex", "birth_date")},
        "members": members,
        "address": dict(
            household.address,
            village_name=village.name if village else None,
            kecamatan_code=kecamatan.code if kecamatan else None,
            kecamatan_name=kecamatan.name if kecamatan else None,
        ),
        "location": _copy_of(household.location),
        "category": _copy_of(household.current_categorisation),
        "categorisations": [dict(c) for c in household.categorisations],
        "interventions": [dict(i) for i in household.interventions.values()],
        "follow_ups": [dict(f) for f in household.follow_ups.values()],
        "graduation": _copy_of(household.graduation),
        "closure": _copy_of(household.closure),
        "registered_by": household.registered_by,
        "created_on": household.created_on,
        "modified_on": household.modified_on,
    }


def event_type(event) -> str:
    return type(event).__name__


def event_data(event) -> dict:
    """The business content of an event, without the envelope."""
    fields = dataclasses.fields(event) if dataclasses.is_dataclass(event) else ()
    data = {f.name: getattr(event, f.name) for f in fields if f.name not in EVENT_METADATA}
    if not data:
        data = {k: v for k, v in vars(event).items() if k not in EVENT_METADATA}
    return data


def event_dict(event) -> dict:
    return {
        "version": event.originator_version,
        "type": event_type(event),
        "recorded_at": event.timestamp,
        "actor": getattr(event, "actor", None),
        "source_ref": getattr(event, "source_ref", None),
        "data": event_data(event),
    }
