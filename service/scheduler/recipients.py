"""Who receives what: assignees, the kecamatan's supervisors, and their email addresses.

Loaded once per pass from the users table (read only) and the scheduler's own
``user_contacts`` table, so deciding 10,000 reminders costs two queries, not 10,000.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from domain.errors import InvalidValue
from service.access import ADMIN, SUPERVISOR
from service.scheduler.tables import UserContact, ensure_tables
from service.users import User

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Person:
    username: str
    role: str
    kecamatan: str | None
    language: str | None
    email: str | None


class RecipientDirectory:
    def __init__(self, people: list[Person]):
        self._people = {p.username: p for p in people}
        self._supervisors: dict[str, list[str]] = defaultdict(list)
        for person in people:
            if person.role == SUPERVISOR and person.kecamatan:
                self._supervisors[person.kecamatan].append(person.username)
        self._admins = sorted(p.username for p in people if p.role == ADMIN)

    @classmethod
    def load(cls, engine: Engine) -> RecipientDirectory:
        """Active users only: a deactivated supervisor gets no escalations."""
        ensure_tables(engine)
        with engine.connect() as conn:
            emails = dict(conn.execute(select(UserContact.username, UserContact.email)).all())
            rows = conn.execute(
                select(User.username, User.role, User.kecamatan, User.language).where(User.active.is_(True))
            ).all()
        return cls([Person(u, role, kec, lang, emails.get(u)) for u, role, kec, lang in rows])

    def person(self, username: str) -> Person | None:
        return self._people.get(username)

    def supervisors_of(self, kecamatan_code: str | None) -> list[str]:
        return sorted(self._supervisors.get(kecamatan_code or "", []))

    @property
    def supervisors_by_kecamatan(self) -> dict[str, list[str]]:
        return {k: sorted(v) for k, v in self._supervisors.items()}

    def administrators(self) -> list[str]:
        return list(self._admins)


def set_email(engine: Engine, username: str, email: str | None) -> None:
    """Sets (or with None, removes) where a user's reminders are emailed."""
    ensure_tables(engine)
    with Session(engine) as session:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            raise InvalidValue("username", f"no user {username}")
        contact = session.get(UserContact, username)
        if email is None:
            if contact is not None:
                session.delete(contact)
        else:
            email = email.strip()
            if not _EMAIL.match(email) or len(email) > 320:
                raise InvalidValue("email", f"{email!r} is not an email address")
            if contact is None:
                session.add(UserContact(username=username, email=email))
            else:
                contact.email = email
        session.commit()


def email_of(engine: Engine, username: str) -> str | None:
    ensure_tables(engine)
    with engine.connect() as conn:
        return conn.execute(select(UserContact.email).where(UserContact.username == username)).scalar_one_or_none()
