"""Scheduler settings: defaults, a TOML file, the environment on top, clear refusals."""

from __future__ import annotations

from datetime import time

import pytest

from service.scheduler.config import SchedulerConfigError, describe, load_config


def test_without_settings_the_defaults_are_the_issue_s_rules():
    config = load_config({})
    assert (config.remind_days_before, config.remind_on_due_date, config.remind_when_overdue) == (1, True, True)
    assert config.escalate_after_days == 7
    assert config.digest_weekday == "mon"
    assert config.run_at == time(7, 0)
    assert not config.smtp.configured and not config.webhook.configured


def test_a_config_file_sets_rules_and_the_environment_overrides_it(tmp_path):
    path = tmp_path / "scheduler.toml"
    path.write_text('escalate_after_days = 10\ndigest_weekday = "friday"\nrun_at = "06:30"\n[smtp]\nhost = "mail.example"\nport = 2525\nstarttls = false\n')
    config = load_config({"KONVERGEN_SCHEDULER_CONFIG": str(path), "KONVERGEN_SCHEDULER_ESCALATE_AFTER_DAYS": "5",
                          "KONVERGEN_SMTP_PASSWORD": "s3cret"})
    assert config.escalate_after_days == 5
    assert config.digest_weekday == "fri"
    assert config.run_at == time(6, 30)
    assert (config.smtp.host, config.smtp.port, config.smtp.starttls, config.smtp.password) == ("mail.example", 2525, False, "s3cret")
    assert "s3cret" not in repr(config) and "s3cret" not in str(describe(config))


@pytest.mark.parametrize(
    "environ, message",
    [
        ({"KONVERGEN_SCHEDULER_ESCALATE_AFTER_DAYS": "soon"}, "KONVERGEN_SCHEDULER_ESCALATE_AFTER_DAYS: 'soon' is not a whole number"),
        ({"KONVERGEN_SCHEDULER_ESCALATE_AFTER_DAYS": "0"}, "must be from 1 to 365"),
        ({"KONVERGEN_SCHEDULER_DIGEST_WEEKDAY": "someday"}, "KONVERGEN_SCHEDULER_DIGEST_WEEKDAY: must be one of mon"),
        ({"KONVERGEN_SCHEDULER_RUN_AT": "25:00"}, "is not a time of day"),
        ({"KONVERGEN_SCHEDULER_CHANNELS": "email,sms"}, "unknown channel 'sms'"),
        ({"KONVERGEN_SCHEDULER_CHANNELS": "email"}, "in_app cannot be switched off"),
        ({"KONVERGEN_SMTP_STARTTLS": "maybe"}, "KONVERGEN_SMTP_STARTTLS: 'maybe' is not true/false"),
        ({"KONVERGEN_WEBHOOK_URL": "https://gateway.example/hook"}, "KONVERGEN_WEBHOOK_SECRET: a webhook needs a secret"),
        ({"KONVERGEN_WEBHOOK_URL": "ftp://gateway.example", "KONVERGEN_WEBHOOK_SECRET": "x"}, "is not an http(s) URL"),
        ({"KONVERGEN_SCHEDULER_CONFIG": "/nonexistent/scheduler.toml"}, "no file /nonexistent/scheduler.toml"),
    ],
)
def test_a_bad_setting_is_refused_with_its_name_and_the_reason(environ, message):
    with pytest.raises(SchedulerConfigError) as refusal:
        load_config(environ)
    assert message in str(refusal.value)


def test_secrets_and_unknown_keys_are_refused_in_the_config_file(tmp_path):
    secret = tmp_path / "secret.toml"
    secret.write_text('[webhook]\nsecret = "oops"\n')
    with pytest.raises(SchedulerConfigError, match="webhook.secret is a secret; set KONVERGEN_WEBHOOK_SECRET"):
        load_config({}, secret)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("escalate_after = 3\n")
    with pytest.raises(SchedulerConfigError, match="unknown setting 'escalate_after'"):
        load_config({}, unknown)
    broken = tmp_path / "broken.toml"
    broken.write_text("escalate_after_days = \n")
    with pytest.raises(SchedulerConfigError, match="not valid TOML"):
        load_config({}, broken)


def test_retries_back_off_exponentially_up_to_a_cap():
    config = load_config({"KONVERGEN_SCHEDULER_BACKOFF_BASE_SECONDS": "30", "KONVERGEN_SCHEDULER_BACKOFF_MAX_SECONDS": "200"})
    assert [config.backoff_seconds(n) for n in range(1, 6)] == [30, 60, 120, 200, 200]
