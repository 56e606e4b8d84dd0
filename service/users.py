"""Users and API tokens: passwords hashed with argon2, tokens stored only as hashes."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship, sessionmaker

from domain.errors import InvalidValue
from domain.reference import ProgrammeCatalogue, RegionCatalogue
from service.access import (
    AGENCY_OFFICER,
    CASE_WORKER,
    ROLES,
    SUPERVISOR,
    Actor,
)
from service.clock import Clock
from service.db import Base

_hasher = PasswordHasher()
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
TOKEN_PREFIX = "kvg_"
MIN_PASSWORD_LENGTH = 10


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    villages: Mapped[str] = mapped_column(Text, default="")  # comma-separated codes
    kecamatan: Mapped[str | None] = mapped_column(String(20), nullable=True)
    agency: Mapped[str | None] = mapped_column(String(40), nullable=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8), default="id")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    def to_actor(self) -> Actor:
        return Actor(
            username=self.username,
            role=self.role,
            villages=frozenset(v for v in self.villages.split(",") if v),
            kecamatan=self.kecamatan,
            agency=self.agency,
            display_name=self.display_name,
        )


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    user: Mapped[User] = relationship(back_populates="tokens")


def normal_username(username: str | None) -> str:
    """Usernames are stored lower-case; look-ups forgive the case people type."""
    return (username or "").strip().lower()


def _token_hash(token: str) -> str:
    # Tokens are 256 random bits, so a fast hash is enough; passwords get argon2.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class UserDirectory:
    """Use cases about people: create, authenticate, issue tokens, look up."""

    def __init__(
        self,
        sessions: sessionmaker,
        regions: RegionCatalogue,
        programmes: ProgrammeCatalogue,
        clock: Clock,
    ):
        self.sessions = sessions
        self.regions = regions
        self.programmes = programmes
        self.clock = clock

    def create_user(
        self,
        *,
        username: str,
        password: str,
        role: str,
        display_name: str | None = None,
        villages: list[str] | None = None,
        kecamatan: str | None = None,
        agency: str | None = None,
        language: str = "id",
    ) -> dict:
        username = normal_username(username)
        if not _USERNAME.match(username):
            raise InvalidValue("username", "use 2-64 lower-case letters, digits, dot, dash or underscore")
        if role not in ROLES:
            raise InvalidValue("role", f"must be one of {', '.join(ROLES)}")
        if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
            raise InvalidValue("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
        villages = [v.strip() for v in (villages or []) if v.strip()]
        for code in villages:
            self.regions.check_village(code, "villages")
        if role == CASE_WORKER and not villages:
            raise InvalidValue("villages", "a case worker needs at least one village")
        if role != CASE_WORKER and villages:
            raise InvalidValue("villages", "only case workers are scoped to villages")
        if role == SUPERVISOR:
            if not kecamatan:
                raise InvalidValue("kecamatan", "a supervisor needs a kecamatan")
            self.regions.check_kecamatan(kecamatan)
        elif kecamatan:
            raise InvalidValue("kecamatan", "only supervisors are scoped to a kecamatan")
        if role == AGENCY_OFFICER:
            if not agency:
                raise InvalidValue("agency", "an agency officer needs an agency")
            self.programmes.check_agency(agency)
        elif agency:
            raise InvalidValue("agency", "only agency officers belong to an agency")
        with self.sessions() as session:
            if session.scalar(select(User.id).where(User.username == username)) is not None:
                raise InvalidValue("username", f"{username} already exists")
            user = User(
                username=username,
                display_name=(display_name or username).strip(),
                role=role,
                villages=",".join(villages),
                kecamatan=kecamatan or None,
                agency=agency or None,
                password_hash=_hasher.hash(password),
                language=language,
                active=True,
                created_at=self.clock.now(),
            )
            session.add(user)
            session.commit()
            return self._describe(user)

    def authenticate(self, username: str, password: str) -> Actor | None:
        """The actor for a correct password, else None (same answer for unknown users)."""
        with self.sessions() as session:
            user = session.scalar(select(User).where(User.username == normal_username(username)))
            if user is None or not user.active:
                # Spend the same effort so response time does not reveal usernames.
                _hasher.hash(password or "x")
                return None
            try:
                _hasher.verify(user.password_hash, password or "")
            except (VerificationError, InvalidHashError):
                return None
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = _hasher.hash(password)
                session.commit()
            return user.to_actor()

    def issue_token(self, username: str) -> str:
        """A new API token for the user; only its hash is kept, so it is shown once."""
        with self.sessions() as session:
            user = session.scalar(select(User).where(User.username == normal_username(username)))
            if user is None:
                raise InvalidValue("username", f"no user {username}")
            token = TOKEN_PREFIX + secrets.token_urlsafe(32)
            session.add(ApiToken(user_id=user.id, token_hash=_token_hash(token), created_at=self.clock.now()))
            session.commit()
            return token

    def actor_for_token(self, token: str) -> Actor | None:
        if not token or not token.startswith(TOKEN_PREFIX):
            return None
        with self.sessions() as session:
            row = session.scalar(
                select(ApiToken).where(ApiToken.token_hash == _token_hash(token), ApiToken.revoked.is_(False))
            )
            if row is None or not row.user.active:
                return None
            return row.user.to_actor()

    def actor(self, username: str) -> Actor | None:
        with self.sessions() as session:
            user = session.scalar(select(User).where(User.username == normal_username(username)))
            return user.to_actor() if user and user.active else None

    def exists(self, username: str) -> bool:
        return self.actor(username) is not None

    def set_language(self, username: str, language: str) -> None:
        with self.sessions() as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is not None:
                user.language = language
                session.commit()

    def language(self, username: str) -> str | None:
        with self.sessions() as session:
            return session.scalar(select(User.language).where(User.username == username))

    def list_users(self) -> list[dict]:
        with self.sessions() as session:
            return [self._describe(u) for u in session.scalars(select(User).order_by(User.username))]

    def count(self) -> int:
        with self.sessions() as session:
            return session.scalar(select(func.count()).select_from(User))

    @staticmethod
    def _describe(user: User) -> dict:
        return {
            "username": user.username,
            "display_name": user.display_name,
            "role": user.role,
            "villages": [v for v in user.villages.split(",") if v],
            "kecamatan": user.kecamatan,
            "agency": user.agency,
            "language": user.language,
        }
