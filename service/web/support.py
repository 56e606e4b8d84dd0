"""Small helpers every web view uses: the service, the signed-in actor, permissions.

Permissions are asked of the service's ``AccessPolicy`` (the one place scope is
decided), so a button is shown exactly when the use case would accept the command.
"""

from __future__ import annotations

import threading
import time

from flask import current_app
from flask_login import current_user

from service.access import ADMIN, AGENCY_OFFICER, CASE_WORKER, SUPERVISOR, Actor
from service.container import Konvergen
from service.errors import Forbidden


def konvergen() -> Konvergen:
    return current_app.extensions["konvergen"]


def current_actor() -> Actor:
    return current_user.actor


def may_register(actor: Actor) -> bool:
    return actor.role in (CASE_WORKER, SUPERVISOR, ADMIN)


def may_change(actor: Actor, village_code: str) -> bool:
    """Any change that is not an agency's own intervention (members, categories...)."""
    try:
        konvergen().households.access.check_change(actor, village_code)
    except Forbidden:
        return False
    return True


def may_record_intervention(actor: Actor, village_code: str, agency: str | None = None) -> bool:
    """Agency officers record their own agency's interventions anywhere."""
    if actor.role == AGENCY_OFFICER:
        return agency is None or agency == actor.agency
    return may_change(actor, village_code)


def has_visits(actor: Actor) -> bool:
    """Who gets the "Kunjungan saya" page: those who visit, and their supervisors."""
    return actor.role in (CASE_WORKER, SUPERVISOR, ADMIN)


class TimedCache:
    """Answers kept for a few seconds per process: who is signed in, people's names.

    Every page needs the signed-in user, and the household page everyone's names; a
    database round trip for each costs more than the rest of a small page. A user who
    is deactivated or renamed is seen as such within ``seconds``.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._entries: dict = {}
        self._lock = threading.Lock()

    def get(self, key, load):
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and now - entry[0] < self.seconds:
            return entry[1]
        value = load()
        with self._lock:
            if len(self._entries) > 10000:
                self._entries.clear()
            self._entries[key] = (now, value)
        return value


USER_CACHE_CONFIG = "KONVERGEN_USER_CACHE_SECONDS"
DEFAULT_USER_CACHE_SECONDS = 5.0


def _cache(name: str) -> TimedCache:
    caches = current_app.extensions.setdefault("konvergen_web_caches", {})
    if name not in caches:
        caches[name] = TimedCache(float(current_app.config.get(USER_CACHE_CONFIG, DEFAULT_USER_CACHE_SECONDS)))
    return caches[name]


def signed_in_actor(username: str) -> Actor | None:
    """The active user's actor (None when unknown or deactivated), briefly cached."""
    return _cache("actors").get(username, lambda: konvergen().users.actor(username))


def display_names() -> dict[str, str]:
    """username -> display name, for timelines and lists (briefly cached)."""
    return _cache("names").get("all", lambda: {u["username"]: u["display_name"] for u in konvergen().users.list_users()})
