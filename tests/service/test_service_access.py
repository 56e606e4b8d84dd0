"""Scope, decided in one place: out of scope reads as not found, visible but forbidden writes say no."""

from __future__ import annotations

from datetime import date

import pytest

from service.errors import Forbidden, HouseholdNotFound

from service_helpers import (
    ADMIN,
    AUDITOR,
    CASE_WORKER,
    DINSOS,
    DISPERKIM,
    FAR_VILLAGE,
    KK,
    NEIGHBOUR_VILLAGE,
    SUPERVISOR,
    VILLAGE,
    plan,
    register,
)

READERS = {"case_worker": CASE_WORKER, "supervisor": SUPERVISOR, "agency_officer": DINSOS, "auditor": AUDITOR, "admin": ADMIN}


def reads(households, actor, household_id):
    """Every read use case; raises what the first refusal raises."""
    household = households.get_household(actor, household_id)
    households.history(actor, household_id)
    households.current_version(actor, household_id)
    households.find_by_kk(actor, household["kk_number"])
    return household


def household_changes(households, household_id):
    """Every write that is not an agency's intervention, as name -> callable(actor)."""
    return {
        "categorise": lambda a: households.categorise(a, household_id, category="miskin", desil=2, source="field_verification", effective_on=date(2026, 3, 1), reason="visit"),
        "add_member": lambda a: households.add_member(a, household_id, member={"nik": "3204055506850002", "name": "Euis", "sex": "P", "birth_date": date(1985, 6, 15), "relationship": "istri"}),
        "correct_member": lambda a: households.correct_member(a, household_id, "3204051203800001", changes={"name": "Asep S"}, reason="typo"),
        "correct_identification": lambda a: households.correct_identification(a, household_id, head_name="Asep Sunandar S", reason="typo"),
        "change_kk": lambda a: households.change_kk(a, household_id, new_kk_number="3204050909090009", reason="reissue", effective_on=None),
        "schedule_follow_up": lambda a: households.schedule_follow_up(a, household_id, due_on=date(2026, 12, 5), assigned_to="asep", purpose="visit"),  # asep: see pendamping
        "graduate": lambda a: households.graduate(a, household_id, effective_on=date(2026, 11, 1), reason="x"),
        "close_household": lambda a: households.close_household(a, household_id, reason="moved_away", effective_on=date(2026, 11, 1)),
        "reopen_household": lambda a: households.reopen_household(a, household_id, reason="x"),
    }


# -- reads ---------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(READERS))
def test_everyone_reads_a_household_in_their_scope(households, household_id, role):
    assert reads(households, READERS[role], household_id)["id"] == household_id


@pytest.mark.parametrize("role", ["agency_officer", "auditor", "admin"])
def test_agency_officers_auditors_and_admins_read_households_everywhere(households, far_household_id, role):
    assert reads(households, READERS[role], far_household_id)["id"] == far_household_id


@pytest.mark.parametrize("role", ["case_worker", "supervisor"])
def test_a_household_outside_a_case_worker_s_or_supervisor_s_area_is_not_found(households, far_household_id, role):
    actor = READERS[role]
    with pytest.raises(HouseholdNotFound):
        households.get_household(actor, far_household_id)
    with pytest.raises(HouseholdNotFound):
        households.history(actor, far_household_id)
    with pytest.raises(HouseholdNotFound):
        households.find_by_kk(actor, "3204060101200002")


def test_a_case_worker_does_not_see_a_neighbouring_village_but_the_supervisor_does(households):
    hid = register(households, village=NEIGHBOUR_VILLAGE)["id"]
    with pytest.raises(HouseholdNotFound):
        households.get_household(CASE_WORKER, hid)
    assert households.get_household(SUPERVISOR, hid)["id"] == hid


def test_an_out_of_scope_household_is_not_found_for_writes_either_and_nothing_is_recorded(households, far_household_id):
    for name, change in household_changes(households, far_household_id).items():
        with pytest.raises(HouseholdNotFound):
            change(CASE_WORKER)
        with pytest.raises(HouseholdNotFound):
            change(SUPERVISOR)
    with pytest.raises(HouseholdNotFound):
        plan(households, CASE_WORKER, far_household_id)
    assert households.current_version(ADMIN, far_household_id) == 1


# -- registration --------------------------------------------------------------


@pytest.mark.parametrize(("role", "village"), [("case_worker", VILLAGE), ("supervisor", NEIGHBOUR_VILLAGE), ("admin", FAR_VILLAGE)])
def test_case_workers_supervisors_and_admins_register_households_in_their_area(households, role, village):
    assert register(households, READERS[role], village=village)["version"] == 1


@pytest.mark.parametrize(
    ("role", "village"),
    [("case_worker", NEIGHBOUR_VILLAGE), ("supervisor", FAR_VILLAGE), ("agency_officer", VILLAGE), ("auditor", VILLAGE)],
)
def test_registering_outside_one_s_area_or_role_is_forbidden_and_records_nothing(households, role, village):
    with pytest.raises(Forbidden):
        register(households, READERS[role], village=village)
    assert households.recorder.max_notification_id() in (None, 0)


# -- changes -------------------------------------------------------------------


@pytest.mark.parametrize("role", ["case_worker", "supervisor", "admin"])
def test_case_workers_supervisors_and_admins_change_households_in_their_area(households, household_id, role, pendamping):
    actor = READERS[role]
    changes = household_changes(households, household_id)
    for name in ("categorise", "add_member", "correct_member", "correct_identification", "change_kk",
                 "schedule_follow_up", "close_household", "reopen_household"):
        changes[name](actor)
    iid = plan(households, actor, household_id)["intervention_id"]
    households.deliver_intervention(actor, household_id, iid, delivered_on=date(2026, 11, 20))
    assert households.current_version(actor, household_id) == 11


@pytest.mark.parametrize("change", sorted(household_changes(None, None)))
@pytest.mark.parametrize("role", ["agency_officer", "auditor"])
def test_agency_officers_and_auditors_may_see_but_not_change_the_household(households, household_id, role, change):
    with pytest.raises(Forbidden):
        household_changes(households, household_id)[change](READERS[role])
    assert households.current_version(ADMIN, household_id) == 1


def test_an_agency_officer_plans_delivers_and_cancels_their_own_agency_s_interventions_anywhere(households, far_household_id):
    first = plan(households, DINSOS, far_household_id)["intervention_id"]
    second = plan(households, DINSOS, far_household_id, programme="bpnt")["intervention_id"]
    households.deliver_intervention(DINSOS, far_household_id, first, delivered_on=date(2026, 11, 20))
    households.cancel_intervention(DINSOS, far_household_id, second, reason="double")

    statuses = {i["id"]: (i["status"], i["recorded_by"]) for i in households.get_household(ADMIN, far_household_id)["interventions"]}
    assert statuses == {first: ("delivered", "officer.dinsos"), second: ("cancelled", "officer.dinsos")}


def test_an_agency_officer_may_not_plan_for_another_agency(households, household_id):
    with pytest.raises(Forbidden, match="not disperkim"):
        plan(households, DINSOS, household_id, programme="rtlh", agency="disperkim")
    assert households.current_version(ADMIN, household_id) == 1


def test_an_agency_officer_may_not_deliver_or_cancel_another_agency_s_intervention(households, household_id):
    iid = plan(households, DISPERKIM, household_id, programme="rtlh", agency="disperkim")["intervention_id"]
    with pytest.raises(Forbidden):
        households.deliver_intervention(DINSOS, household_id, iid, delivered_on=date(2026, 11, 20))
    with pytest.raises(Forbidden):
        households.cancel_intervention(DINSOS, household_id, iid, reason="x")
    assert households.current_version(ADMIN, household_id) == 2


def test_an_auditor_may_not_record_interventions(households, household_id):
    with pytest.raises(Forbidden):
        plan(households, AUDITOR, household_id)
    iid = plan(households, ADMIN, household_id)["intervention_id"]
    with pytest.raises(Forbidden):
        households.deliver_intervention(AUDITOR, household_id, iid, delivered_on=date(2026, 11, 20))
    with pytest.raises(Forbidden):
        households.cancel_intervention(AUDITOR, household_id, iid, reason="x")


def test_moving_a_household_to_a_village_outside_one_s_area_is_forbidden(households, household_id):
    with pytest.raises(Forbidden):
        households.correct_identification(CASE_WORKER, household_id, address={"village_code": NEIGHBOUR_VILLAGE}, reason="moved")
    households.correct_identification(SUPERVISOR, household_id, address={"village_code": NEIGHBOUR_VILLAGE}, reason="moved")
    # Now outside the case worker's village: not found any more.
    with pytest.raises(HouseholdNotFound):
        households.get_household(CASE_WORKER, household_id)


def test_an_unknown_assignee_is_not_revealed_to_someone_who_may_not_schedule(households, household_id, far_household_id):
    with pytest.raises(Forbidden):
        households.schedule_follow_up(AUDITOR, household_id, due_on=date(2026, 12, 5), assigned_to="nobody", purpose="x")
    with pytest.raises(HouseholdNotFound):
        households.schedule_follow_up(CASE_WORKER, far_household_id, due_on=date(2026, 12, 5), assigned_to="nobody", purpose="x")


def test_every_event_records_the_user_who_caused_it(households, household_id):
    plan(households, DINSOS, household_id)
    household_changes(households, household_id)["categorise"](CASE_WORKER)
    actors = [e["actor"] for e in households.history(ADMIN, household_id)]
    assert actors == ["admin", "officer.dinsos", "asep"]
    assert households.find_by_kk(ADMIN, KK)["registered_by"] == "admin"
