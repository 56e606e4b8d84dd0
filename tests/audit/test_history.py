"""Histories with field-level changes, the state as of any instant, and diffs between two."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit_helpers import (
    ADMIN, AUDITOR, CASE_WORKER, CILEUNYI_KULON, CILEUNYI_WETAN, DINSOS, PADASUKA,
    SUPERVISOR, categorise, days_later, plan, register, wib,
)
from domain.errors import DomainError, InvalidValue
from service.audit import audit_for
from service.audit.history import NotYetRecorded, parse_instant
from service.errors import HouseholdNotFound

PASSWORD = "correct horse battery"


@pytest.fixture
def audit(sqlite_store):
    return audit_for(sqlite_store)


@pytest.fixture
def people(sqlite_store):
    users = sqlite_store.users
    users.create_user(username="asep", password=PASSWORD, role="case_worker", villages=[CILEUNYI_KULON], display_name="Asep Pendamping")
    users.create_user(username="admin", password=PASSWORD, role="admin", display_name="Ibu Data")


@pytest.fixture
def household(sqlite_store, clock, people):
    """Registered on 28 Nov by the administrator, re-categorised by Asep on the 29th and 30th."""
    households = sqlite_store.households
    household_id = register(households, 1)
    categorise(households, household_id, desil=3, effective_on=date(2026, 11, 1))
    days_later(clock, 1)
    categorise(households, household_id, desil=1, actor=CASE_WORKER)
    days_later(clock, 1)
    plan(households, household_id, delivered_on=clock.today(), actor=CASE_WORKER)
    return household_id


def test_a_history_lists_every_event_with_its_version_type_actor_and_a_sentence(audit, household):
    history = audit.histories.history(ADMIN, household)
    events = history["events"]
    assert [(e["version"], e["type"]) for e in events] == [
        (1, "Registered"), (2, "Categorised"), (3, "Categorised"),
        (4, "InterventionPlanned"), (5, "InterventionDelivered"),
    ]
    assert (events[0]["actor"], events[0]["actor_name"], events[0]["actor_role"]) == ("admin", "Ibu Data", "admin")
    assert (events[2]["actor"], events[2]["actor_name"], events[2]["actor_role"]) == ("asep", "Asep Pendamping", "case_worker")
    assert events[1]["summary"] == (
        "Categorised miskin_ekstrem, desil 3 by field_verification, effective 2026-11-01: verifikasi lapangan"
    )
    assert events[3]["summary"] == "pkh by dinsos planned for 2026-11-30, Rp 600.000"
    assert events[4]["summary"] == "pkh by dinsos delivered on 2026-11-30"
    assert history["version"] == 5


def test_each_event_shows_the_field_level_change_it_made(audit, household):
    events = audit.histories.history(ADMIN, household)["events"]
    assert [c["text"] for c in events[2]["changes"]] == [
        "desil 3 -> 1", "category effective 2026-11-01 -> 2026-11-29",
    ]
    assert events[2]["changes"][0] == {
        "field": "desil", "label": "desil", "before": 3, "after": 1, "text": "desil 3 -> 1",
    }
    delivered = [c["text"] for c in events[4]["changes"]]
    assert any(t.endswith("status planned -> delivered") for t in delivered)
    assert any(t.endswith("delivered on (none) -> 2026-11-30") for t in delivered)
    registered = {c["field"]: c["after"] for c in events[0]["changes"]}
    assert registered["kk_number"] == "3204050101200001" and registered["address.village_code"] == CILEUNYI_KULON


def test_times_are_stored_in_utc_shown_in_wib_with_the_business_date_beside_them(audit, household):
    event = audit.histories.history(ADMIN, household)["events"][1]
    assert event["recorded_at"].utcoffset() == timedelta(0)
    assert event["recorded_at"].isoformat() == "2026-11-28T03:00:00+00:00"
    assert event["recorded_at_wib"] == "2026-11-28 10:00:00 WIB"
    assert event["effective_on"] == date(2026, 11, 1)


def test_a_household_outside_the_readers_scope_has_no_history_for_them(audit, sqlite_store, people):
    far = register(sqlite_store.households, 2, village=PADASUKA)
    with pytest.raises(HouseholdNotFound):
        audit.histories.history(CASE_WORKER, far)
    with pytest.raises(HouseholdNotFound):
        audit.histories.state_as_of(SUPERVISOR, far, "2026-11-28")
    assert audit.histories.history(DINSOS, far)["version"] == 1


def test_auditors_and_supervisors_reading_a_history_are_logged_and_others_are_not(audit, household):
    audit.histories.history(AUDITOR, household)
    audit.histories.state_as_of(SUPERVISOR, household, "2026-11-29")
    audit.histories.history(CASE_WORKER, household)
    audit.histories.history(ADMIN, household)
    entries = audit.access_log.browse(AUDITOR)["entries"]
    assert [(e["username"], e["action"], e["household_id"]) for e in entries] == [
        ("kasi.cileunyi", "state_as_of", household), ("inspektorat", "history", household),
    ]
    assert entries[0]["detail"] == {"as_of": "2026-11-29T23:59:59.999999+07:00"}


def test_the_state_as_of_an_instant_is_the_household_as_recorded_then(audit, household):
    state = audit.histories.state_as_of(AUDITOR, household, "2026-11-29T10:00:00+07:00")
    assert (state["as_of_version"], state["current_version"]) == (3, 5)
    assert state["category"]["desil"] == 1 and state["interventions"] == []
    earlier = audit.histories.state_as_of(AUDITOR, household, "2026-11-29T09:59:59+07:00")
    assert earlier["as_of_version"] == 2 and earlier["category"]["desil"] == 3


def test_an_instant_without_an_offset_is_read_in_wib_and_a_bare_date_means_its_end(audit, household):
    assert audit.histories.state_as_of(ADMIN, household, "2026-11-29T10:00:00")["as_of_version"] == 3
    assert audit.histories.state_as_of(ADMIN, household, "2026-11-29T09:00:00")["as_of_version"] == 2
    assert audit.histories.state_as_of(ADMIN, household, "2026-11-28")["as_of_version"] == 2
    assert parse_instant("2026-11-28") == wib(2026, 11, 28, 23, 59, 59) + timedelta(microseconds=999_999)


def test_an_instant_before_the_household_was_recorded_is_not_found(audit, household):
    with pytest.raises(NotYetRecorded, match="not yet recorded at 2026-11-27 23:59:59 WIB"):
        audit.histories.state_as_of(ADMIN, household, "2026-11-27")


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "", None, "30/06/2025"])
def test_an_unreadable_instant_is_refused_naming_the_field(value):
    with pytest.raises(InvalidValue) as refused:
        parse_instant(value)
    assert refused.value.field == "as_of" and "ISO 8601" in refused.value.reason


def test_a_state_as_of_an_unreadable_instant_is_refused_before_anything_is_read_or_logged(audit, household):
    with pytest.raises(InvalidValue):
        audit.histories.state_as_of(AUDITOR, household, "kemarin")
    assert audit.access_log.browse(ADMIN)["entries"] == []


def test_a_diff_between_two_instants_lists_the_changes_and_the_events_between(audit, household):
    diff = audit.histories.diff(AUDITOR, household, "2026-11-28", "2026-11-30T23:00:00+07:00")
    assert (diff["from_version"], diff["to_version"]) == (2, 5)
    assert [e["version"] for e in diff["events"]] == [3, 4, 5]
    texts = [c["text"] for c in diff["changes"]]
    assert "desil 3 -> 1" in texts
    assert any(t.endswith("status (none) -> delivered") for t in texts)


def test_a_diff_from_before_registration_shows_everything_as_new(audit, household):
    diff = audit.histories.diff(ADMIN, household, "2026-01-01", "2026-11-28")
    assert diff["from_version"] is None and diff["to_version"] == 2
    assert {"field": "desil", "label": "desil", "before": None, "after": 3, "text": "desil (none) -> 3"} in diff["changes"]


def test_a_diff_whose_start_is_after_its_end_is_refused(audit, household):
    with pytest.raises(InvalidValue, match="later than to"):
        audit.histories.diff(ADMIN, household, "2026-11-30", "2026-11-28")


# -- property: the state as of version N's time is version N ---------------------------

COMMANDS = st.lists(
    st.tuples(
        st.sampled_from(["categorise", "plan", "deliver", "correct", "member"]),
        st.integers(min_value=1, max_value=10),
        st.integers(min_value=1, max_value=3 * 24 * 3600),  # seconds until the next command
    ),
    min_size=1,
    max_size=12,
)
_counter = iter(range(10, 10_000))


def _run(households, household_id, command: str, n: int) -> None:
    today = households.clock.today()
    if command == "categorise":
        categorise(households, household_id, category=["miskin_ekstrem", "miskin", "rentan"][n % 3], desil=n)
    elif command == "plan":
        plan(households, household_id, programme="pkh" if n % 2 else "rtlh", agency="dinsos" if n % 2 else "disperkim")
    elif command == "deliver":
        state = households.get_household(ADMIN, household_id)
        planned = [i["id"] for i in state["interventions"] if i["status"] == "planned"]
        if planned:
            households.deliver_intervention(ADMIN, household_id, planned[n % len(planned)], delivered_on=today)
    elif command == "correct":
        households.correct_identification(ADMIN, household_id, address={"street": f"Gang {n}"}, reason="salah ketik")
    else:
        households.add_member(ADMIN, household_id, member={
            "nik": f"3204055506{n:02d}{next(_counter):04d}", "name": f"Anak {n}", "sex": "P",
            "birth_date": date(2000 + n, 6, 15), "relationship": "anak",
        })


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(commands=COMMANDS)
def test_the_state_as_of_the_time_of_version_n_is_the_state_loaded_at_version_n(store, clock, commands):
    households, histories = store.households, audit_for(store).histories
    household_id = register(households, next(_counter), village=CILEUNYI_WETAN)
    for command, n, pause in commands:
        clock.move_to(clock.now() + timedelta(seconds=pause))
        try:
            _run(households, household_id, command, n)
        except DomainError:
            pass  # a refused command records nothing; the property is about what was recorded
    times = {e["version"]: e["recorded_at"] for e in histories.history(ADMIN, household_id)["events"]}
    for version, recorded_at in times.items():
        as_of = histories.state_as_of(ADMIN, household_id, recorded_at)
        loaded = households.get_household(ADMIN, household_id, version=version)
        assert {k: v for k, v in as_of.items() if not k.startswith(("as_of", "current_"))} == loaded
        if version > 1:
            just_before = histories.state_as_of(ADMIN, household_id, recorded_at - timedelta(microseconds=1))
            assert just_before["as_of_version"] == version - 1
