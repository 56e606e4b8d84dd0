"""Small helpers every web view uses: the service, the signed-in actor, permissions.

Permissions are asked of the service's ``AccessPolicy`` (the one place scope is
decided), so a button is shown exactly when the use case would accept the command.
"""

from __future__ import annotations

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
