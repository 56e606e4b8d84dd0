"""The scheduler's settings: rules, timing, retries and channels.

Read from an optional TOML file (``KONVERGEN_SCHEDULER_CONFIG``) and then from the
environment, which wins, so a deployment can keep its rules in a file and its
secrets (SMTP password, webhook secret) only in the environment. Every bad value is
refused with the setting's name and why, before anything runs.

Rules (file key, or ``KONVERGEN_SCHEDULER_<KEY>``): ``remind_days_before`` (1),
``remind_on_due_date`` (true), ``remind_when_overdue`` (true), ``escalate_after_days``
(7), ``digest_weekday`` (mon), ``run_at`` (07:00 WIB), ``channels`` (in_app,email,webhook),
``delivery_interval_seconds`` (60), ``max_attempts`` (8), ``backoff_base_seconds`` (60),
``backoff_max_seconds`` (21600), ``lease_seconds`` (60), ``batch_size`` (200).
Email: ``KONVERGEN_SMTP_HOST`` (email is off without it), ``_PORT`` (587), ``_USER``,
``_PASSWORD``, ``_FROM``, ``_STARTTLS`` (true). Webhook: ``KONVERGEN_WEBHOOK_URL`` and
``KONVERGEN_WEBHOOK_SECRET`` (required with a URL; requests carry
``X-Konvergen-Signature: sha256=<hex HMAC-SHA256 of the body>``). A user's email
address: `konvergen scheduler email --username U --email ADDRESS`.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from datetime import time
from pathlib import Path
from typing import Any, Mapping

CONFIG_FILE_ENV = "KONVERGEN_SCHEDULER_CONFIG"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CHANNELS = ("in_app", "email", "webhook")


class SchedulerConfigError(ValueError):
    """A setting cannot be used; the message names it and says why."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None = None
    port: int = 587
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "konvergen@localhost"
    starttls: bool = True
    timeout_seconds: float = 20.0

    @property
    def configured(self) -> bool:
        return bool(self.host)


@dataclass(frozen=True)
class WebhookSettings:
    url: str | None = None
    secret: str | None = field(default=None, repr=False)
    timeout_seconds: float = 10.0

    @property
    def configured(self) -> bool:
        return bool(self.url)


@dataclass(frozen=True)
class SchedulerConfig:
    """Defaults: remind the day before, on the day and once overdue; escalate after
    7 days overdue; digest on Monday; everything at 07:00 WIB."""

    remind_days_before: int = 1
    remind_on_due_date: bool = True
    remind_when_overdue: bool = True
    escalate_after_days: int = 7
    digest_weekday: str = "mon"
    run_at: time = time(7, 0)
    channels: tuple[str, ...] = CHANNELS
    delivery_interval_seconds: int = 60
    max_attempts: int = 8
    backoff_base_seconds: int = 60
    backoff_max_seconds: int = 6 * 3600
    lease_seconds: int = 60
    batch_size: int = 200
    smtp: SmtpSettings = SmtpSettings()
    webhook: WebhookSettings = WebhookSettings()

    @property
    def digest_weekday_number(self) -> int:
        return WEEKDAYS.index(self.digest_weekday)

    def backoff_seconds(self, attempts: int) -> int:
        """Wait before retry number ``attempts`` (1-based): doubling, capped."""
        return min(self.backoff_base_seconds * 2 ** max(attempts - 1, 0), self.backoff_max_seconds)


# setting name (file key, lower case; env: KONVERGEN_SCHEDULER_<UPPER>) -> parser
def _int(minimum: int, maximum: int):
    def parse(name: str, raw: Any) -> int:
        if isinstance(raw, bool):
            raise SchedulerConfigError(f"{name}: {raw!r} is not a whole number")
        try:
            value = raw if isinstance(raw, int) else int(str(raw).strip())
        except ValueError:
            raise SchedulerConfigError(f"{name}: {raw!r} is not a whole number") from None
        if not minimum <= value <= maximum:
            raise SchedulerConfigError(f"{name}: must be from {minimum} to {maximum}, not {raw!r}")
        return value

    return parse


def _bool(name: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise SchedulerConfigError(f"{name}: {raw!r} is not true/false (1/0, yes/no, on/off)")


def _weekday(name: str, raw: Any) -> str:
    text = str(raw).strip().lower()[:3]
    if text not in WEEKDAYS:
        raise SchedulerConfigError(f"{name}: must be one of {', '.join(WEEKDAYS)}, not {raw!r}")
    return text


def _time(name: str, raw: Any) -> time:
    if isinstance(raw, time):
        return raw
    try:
        return time.fromisoformat(str(raw).strip())
    except ValueError:
        raise SchedulerConfigError(f"{name}: {raw!r} is not a time of day like 07:00 (WIB)") from None


def _channels(name: str, raw: Any) -> tuple[str, ...]:
    items = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
    channels = tuple(dict.fromkeys(str(c).strip() for c in items if str(c).strip()))
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown:
        raise SchedulerConfigError(f"{name}: unknown channel {unknown[0]!r}; use some of {', '.join(CHANNELS)}")
    if "in_app" not in channels:
        # The bell is the record every recipient can always read; email and webhook add to it.
        raise SchedulerConfigError(f"{name}: in_app cannot be switched off")
    return channels


RULE_SETTINGS = {
    "remind_days_before": _int(0, 30),
    "remind_on_due_date": _bool,
    "remind_when_overdue": _bool,
    "escalate_after_days": _int(1, 365),
    "digest_weekday": _weekday,
    "run_at": _time,
    "channels": _channels,
    "delivery_interval_seconds": _int(5, 3600),
    "max_attempts": _int(1, 50),
    "backoff_base_seconds": _int(1, 86400),
    "backoff_max_seconds": _int(1, 7 * 86400),
    "lease_seconds": _int(5, 3600),
    "batch_size": _int(1, 10000),
}


def _text(name: str, raw: Any) -> str:
    return str(raw).strip()


SMTP_SETTINGS = {  # env: KONVERGEN_SMTP_<UPPER>; file: [smtp]
    "host": _text,
    "port": _int(1, 65535),
    "user": _text,
    "password": _text,
    "from": _text,
    "starttls": _bool,
}
WEBHOOK_SETTINGS = {"url": _text, "secret": _text}  # env: KONVERGEN_WEBHOOK_<UPPER>; file: [webhook]
SECRETS = {("smtp", "password"), ("webhook", "secret")}


def load_config(environ: Mapping[str, str] | None = None, path: str | Path | None = None) -> SchedulerConfig:
    """Defaults, then the TOML file, then the environment."""
    environ = os.environ if environ is None else environ
    path = path or environ.get(CONFIG_FILE_ENV) or None
    document = _read_file(Path(path)) if path else {}
    rules: dict[str, Any] = {}
    for key, value in document.items():
        if key in ("smtp", "webhook"):
            continue
        if key not in RULE_SETTINGS:
            raise SchedulerConfigError(f"{path}: unknown setting {key!r}")
        rules[key] = RULE_SETTINGS[key](key, value)
    for key, parse in RULE_SETTINGS.items():
        env_name = f"KONVERGEN_SCHEDULER_{key.upper()}"
        if environ.get(env_name, "").strip():
            rules[key] = parse(env_name, environ[env_name])
    smtp = _section(document, environ, "smtp", SMTP_SETTINGS, "KONVERGEN_SMTP_", path)
    webhook = _section(document, environ, "webhook", WEBHOOK_SETTINGS, "KONVERGEN_WEBHOOK_", path)
    if webhook.get("url"):
        url = webhook["url"]
        if not url.startswith(("http://", "https://")):
            raise SchedulerConfigError(f"KONVERGEN_WEBHOOK_URL: {url!r} is not an http(s) URL")
        if not webhook.get("secret"):
            raise SchedulerConfigError("KONVERGEN_WEBHOOK_SECRET: a webhook needs a secret to sign its requests")
    smtp_settings = SmtpSettings(
        host=smtp.get("host") or None,
        port=smtp.get("port", 587),
        user=smtp.get("user") or None,
        password=smtp.get("password") or None,
        sender=smtp.get("from") or "konvergen@localhost",
        starttls=smtp.get("starttls", True),
    )
    config = SchedulerConfig(
        **rules,
        smtp=smtp_settings,
        webhook=WebhookSettings(url=webhook.get("url") or None, secret=webhook.get("secret") or None),
    )
    if config.backoff_max_seconds < config.backoff_base_seconds:
        raise SchedulerConfigError("backoff_max_seconds: must not be less than backoff_base_seconds")
    return config


def _read_file(path: Path) -> dict:
    try:
        with open(path, "rb") as stream:
            return tomllib.load(stream)
    except FileNotFoundError:
        raise SchedulerConfigError(f"{CONFIG_FILE_ENV}: no file {path}") from None
    except tomllib.TOMLDecodeError as error:
        raise SchedulerConfigError(f"{path}: not valid TOML: {error}") from None


def _section(document: dict, environ: Mapping[str, str], name: str, settings: dict, env_prefix: str, path) -> dict:
    values: dict[str, Any] = {}
    section = document.get(name, {})
    if not isinstance(section, dict):
        raise SchedulerConfigError(f"{path}: [{name}] must be a table")
    for key, value in section.items():
        if key not in settings:
            raise SchedulerConfigError(f"{path}: unknown setting {name}.{key}")
        if (name, key) in SECRETS:
            raise SchedulerConfigError(f"{path}: {name}.{key} is a secret; set {env_prefix}{key.upper()} in the environment instead")
        values[key] = settings[key](f"{name}.{key}", value)
    for key, parse in settings.items():
        env_name = f"{env_prefix}{key.upper()}"
        if environ.get(env_name, "").strip():
            values[key] = parse(env_name, environ[env_name])
    return values


def describe(config: SchedulerConfig) -> dict:
    """The settings as plain data for `scheduler status`, secrets left out."""
    result = {f.name: getattr(config, f.name) for f in fields(config) if f.name not in ("smtp", "webhook")}
    result["run_at"] = config.run_at.strftime("%H:%M") + " WIB"
    result["channels"] = list(config.channels)
    result["smtp"] = {"host": config.smtp.host, "port": config.smtp.port, "from": config.smtp.sender, "starttls": config.smtp.starttls}
    result["webhook"] = {"url": config.webhook.url}
    return result

