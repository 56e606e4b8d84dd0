"""Delivery: email to a real SMTP server and a signed webhook to a real HTTP server,
both on loopback; failures retried with backoff, then shown to administrators."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from dataclasses import replace
from datetime import timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from scheduler_helpers import ADMIN, QUICK, TODAY, CaseFileFollowUps, register, schedule
from service.scheduler import Scheduler, scheduler_status
from service.scheduler.config import SmtpSettings, WebhookSettings
from service.scheduler.recipients import set_email

SECRET = "test-webhook-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """An aiosmtpd handler that keeps what it is sent."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp_server():
    mailbox = Mailbox()
    logins = []

    def authenticate(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.login == b"konvergen" and auth_data.password == b"mail-pass")

    controller = Controller(
        mailbox, hostname="127.0.0.1", port=free_port(), authenticator=authenticate, auth_require_tls=False
    )
    controller.start()
    yield controller, mailbox, logins
    controller.stop()


class Gateway(BaseHTTPRequestHandler):
    """A WhatsApp/SMS gateway stand-in: records requests, fails the first ``failures``."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        server = self.server
        server.requests.append((dict(self.headers), body))
        status = 503 if len(server.requests) <= server.failures else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args):
        pass


@pytest.fixture
def gateway():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    server.requests, server.failures = [], 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def due_tomorrow(konvergen):
    household = register(konvergen, 1)
    schedule(konvergen, household, TODAY + timedelta(days=1), purpose="Cek atap")
    return household


def test_a_reminder_is_emailed_through_the_configured_smtp_server_with_login(staff, smtp_server):
    controller, mailbox, logins = smtp_server
    set_email(staff.storage.engine, "asep", "asep@desa.example")
    household = due_tomorrow(staff)
    smtp = SmtpSettings(host="127.0.0.1", port=controller.port, user="konvergen", password="mail-pass",
                        sender="pengingat@konvergen.example", starttls=False)
    scheduler = Scheduler(staff, replace(QUICK, smtp=smtp), source=CaseFileFollowUps(staff, [household]))

    scheduler.run_reminders()
    report = scheduler.deliver()

    assert report.sent == 2  # the bell and the email
    assert logins == [(b"konvergen", b"mail-pass")]
    [(recipients, email)] = mailbox.messages
    assert recipients == ["asep@desa.example"]
    assert email["Subject"] == "Kunjungan besok 2026-11-29: Cek atap"
    assert email["From"] == "pengingat@konvergen.example"
    assert email["Message-ID"].startswith("<konvergen-outbox-")
    assert "Cileunyi Kulon" in email.get_payload()
    events = [e for e in staff.households.history(ADMIN, household) if e["type"] == "ReminderSent"]
    assert events[0]["data"]["channels"] == ["email", "in_app"]


def test_people_without_an_email_address_get_the_bell_only(staff, smtp_server):
    controller, mailbox, _logins = smtp_server
    household = due_tomorrow(staff)
    smtp = SmtpSettings(host="127.0.0.1", port=controller.port, starttls=False)
    scheduler = Scheduler(staff, replace(QUICK, smtp=smtp), source=CaseFileFollowUps(staff, [household]))
    scheduler.run_reminders()
    assert scheduler.deliver().sent == 1
    assert mailbox.messages == []
    assert scheduler.notifications.unread_count("asep") == 1


def test_the_webhook_gets_a_json_post_whose_hmac_signature_verifies(staff, gateway):
    household = due_tomorrow(staff)
    webhook = WebhookSettings(url=f"http://127.0.0.1:{gateway.server_port}/notify", secret=SECRET)
    scheduler = Scheduler(staff, replace(QUICK, webhook=webhook), source=CaseFileFollowUps(staff, [household]))

    scheduler.run_reminders()
    scheduler.deliver()

    [(headers, body)] = gateway.requests
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Konvergen-Signature"], expected)
    assert headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert payload["recipient"] == "asep"
    assert payload["data"]["kind"] == "reminder_before"
    assert payload["data"]["household_id"] == household
    assert headers["X-Konvergen-Delivery"] == str(payload["delivery_id"])
    tampered = body.replace(b"asep", b"euis")
    assert not hmac.compare_digest(headers["X-Konvergen-Signature"], "sha256=" + hmac.new(SECRET.encode(), tampered, hashlib.sha256).hexdigest())


def test_a_failing_webhook_is_retried_with_growing_waits_until_it_takes_the_message(staff, gateway, clock):
    gateway.failures = 2
    household = due_tomorrow(staff)
    webhook = WebhookSettings(url=f"http://127.0.0.1:{gateway.server_port}/notify", secret=SECRET)
    scheduler = Scheduler(staff, replace(QUICK, webhook=webhook, backoff_base_seconds=60), source=CaseFileFollowUps(staff, [household]))
    start = clock.now()

    scheduler.run_reminders()
    first = scheduler.deliver()
    assert (first.sent, first.retried) == (1, 1)  # the bell went; the webhook waits a minute
    assert scheduler.deliver().as_dict() == {"sent": 0, "retried": 0, "failed": 0}
    clock.move_to(start + timedelta(seconds=61))
    assert scheduler.deliver().retried == 1  # then two minutes
    clock.move_to(start + timedelta(seconds=61 + 119))
    assert scheduler.deliver().as_dict() == {"sent": 0, "retried": 0, "failed": 0}
    clock.move_to(start + timedelta(seconds=61 + 121))
    assert scheduler.deliver().sent == 1

    assert len(gateway.requests) == 3
    assert len({headers["X-Konvergen-Delivery"] for headers, _body in gateway.requests}) == 1
    assert scheduler.notifications.unread_count("asep") == 1
    assert scheduler_status(staff, scheduler.config)["outbox"]["deliveries"] == {"pending": 0, "sent": 2, "failed": 0, "retrying": 0}


def test_a_delivery_that_keeps_failing_is_kept_as_failed_for_administrators_and_can_be_retried(staff, clock, smtp_server):
    controller, mailbox, _logins = smtp_server
    set_email(staff.storage.engine, "asep", "asep@desa.example")
    household = due_tomorrow(staff)
    dead = SmtpSettings(host="127.0.0.1", port=free_port(), starttls=False, timeout_seconds=2)
    config = replace(QUICK, smtp=dead, max_attempts=2, backoff_base_seconds=10)
    scheduler = Scheduler(staff, config, source=CaseFileFollowUps(staff, [household]))

    scheduler.run_reminders()
    scheduler.deliver()
    clock.move_to(clock.now() + timedelta(seconds=11))
    assert scheduler.deliver().failed == 1

    status = scheduler_status(staff, config)
    assert status["outbox"]["deliveries"]["failed"] == 1
    [failure] = status["recent_failures"]
    assert (failure["channel"], failure["recipient"], failure["status"], failure["attempts"]) == ("email", "asep", "failed", 2)
    assert failure["last_error"].startswith(f"SMTP 127.0.0.1:{dead.port}:")
    assert scheduler.notifications.unread_count("asep") == 1  # the reminder itself was not lost

    working = Scheduler(staff, replace(config, smtp=replace(dead, port=controller.port)), source=scheduler.source)
    assert working.outbox.retry_failed() == 1
    assert working.deliver().sent == 1
    assert len(mailbox.messages) == 1


def test_one_delivery_call_sends_everything_due_round_after_round(staff):
    household = register(staff, 1)
    for _ in range(5):
        schedule(staff, household, TODAY + timedelta(days=1))
    scheduler = Scheduler(staff, QUICK, source=CaseFileFollowUps(staff, [household]))
    scheduler.run_reminders()
    assert scheduler.outbox.deliver(round_size=2).sent == 5
    assert scheduler.notifications.unread_count("asep") == 5
