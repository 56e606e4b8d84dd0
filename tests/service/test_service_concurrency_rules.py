"""One household per family card, versions that refuse stale commands, retries that check again."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from domain.errors import DuplicateKK, InvalidState
from domain.household import Household
from service.errors import VersionConflict
from service.households import MAX_ATTEMPTS

from service_helpers import ADMIN, FAR_KK, FAR_VILLAGE, KK, plan, register

NEW_KK = "3204050202210002"


def event_count(households) -> int:
    return households.recorder.max_notification_id() or 0


# -- one household per KK ------------------------------------------------------


def test_a_second_registration_of_the_same_kk_is_refused_with_the_existing_id(households, household_id):
    before = event_count(households)
    with pytest.raises(DuplicateKK) as refusal:
        register(households, village=FAR_VILLAGE)
    assert refusal.value.existing_id == household_id
    assert refusal.value.kk_number == KK
    assert event_count(households) == before


def test_after_a_kk_change_neither_the_new_nor_the_old_number_can_be_registered_again(households, household_id):
    households.change_kk(ADMIN, household_id, new_kk_number=NEW_KK, reason="pecah_kk", effective_on=None)
    before = event_count(households)

    for kk in (NEW_KK, KK):
        with pytest.raises(DuplicateKK) as refusal:
            register(households, kk=kk)
        assert refusal.value.existing_id == household_id
    assert event_count(households) == before


def test_a_refused_kk_change_leaves_the_household_with_its_card(households, household_id, far_household_id):
    households.get_household(ADMIN, far_household_id)  # cached before the refused change
    with pytest.raises(DuplicateKK):
        households.change_kk(ADMIN, far_household_id, new_kk_number=KK, reason="reissue", effective_on=None)
    far = households.get_household(ADMIN, far_household_id)
    assert (far["version"], far["kk_number"], far["previous_kk_numbers"]) == (1, FAR_KK, [])
    assert households.change_kk(ADMIN, far_household_id, new_kk_number=NEW_KK, reason="reissue", effective_on=None)["version"] == 2


def test_another_household_cannot_change_to_a_number_that_is_held_or_was_held(households, household_id, far_household_id):
    households.change_kk(ADMIN, household_id, new_kk_number=NEW_KK, reason="pecah_kk", effective_on=None)

    for kk in (NEW_KK, KK):
        with pytest.raises(DuplicateKK) as refusal:
            households.change_kk(ADMIN, far_household_id, new_kk_number=kk, reason="reissue", effective_on=None)
        assert refusal.value.existing_id == household_id
    far = households.get_household(ADMIN, far_household_id)
    assert (far["version"], far["kk_number"]) == (1, FAR_KK)


def test_a_household_found_by_its_old_kk_is_the_one_that_holds_it_now(households, household_id):
    households.change_kk(ADMIN, household_id, new_kk_number=NEW_KK, reason="reissue", effective_on=None)
    assert households.find_by_kk(ADMIN, KK)["kk_number"] == NEW_KK
    assert households.find_by_kk(ADMIN, NEW_KK)["id"] == household_id


# -- expected versions ---------------------------------------------------------


def test_a_command_based_on_an_old_version_is_refused_naming_the_current_version_and_records_nothing(households, household_id):
    plan(households, ADMIN, household_id)
    before = event_count(households)

    with pytest.raises(VersionConflict, match="is at version 2, not 1") as refusal:
        plan(households, ADMIN, household_id, expected_version=1)

    assert (refusal.value.expected, refusal.value.current) == (1, 2)
    assert event_count(households) == before
    assert households.current_version(ADMIN, household_id) == 2


def test_a_command_based_on_the_current_version_succeeds(households, household_id):
    assert plan(households, ADMIN, household_id, expected_version=1)["version"] == 2


# -- a concurrent write between load and save ------------------------------------


@pytest.fixture
def someone_else_writes_first(households, monkeypatch):
    """After the service loads a household, another writer saves a command of its own.

    ``write`` is the other writer's command; ``times`` how many loads it races (the
    default, once, is an ordinary collision; more starves the retry loop).
    """

    class Interference:
        write = None
        times = 1
        done = 0

    original_get = households.repository.get

    def get_then_interfere(aggregate_id, **kwargs):
        aggregate = original_get(aggregate_id, **kwargs)
        if isinstance(aggregate, Household) and Interference.done < Interference.times and Interference.write:
            Interference.done += 1
            theirs = original_get(aggregate_id)
            Interference.write(theirs)
            households.save(theirs)
        return aggregate

    monkeypatch.setattr(households.repository, "get", get_then_interfere)
    return Interference


def test_a_command_without_a_version_is_retried_on_the_fresh_household_and_both_writes_survive(
    households, household_id, someone_else_writes_first
):
    someone_else_writes_first.write = lambda h: h.categorise(
        category="miskin", desil=2, source="field_verification", effective_on=date(2026, 3, 1),
        reason="theirs", today=date(2026, 11, 28), actor="other",
    )
    result = plan(households, ADMIN, household_id)

    assert result["version"] == 3
    household = households.get_household(ADMIN, household_id)
    assert household["category"]["reason"] == "theirs"
    assert len(household["interventions"]) == 1


def test_a_command_with_a_version_loses_to_a_concurrent_write_with_a_conflict(households, household_id, someone_else_writes_first):
    someone_else_writes_first.write = lambda h: h.categorise(
        category="miskin", desil=2, source="field_verification", effective_on=date(2026, 3, 1),
        reason="theirs", today=date(2026, 11, 28), actor="other",
    )
    with pytest.raises(VersionConflict) as refusal:
        plan(households, ADMIN, household_id, expected_version=1)
    assert refusal.value.current == 2
    assert households.current_version(ADMIN, household_id) == 2


def test_a_retried_delivery_checks_again_and_is_refused_when_the_other_writer_delivered_it(
    households, household_id, someone_else_writes_first
):
    iid = plan(households, ADMIN, household_id)["intervention_id"]
    someone_else_writes_first.write = lambda h: h.deliver_intervention(
        intervention_id=iid, delivered_on=date(2026, 11, 20), value_idr=None, notes="", today=date(2026, 11, 28), actor="other",
    )
    with pytest.raises(InvalidState, match="already delivered"):
        households.deliver_intervention(ADMIN, household_id, iid, delivered_on=date(2026, 11, 21))

    history = households.history(ADMIN, household_id)
    assert [e["type"] for e in history].count("InterventionDelivered") == 1
    assert history[-1]["actor"] == "other"


def test_a_household_that_keeps_changing_ends_in_a_conflict_after_bounded_retries(
    households, household_id, someone_else_writes_first
):
    someone_else_writes_first.times = MAX_ATTEMPTS
    counter = iter(range(100))
    someone_else_writes_first.write = lambda h: h.plan_intervention(
        intervention_id=f"theirs-{next(counter)}", programme="pkh", agency="dinsos", strategy="pengurangan_beban",
        planned_on=date(2026, 11, 1), value_idr=None, notes="", programmes=households.programmes, actor="other",
    )
    with pytest.raises(VersionConflict, match="kept changing") as refusal:
        plan(households, ADMIN, household_id)
    assert refusal.value.current == 1 + MAX_ATTEMPTS
    assert {e["actor"] for e in households.history(ADMIN, household_id)[1:]} == {"other"}


# -- snapshots -------------------------------------------------------------------


def test_households_are_snapshotted_at_the_configured_interval(households, household_id):
    interval = households.snapshotting_intervals[Household]
    for n in range(2 * interval + 5):
        plan(households, ADMIN, household_id, intervention_id=f"i{n}")

    snapshots = [s.originator_version for s in households.snapshots.get(UUID(household_id))]
    assert snapshots == [interval, 2 * interval]


def test_a_household_loaded_from_its_latest_snapshot_equals_one_replayed_from_every_event(households, household_id, monkeypatch):
    from eventsourcing.application import project_aggregate

    from service.households import household_dict

    for n in range(130):
        if n % 3 == 0:
            households.categorise(ADMIN, household_id, category="miskin", desil=1 + n % 10, source="field_verification",
                                  effective_on=date(2026, 1, 1 + n % 28), reason=f"r{n}")
        else:
            plan(households, ADMIN, household_id, intervention_id=f"i{n}", delivered_on=date(2026, 11, 1) if n % 2 else None)

    asked_from = []
    original = households.repository.event_store.get

    def recording_get(originator_id, **kwargs):
        asked_from.append(kwargs.get("gt"))
        return original(originator_id, **kwargs)

    households.repository.cache.get(UUID(household_id), evict=True)  # as a fresh process would load it
    monkeypatch.setattr(households.repository.event_store, "get", recording_get)
    from_snapshot = households.repository.get(UUID(household_id))
    monkeypatch.undo()

    replayed = project_aggregate(None, households.events.get(UUID(household_id)))
    assert from_snapshot.version == replayed.version == 1 + 130 + 43  # registration, commands, deliveries
    assert asked_from == [150]  # only the events after the latest snapshot were read
    assert household_dict(from_snapshot, households.regions) == household_dict(replayed, households.regions)


# -- the aggregate cache -------------------------------------------------------------


def test_a_cached_household_catches_up_with_writes_it_did_not_make(households, household_id):
    assert households.get_household(ADMIN, household_id)["version"] == 1  # now cached
    theirs = households.repository.get(UUID(household_id))  # as another process would
    theirs.categorise(category="rentan", desil=5, source="village_deliberation", effective_on=date(2026, 3, 1),
                      reason="musdes", today=date(2026, 11, 28), actor="other")
    households.save(theirs)

    household = households.get_household(ADMIN, household_id)
    assert (household["version"], household["category"]["category"]) == (2, "rentan")


def test_a_refused_command_leaves_the_cached_household_as_it_was(households, household_id):
    from domain.errors import InvalidValue

    households.get_household(ADMIN, household_id)
    with pytest.raises(InvalidValue, match="in the future"):
        # planning succeeds on the command's copy, then the delivery date is refused
        plan(households, ADMIN, household_id, delivered_on=date(2026, 12, 1))

    household = households.get_household(ADMIN, household_id)
    assert (household["version"], household["interventions"]) == (1, [])


def test_changing_a_household_read_does_not_change_the_household(households, household_id):
    households.categorise(ADMIN, household_id, category="miskin", desil=2, source="field_verification",
                          effective_on=date(2026, 3, 1), reason="visit")
    first = households.get_household(ADMIN, household_id)
    first["category"]["category"] = "tidak_miskin"
    first["address"]["village_code"] = "elsewhere"
    first["members"][0]["name"] = "Someone Else"
    first["categorisations"].clear()

    again = households.get_household(ADMIN, household_id)
    assert again["category"]["category"] == "miskin"
    assert again["address"]["village_code"] == "32.04.05.2001"
    assert again["members"][0]["name"] == "Asep Sunandar"
    assert len(again["categorisations"]) == 1


def test_a_command_whose_snapshot_fails_is_still_recorded_once_and_snapshots_resume(households, household_id, monkeypatch, caplog):
    from eventsourcing.persistence import OperationalError

    def busy(*args, **kwargs):
        raise OperationalError("database is locked")

    with monkeypatch.context() as patched:
        patched.setattr(households.snapshots, "put", busy)
        for n in range(49):  # versions 2..50; version 50 would be snapshotted
            result = plan(households, ADMIN, household_id, intervention_id=f"i{n}")
    assert result["version"] == 50
    assert "snapshot not taken" in caplog.text
    assert list(households.snapshots.get(UUID(household_id))) == []
    assert len(households.history(ADMIN, household_id)) == 50

    for n in range(49, 99):
        plan(households, ADMIN, household_id, intervention_id=f"i{n}")
    assert [s.originator_version for s in households.snapshots.get(UUID(household_id))] == [100]
