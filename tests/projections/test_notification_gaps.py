"""Gaps in notification ids: never skip an event that may still commit, never stall forever."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from domain.errors import DuplicateKK
from projection_builders import ADMIN
from projections.log import NotificationLog, SingleWriterGaps

TOPIC = "domain.household:Household.Registered"


class FakeRecorder:
    def __init__(self, ids):
        self.ids = list(ids)

    def select_notifications(self, start, limit, stop=None, topics=(), *, inclusive_of_start=True):
        found = [i for i in sorted(self.ids) if i >= start and (stop is None or i <= stop)][:limit]
        return [SimpleNamespace(id=i, topic=TOPIC, originator_id=f"h{i}") for i in found]

    def max_notification_id(self):
        return max(self.ids, default=None)


class FakeMapper:
    def to_domain_event(self, notification):
        return SimpleNamespace(timestamp=None, id=notification.id)


class StillWriting:
    """A store where some transaction may still commit into any gap."""

    def __init__(self):
        self.asked = 0

    def settled(self, first, last):
        self.asked += 1
        return False


def log_over(ids, gaps, timeout=60.0):
    app = SimpleNamespace(recorder=FakeRecorder(ids), mapper=FakeMapper())
    return NotificationLog(app, gaps, gap_timeout=timeout)


def test_on_a_single_writer_store_a_gap_is_final_and_passed_at_once():
    batch = log_over([1, 2, 4, 5], SingleWriterGaps()).read(0, 10)

    assert [position for position, _, _ in batch.events] == [1, 2, 4, 5]
    assert (batch.last_position, batch.blocked) == (5, False)


def test_a_gap_that_may_still_fill_stops_the_batch_before_it():
    gaps = StillWriting()
    batch = log_over([1, 2, 4, 5], gaps).read(0, 10)

    assert [position for position, _, _ in batch.events] == [1, 2]
    assert (batch.last_position, batch.blocked) == (2, True)
    assert gaps.asked == 1


def test_the_late_event_is_applied_once_it_commits():
    log = log_over([1, 2, 4], StillWriting())
    assert log.read(0, 10).last_position == 2

    log.recorder.ids.append(3)  # the slow transaction commits

    assert [position for position, _, _ in log.read(2, 10).events] == [3, 4]


def test_a_gap_older_than_the_timeout_is_passed_so_the_views_do_not_stall(monkeypatch):
    now = {"t": 1000.0}
    monkeypatch.setattr("projections.log.time.monotonic", lambda: now["t"])
    log = log_over([1, 3], StillWriting(), timeout=5.0)
    assert log.read(1, 10).blocked is True

    now["t"] += 5.0

    batch = log.read(1, 10)
    assert (batch.last_position, batch.blocked) == (3, False)


def test_a_gap_right_after_the_position_is_noticed_too():
    batch = log_over([3, 4], StillWriting()).read(1, 10)

    assert (batch.events, batch.last_position, batch.blocked) == ([], None, True)


def test_on_postgresql_ids_used_up_by_a_refused_write_do_not_hold_the_views_back(konvergen_db, cases_db, engine_db):
    if konvergen_db.storage.kind != "postgresql":
        pytest.skip("the SQLite store never leaves gaps behind its readers")
    household = cases_db.register()
    taken = cases_db.households.get_household(ADMIN, household)["kk_number"]
    with pytest.raises(DuplicateKK):
        cases_db.households.register_household(
            ADMIN,
            kk_number=taken,
            head={"nik": "3204051203800099", "name": "Dua", "sex": "L", "birth_date": date(1980, 3, 12)},
            address={"street": "", "rt": "1", "rw": "1", "village_code": "32.04.05.2001"},
        )
    cases_db.register(name="Setelah")

    result = engine_db.catch_up()

    assert result.blocked is False
    assert set(engine_db.positions().values()) == {engine_db.log.head()}
    assert engine_db.log.head() > 4  # ids 3 and 4 went to the refused registration
