"""Language and formats: Bahasa Indonesia by default, English on request.

The language is remembered per user (``UserDirectory.set_language``) and cached in the
session, so choosing it costs one query at login, not one per page. Dates read like
"28 November 2026", times are shown in WIB, money like "Rp 1.250.000".
"""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, session
from flask_babel import Babel, format_date, format_datetime, format_decimal, get_locale

LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}
DEFAULT_LANGUAGE = "id"
SESSION_KEY = "language"


def select_locale() -> str:
    language = session.get(SESSION_KEY)
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def remember_language(language: str) -> str:
    """Puts a supported language in the session; anything else means the default."""
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    session[SESSION_KEY] = language
    return language


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale else DEFAULT_LANGUAGE


def long_date(value: date | datetime | str | None) -> str:
    """28 November 2026 (id) / November 28, 2026 (en); empty for no date."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return format_date(value, "long")  # a datetime is first moved to WIB


def wib_datetime(value: datetime | None) -> str:
    """A recorded time in the users' time zone: 28 November 2026 10.00 WIB."""
    if value is None:
        return ""
    return f"{format_datetime(value, 'd MMMM y HH.mm')} WIB"


def rupiah(value: int | None) -> str:
    """Rp 1.250.000 (grouping follows the interface language)."""
    if value is None:
        return ""
    return f"Rp {format_decimal(value, format='#,##0')}"


def month_label(value: str) -> str:
    """'2026-05' -> 'Mei 2026' / 'May 2026'."""
    year, month = (int(part) for part in value.split("-"))
    return format_date(date(year, month, 1), "MMM y")


def number(value: int | float | None) -> str:
    if value is None:
        return ""
    return format_decimal(value, format="#,##0.##")


def init_i18n(app: Flask) -> Babel:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Jakarta")
    babel = Babel(app, locale_selector=select_locale)
    app.jinja_env.filters.update(
        long_date=long_date, wib=wib_datetime, rupiah=rupiah, number=number, month_label=month_label
    )
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, current_language=current_language)
    return babel
