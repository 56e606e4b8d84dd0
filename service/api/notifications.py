"""The in-app bell (each user's own notifications) and the scheduler's status page.

Routes parse with a schema, call the scheduler's services as the authenticated actor
and answer; a user only ever sees and marks their own notifications.
"""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from service.api import API_PREFIX
from service.api.auth import current_actor
from service.api.errors import documents_problems
from service.api.schemas import StrictSchema
from service.app import current_konvergen
from service.scheduler import notifications_for
from service.scheduler.notifications import MAX_PAGE
from service.scheduler.runner import status_for

MAX_IDS = 500

notifications = Blueprint(
    "notifications",
    __name__,
    url_prefix=f"{API_PREFIX}/notifications",
    description="The user's own reminders and escalations (the bell), read and unread.",
)


class NotificationQuery(StrictSchema):
    unread = fields.Boolean(load_default=False, metadata={"description": "Only unread ones"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE))
    before = fields.Integer(validate=validate.Range(min=1), metadata={"description": "next_before of the previous page"})


class NotificationSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "reminder_before, reminder_due, reminder_overdue, escalation or weekly_digest"})
    title = fields.String()
    body = fields.String()
    household_id = fields.String(allow_none=True)
    follow_up_id = fields.String(allow_none=True)
    created_at = fields.DateTime()
    read = fields.Boolean()
    read_at = fields.DateTime(allow_none=True)


class NotificationPageSchema(Schema):
    unread_count = fields.Integer()
    items = fields.List(fields.Nested(NotificationSchema))
    next_before = fields.Integer(allow_none=True)


class MarkReadSchema(StrictSchema):
    ids = fields.List(fields.Integer(validate=validate.Range(min=1)), validate=validate.Length(min=1, max=MAX_IDS))
    all = fields.Boolean(metadata={"description": "Mark every unread notification read"})

    @validates_schema
    def one_of_ids_or_all(self, data, **kwargs):
        if bool(data.get("ids")) == bool(data.get("all")):
            raise ValidationError("give either ids or all: true", field_name="ids")


class MarkReadResultSchema(Schema):
    marked = fields.Integer()
    unread_count = fields.Integer()


@notifications.route("", methods=["GET"])
@notifications.arguments(NotificationQuery, location="query", unknown=RAISE)
@notifications.response(200, NotificationPageSchema)
@documents_problems(notifications, {422: "A parameter is invalid"})
def list_notifications(query: dict):
    """The user's notifications, newest first, with the unread count for the bell"""
    center = notifications_for(current_konvergen())
    username = current_actor().username
    items = center.list_notifications(
        username, unread_only=query["unread"], limit=query["limit"], before_id=query.get("before")
    )
    return {
        "unread_count": center.unread_count(username),
        "items": items,
        "next_before": items[-1]["id"] if len(items) == query["limit"] else None,
    }


@notifications.route("/read", methods=["POST"])
@notifications.arguments(MarkReadSchema)
@notifications.response(200, MarkReadResultSchema)
@documents_problems(notifications, {422: "Neither ids nor all"})
def mark_read(body: dict):
    """Mark some (ids) or all of the user's notifications read; others' ids change nothing"""
    center = notifications_for(current_konvergen())
    username = current_actor().username
    marked = center.mark_read(username, None if body.get("all") else body["ids"])
    return {"marked": marked, "unread_count": center.unread_count(username)}


scheduler = Blueprint(
    "scheduler",
    __name__,
    url_prefix=f"{API_PREFIX}/scheduler",
    description="Reminder jobs, their last and next runs, and deliveries (administrators only).",
)


class JobSchema(Schema):
    id = fields.String()
    next_run_at = fields.DateTime(allow_none=True)
    runs = fields.Integer()
    last_started_at = fields.DateTime(allow_none=True)
    last_finished_at = fields.DateTime(allow_none=True)
    last_status = fields.String(allow_none=True)
    last_error = fields.String(allow_none=True)
    last_summary = fields.Dict(allow_none=True)


class LeaseSchema(Schema):
    owner = fields.String()
    acquired_at = fields.DateTime(allow_none=True)
    expires_at = fields.DateTime()
    live = fields.Boolean()


class FailureSchema(Schema):
    id = fields.Integer()
    recipient = fields.String()
    channel = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    title = fields.String()


class SchedulerStatusSchema(Schema):
    lease = fields.Nested(LeaseSchema, allow_none=True)
    jobs = fields.List(fields.Nested(JobSchema))
    outbox = fields.Dict(metadata={"description": "deliveries by status (sent, pending, retrying, failed), by channel, reminders by state"})
    recent_failures = fields.List(fields.Nested(FailureSchema))
    config = fields.Dict(metadata={"description": "The rules and channels in force (no secrets)"})
    config_error = fields.String(allow_none=True)


@scheduler.route("/status", methods=["GET"])
@scheduler.response(200, SchedulerStatusSchema)
@documents_problems(scheduler, {403: "Not an administrator"})
def scheduler_status():
    """Jobs with last and next runs, the lease holder, sent and failed deliveries"""
    return status_for(current_actor(), current_konvergen())


blueprints = [notifications, scheduler]
