"""The pass reads the projections' follow-up view; a lagging view is safe."""

from __future__ import annotations

from datetime import timedelta

import pytest

from projections.runner import build_engine
from scheduler_helpers import ADMIN, QUICK, TODAY, morning, register, schedule, sent_keys
from service.scheduler import Scheduler
from service.scheduler.sources import FollowUpViewMissing, ProjectionFollowUps


@pytest.fixture
def view(staff):
    engine = build_engine(staff)
    engine.prepare()
    return engine


def test_the_pass_reminds_what_the_follow_up_view_lists(staff, view, clock):
    clock.move_to(morning(TODAY - timedelta(days=9)))
    household = register(staff, 1)
    overdue = schedule(staff, household, TODAY - timedelta(days=8))
    later = schedule(staff, household, TODAY + timedelta(days=5))
    clock.move_to(morning(TODAY))
    view.catch_up()
    scheduler = Scheduler(staff, QUICK)  # the default source: the follow-up view

    report = scheduler.run_reminders()

    assert isinstance(scheduler.source, ProjectionFollowUps)
    assert report.open_follow_ups == 1  # the one due in five days is not even read
    assert sorted(sent_keys(staff, [household])) == [
        ("escalation", overdue, TODAY - timedelta(days=8)),
        ("reminder_overdue", overdue, TODAY - timedelta(days=8)),
    ]
    assert later not in {fid for _k, fid, _d in sent_keys(staff, [household])}


def test_a_view_that_lags_delays_a_reminder_to_the_next_pass_and_never_sends_a_wrong_one(staff, view, clock):
    household = register(staff, 1)
    moved = schedule(staff, household, TODAY + timedelta(days=1))
    view.catch_up()
    staff.households.reschedule_follow_up(ADMIN, household, moved, due_on=TODAY + timedelta(days=10), reason="away")
    fresh = schedule(staff, household, TODAY + timedelta(days=1))
    scheduler = Scheduler(staff, QUICK)

    lagging = scheduler.run_reminders()  # the view still shows the old date and not the new follow-up
    assert (lagging.enqueued, lagging.void, lagging.recorded) == (1, 1, 0)
    assert sent_keys(staff, [household]) == []

    view.catch_up()
    caught_up = scheduler.run_reminders()
    assert caught_up.recorded == 1
    assert sent_keys(staff, [household]) == [("reminder_before", fresh, TODAY + timedelta(days=1))]


def test_without_the_follow_up_view_the_pass_says_what_to_start(staff):
    with pytest.raises(FollowUpViewMissing, match="konvergen projections run"):
        Scheduler(staff, QUICK).run_reminders()
