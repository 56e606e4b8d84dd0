"""How a message leaves the outbox: the in-app bell, email over SMTP, a signed webhook.

In-app delivery is a row written in the same transaction that marks the outbox row
sent, so it happens exactly once. Email and webhook leave the database: they are sent
at least once, and carry the outbox row's id (Message-ID, ``X-Konvergen-Delivery``)
so a receiver can drop the rare repeat after a crash between sending and marking.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import Connection, insert

from service.scheduler.config import SmtpSettings, WebhookSettings
from service.scheduler.tables import Notification

SIGNATURE_HEADER = "X-Konvergen-Signature"
DELIVERY_HEADER = "X-Konvergen-Delivery"


class DeliveryError(Exception):
    """The channel did not take the message; the outbox retries it later."""


def webhook_signature(secret: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of the raw body>``: what receivers recompute and compare."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class InAppChannel:
    """The bell in the web UI: a notifications row per delivery."""

    name = "in_app"
    transactional = True

    def add(self, conn: Connection, messages: list, now: datetime) -> None:
        """Writes the notifications in the caller's transaction (which marks them sent)."""
        if not messages:
            return
        conn.execute(
            insert(Notification.__table__),
            [
                {
                    "username": m.recipient,
                    "kind": m.data.get("kind", ""),
                    "title": m.title,
                    "body": m.body,
                    "household_id": m.data.get("household_id"),
                    "follow_up_id": m.data.get("follow_up_id"),
                    "outbox_id": m.id,
                    "created_at": now,
                }
                for m in messages
            ],
        )


class EmailChannel:
    """Plain-text email through the configured SMTP server (STARTTLS and login optional)."""

    name = "email"
    transactional = False

    def __init__(self, settings: SmtpSettings):
        self.settings = settings

    def send(self, message, now: datetime) -> None:
        if not message.address:
            raise DeliveryError(f"{message.recipient} has no email address")
        email = EmailMessage()
        email["Subject"] = message.title
        email["From"] = self.settings.sender
        email["To"] = message.address
        email["Date"] = format_datetime(now)
        domain = self.settings.sender.rpartition("@")[2] or "konvergen"
        email["Message-ID"] = f"<konvergen-outbox-{message.id}@{domain}>"
        email[DELIVERY_HEADER] = str(message.id)
        email.set_content(message.body)
        settings = self.settings
        try:
            with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds) as smtp:
                if settings.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if settings.user:
                    smtp.login(settings.user, settings.password or "")
                smtp.send_message(email)
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryError(f"SMTP {settings.host}:{settings.port}: {error}") from error


class WebhookChannel:
    """JSON POSTed to a gateway (WhatsApp, SMS), signed with HMAC-SHA256 of the body."""

    name = "webhook"
    transactional = False

    def __init__(self, settings: WebhookSettings):
        self.settings = settings

    def body(self, message, now: datetime) -> bytes:
        payload = {
            "delivery_id": message.id,
            "recipient": message.recipient,
            "title": message.title,
            "body": message.body,
            "data": message.data,
            "sent_at": now.isoformat(),
        }
        return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def send(self, message, now: datetime) -> None:
        body = self.body(message, now)
        request = urllib.request.Request(
            self.settings.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "Konvergen-Scheduler/1",
                SIGNATURE_HEADER: webhook_signature(self.settings.secret or "", body),
                DELIVERY_HEADER: str(message.id),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.settings.timeout_seconds) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            raise DeliveryError(f"webhook answered HTTP {error.code}") from error
        except (urllib.error.URLError, OSError) as error:
            raise DeliveryError(f"webhook {self.settings.url}: {getattr(error, 'reason', error)}") from error
        if not 200 <= status < 300:
            raise DeliveryError(f"webhook answered HTTP {status}")
