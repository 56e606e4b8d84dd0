"""Language and formats: Bahasa Indonesia by default, English on request.

The language is remembered per user (``UserDirectory.set_language``) and cached in the
session, so choosing it costs one query at login, not one per page. Dates read like
"28 November 2026", times are shown in WIB, money like "Rp 1.250.000".
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from functools import lru_cache

from babel.dates import format_date as babel_format_date

from flask import Flask, g, has_request_context, session
from flask_babel import Babel, format_date, format_decimal, get_locale, get_translations, refresh
from flask_babel.speaklater import LazyString

from service.clock import WIB

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
    for key in (TRANSLATIONS_KEY, LANGUAGE_KEY, "_konvergen_labels"):
        g.pop(key, None)
    refresh()
    return language


TRANSLATIONS_KEY = "_konvergen_translations"
LANGUAGE_KEY = "_konvergen_language"


def gettext(string: str, **variables) -> str:
    """Flask-Babel's gettext, through the request's cached catalogue."""
    translated = request_translations().ugettext(string) if has_request_context() else string
    return translated % variables if variables else translated


def lazy_gettext(string: str, **variables) -> LazyString:
    """Translated when shown (form labels, choices, messages defined at import time)."""
    return LazyString(gettext, string, **variables)


def request_translations():
    """The catalogue for this request. Flask-Babel looks it up through several context
    look-ups on every call; a list page asks hundreds of times, so it is kept in ``g``."""
    translations = g.get(TRANSLATIONS_KEY)
    if translations is None:
        translations = g.setdefault(TRANSLATIONS_KEY, get_translations())
    return translations


def current_language() -> str:
    language = g.get(LANGUAGE_KEY)
    if language is None:
        locale = get_locale()
        language = g.setdefault(LANGUAGE_KEY, locale.language if locale else DEFAULT_LANGUAGE)
    return language


def long_date(value: date | datetime | str | None) -> str:
    """28 November 2026 (id) / November 28, 2026 (en); empty for no date."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    if isinstance(value, datetime):
        return format_date(value, "long")  # moved to WIB first
    return _long_date(value, current_language())


@lru_cache(maxsize=4096)
def _long_date(value: date, language: str) -> str:
    """Dates repeat across rows and pages; Babel's formatting is the slow part of a list."""
    return babel_format_date(value, "long", locale=language)


def wib_datetime(value: datetime | None) -> str:
    """A recorded time in the users' time zone: 28 November 2026 10.00 WIB."""
    if value is None:
        return ""
    language = current_language()
    local = value.astimezone(WIB) if value.tzinfo else value.replace(tzinfo=timezone.utc).astimezone(WIB)
    clock = f"{local:%H.%M}" if language == "id" else f"{local:%H:%M}"
    return f"{_long_date(local.date(), language)} {clock} WIB"


GROUPING = {"id": ".", "en": ","}


def _grouped(value: int) -> str:
    """Thousands grouped the way the language writes them (1.250.000 / 1,250,000)."""
    return f"{value:,}".replace(",", GROUPING.get(current_language(), ","))


def rupiah(value: int | None) -> str:
    """Rp 1.250.000 (grouping follows the interface language)."""
    if value is None:
        return ""
    return f"Rp {_grouped(value)}"


def month_label(value: str) -> str:
    """'2026-05' -> 'Mei 2026' / 'May 2026'."""
    year, month = (int(part) for part in value.split("-"))
    return format_date(date(year, month, 1), "MMM y")


def number(value: int | float | None) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return _grouped(value)  # charts print hundreds of counts: Babel is slow for these
    return format_decimal(value, format="#,##0.##")


def init_i18n(app: Flask) -> Babel:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Jakarta")
    babel = Babel(app, locale_selector=select_locale)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        newstyle=True,
    )
    app.jinja_env.filters.update(
        long_date=long_date, wib=wib_datetime, rupiah=rupiah, number=number, month_label=month_label
    )
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, current_language=current_language)
    return babel
