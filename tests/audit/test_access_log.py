"""Who looked: recorded once, never changed, browsable by auditors and administrators."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from audit_helpers import ADMIN, AUDITOR, CASE_WORKER, SUPERVISOR, days_later
from service.audit import audit_for
from service.audit.access_log import EXPORT, HISTORY
from service.errors import Forbidden


def test_the_access_log_refuses_updates_and_deletes_in_the_database_itself(store):
    log = audit_for(store).access_log
    log.record(AUDITOR, HISTORY, "0b6d1f8e-0000-4000-8000-000000000001")
    with store.storage.engine.connect() as connection:
        for statement in ("UPDATE audit_access_log SET username = 'nobody'", "DELETE FROM audit_access_log"):
            with pytest.raises(Exception, match="append-only"):
                connection.execute(text(statement))
            connection.rollback()
    assert [e["username"] for e in log.browse(ADMIN)["entries"]] == ["inspektorat"]


def test_the_access_log_is_filtered_by_person_action_household_and_time(store, clock):
    log = audit_for(store).access_log
    log.record(AUDITOR, HISTORY, "h-1")
    days_later(clock, 1)
    log.record(SUPERVISOR, HISTORY, "h-2")
    log.record(AUDITOR, EXPORT, None, events=12)
    assert [e["action"] for e in log.browse(AUDITOR, username="inspektorat")["entries"]] == ["export", "history"]
    assert [e["username"] for e in log.browse(AUDITOR, household_id="h-2")["entries"]] == ["kasi.cileunyi"]
    since = clock.now() - timedelta(hours=1)
    assert len(log.browse(AUDITOR, since=since)["entries"]) == 2
    assert [e["household_id"] for e in log.browse(AUDITOR, until=since)["entries"]] == ["h-1"]
    assert log.browse(AUDITOR, action="export")["entries"][0]["detail"] == {"events": 12}


def test_only_auditors_and_administrators_browse_the_access_log(sqlite_store):
    log = audit_for(sqlite_store).access_log
    for actor in (CASE_WORKER, SUPERVISOR):
        with pytest.raises(Forbidden):
            log.browse(actor)
