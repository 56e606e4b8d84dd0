"""Households, people and a forger's tools for the audit tests."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta
from uuid import UUID

from service.access import Actor
from service.clock import WIB

CILEUNYI_KULON = "32.04.05.2001"  # kecamatan Cileunyi (32.04.05)
CILEUNYI_WETAN = "32.04.05.2002"
PADASUKA = "32.04.06.1001"  # kecamatan Cimenyan (32.04.06)
CILEUNYI, CIMENYAN = "32.04.05", "32.04.06"

ADMIN = Actor(username="admin", role="admin", display_name="Admin")
AUDITOR = Actor(username="inspektorat", role="auditor", display_name="Inspektorat")
SUPERVISOR = Actor(username="kasi.cileunyi", role="supervisor", kecamatan=CILEUNYI)
FAR_SUPERVISOR = Actor(username="kasi.cimenyan", role="supervisor", kecamatan=CIMENYAN)
CASE_WORKER = Actor(username="asep", role="case_worker", villages=frozenset({CILEUNYI_KULON}))
DINSOS = Actor(username="officer.dinsos", role="agency_officer", agency="dinsos")


def wib(year: int, month: int, day: int, hour: int = 10, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=WIB)


def register(households, n: int = 1, *, village: str = CILEUNYI_KULON, actor: Actor = ADMIN) -> str:
    """Registers household number ``n`` (distinct KK and head) and returns its id."""
    kk = f"32040501012{n:05d}"
    head = {"nik": f"320405120380{n:04d}", "name": f"Kepala {n}", "sex": "L", "birth_date": date(1980, 3, 12)}
    address = {"street": f"Jl. Raya {n}", "rt": "1", "rw": "2", "village_code": village}
    return households.register_household(actor, kk_number=kk, head=head, address=address)["id"]


def categorise(households, household_id, category="miskin_ekstrem", desil=1, effective_on=None, actor=ADMIN):
    return households.categorise(
        actor, household_id, category=category, desil=desil, source="field_verification",
        effective_on=effective_on or households.clock.today(), reason="verifikasi lapangan",
    )


def plan(households, household_id, programme="pkh", agency="dinsos", planned_on=None, actor=ADMIN, **extra):
    return households.plan_intervention(
        actor, household_id, programme=programme, agency=agency,
        planned_on=planned_on or households.clock.today(), value_idr=600_000, **extra,
    )


def days_later(clock, days: int, hour: int | None = None) -> None:
    at = clock.now() + timedelta(days=days)
    if hour is not None:
        at = at.astimezone(WIB).replace(hour=hour, minute=0, second=0, microsecond=0)
    clock.move_to(at)


class Forger:
    """Edits the event store behind the service's back, as someone with database access could."""

    def __init__(self, konvergen):
        self.konvergen = konvergen
        self.recorder = konvergen.households.recorder
        self.kind = konvergen.storage.kind
        self.events = self.recorder.events_table_name
        self.chain = self.recorder.chain_table

    def _oid(self, household_id):
        uuid = UUID(str(household_id))
        return uuid.hex if self.kind == "sqlite" else uuid

    def execute(self, sql: str, params=()):
        if self.kind == "sqlite":
            with sqlite3.connect(self.konvergen.storage.eventstore_env["SQLITE_DBNAME"]) as conn:
                rows = conn.execute(sql, params).fetchall()
            conn.close()
            return rows
        import psycopg

        env = self.konvergen.storage.eventstore_env
        with psycopg.connect(
            dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"], autocommit=True,
        ) as conn:
            cursor = conn.execute(sql.replace("?", "%s"), params)
            return cursor.fetchall() if cursor.description else []

    def state(self, household_id, version: int) -> bytes:
        rows = self.execute(
            f"SELECT state FROM {self.events} WHERE originator_id=? AND originator_version=?",
            (self._oid(household_id), version),
        )
        return bytes(rows[0][0])

    def set_state(self, household_id, version: int, state: bytes) -> None:
        self.execute(
            f"UPDATE {self.events} SET state=? WHERE originator_id=? AND originator_version=?",
            (state, self._oid(household_id), version),
        )

    def delete(self, household_id, version: int) -> None:
        self.execute(
            f"DELETE FROM {self.events} WHERE originator_id=? AND originator_version=?",
            (self._oid(household_id), version),
        )

    def swap_states(self, household_id, a: int, b: int) -> None:
        first, second = self.state(household_id, a), self.state(household_id, b)
        self.set_state(household_id, a, second)
        self.set_state(household_id, b, first)

    def swap_versions(self, household_id, a: int, b: int) -> None:
        oid = self._oid(household_id)
        for old, new in ((a, -1), (b, a), (-1, b)):
            self.execute(
                f"UPDATE {self.events} SET originator_version=? WHERE originator_id=? AND originator_version=?",
                (new, oid, old),
            )

    def rewrite_chain_row(self, household_id, version: int, **columns: str) -> None:
        """Drops the append-only guard and rewrites a chain row's columns (content_hash,
        prev_hash, hash), as a careful forger would."""
        if self.kind == "sqlite":
            self.execute(f"DROP TRIGGER IF EXISTS {self.chain}_no_update")
        else:
            self.execute(f"ALTER TABLE {self.chain} DISABLE TRIGGER USER")
        assignments = ", ".join(f"{column}=?" for column in columns)
        self.execute(
            f"UPDATE {self.chain} SET {assignments} WHERE originator_id=? AND originator_version=?",
            (*columns.values(), self._oid(household_id), version),
        )
