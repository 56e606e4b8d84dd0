"""GET /api/v1/notifications (each user's own bell) and the admin-only scheduler status."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scheduler_helpers import QUICK, TODAY, CaseFileFollowUps, morning, register, schedule
from service.app import create_app
from service.scheduler import Scheduler


@pytest.fixture
def notified(staff, clock):
    """asep has three reminders; kasi.cileunyi has one escalation and a weekly digest."""
    clock.move_to(morning(TODAY - timedelta(days=9)))
    household = register(staff, 1)
    schedule(staff, household, TODAY - timedelta(days=8))
    schedule(staff, household, TODAY)
    schedule(staff, household, TODAY + timedelta(days=1))
    clock.move_to(morning(TODAY))
    Scheduler(staff, QUICK, source=CaseFileFollowUps(staff, [household])).tick()
    return staff


@pytest.fixture
def client(notified):
    app = create_app(notified, {"TESTING": True})
    tokens = {}

    def as_user(username: str | None):
        if username and username not in tokens:
            tokens[username] = notified.users.issue_token(username)
        headers = {"Authorization": f"Bearer {tokens[username]}"} if username else {}
        test_client = app.test_client()

        class Client:
            def get(self, path):
                return test_client.get("/api/v1" + path, headers=headers)

            def post(self, path, body):
                return test_client.post("/api/v1" + path, json=body, headers=headers)

        return Client()

    return as_user


def test_a_user_sees_only_their_own_notifications_newest_first_with_the_unread_count(client):
    response = client("asep").get("/notifications")
    assert response.status_code == 200
    body = response.json
    assert body["unread_count"] == 3
    assert [item["kind"] for item in body["items"]] == ["reminder_overdue", "reminder_due", "reminder_before"]
    assert all(item["read"] is False for item in body["items"])
    supervisor = client("kasi.cileunyi").get("/notifications").json
    assert sorted(item["kind"] for item in supervisor["items"]) == ["escalation", "weekly_digest"]


def test_notifications_page_by_before_and_filter_unread(client):
    asep = client("asep")
    first = asep.get("/notifications?limit=2").json
    assert len(first["items"]) == 2 and first["next_before"] == first["items"][-1]["id"]
    rest = asep.get(f"/notifications?limit=2&before={first['next_before']}").json
    assert [i["kind"] for i in rest["items"]] == ["reminder_before"] and rest["next_before"] is None

    marked = asep.post("/notifications/read", {"ids": [first["items"][0]["id"]]}).json
    assert marked == {"marked": 1, "unread_count": 2}
    unread = asep.get("/notifications?unread=true").json["items"]
    assert [i["kind"] for i in unread] == ["reminder_due", "reminder_before"]


def test_marking_someone_else_s_notification_changes_nothing(client):
    theirs = client("kasi.cileunyi").get("/notifications").json["items"][0]["id"]
    assert client("asep").post("/notifications/read", {"ids": [theirs]}).json == {"marked": 0, "unread_count": 3}
    assert client("kasi.cileunyi").get("/notifications").json["unread_count"] == 2


def test_mark_all_read_empties_the_bell(client):
    assert client("asep").post("/notifications/read", {"all": True}).json == {"marked": 3, "unread_count": 0}


@pytest.mark.parametrize(
    "body, field",
    [({}, "ids"), ({"ids": []}, "ids"), ({"ids": ["x"]}, "ids"), ({"ids": [1], "all": True}, "ids"), ({"id": [1]}, "id")],
)
def test_a_bad_mark_read_request_is_refused_naming_the_field(client, body, field):
    response = client("asep").post("/notifications/read", body)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert [name.split("[")[0] for name in response.json["errors"]] == [field]


def test_bad_query_parameters_and_missing_tokens_are_refused(client):
    assert client("asep").get("/notifications?limit=0").status_code == 422
    assert client("asep").get("/notifications?sort=old").status_code == 422
    assert client(None).get("/notifications").status_code == 401


def test_only_administrators_see_the_scheduler_status(client):
    refused = client("asep").get("/scheduler/status")
    assert refused.status_code == 403
    assert refused.content_type == "application/problem+json"
    status = client("admin").get("/scheduler/status")
    assert status.status_code == 200
    body = status.json
    assert [job["id"] for job in body["jobs"]][:3] == ["reminders", "digest", "deliveries"]
    assert body["outbox"]["deliveries"] == {"sent": 5, "pending": 0, "failed": 0, "retrying": 0}
    assert body["lease"] is None and body["config_error"] is None
    assert body["config"]["escalate_after_days"] == 7


def test_a_broken_setting_shows_on_the_status_page_instead_of_failing_it(client, monkeypatch):
    monkeypatch.setenv("KONVERGEN_SCHEDULER_RUN_AT", "half past seven")
    body = client("admin").get("/scheduler/status").json
    assert body["config_error"] == "KONVERGEN_SCHEDULER_RUN_AT: 'half past seven' is not a time of day like 07:00 (WIB)"
