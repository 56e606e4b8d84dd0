"""Households, people and a stand-in follow-up source for the scheduler tests.

``CaseFileFollowUps`` reads the open follow-ups of the households a test created
straight from the case file: a test double for the follow-up read model, which it can
also make lag (``freeze``) to show that a stale row never produces a wrong reminder.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from service.access import SYSTEM_ACTOR, Actor
from service.clock import WIB
from service.scheduler.config import SchedulerConfig
from service.scheduler.rules import OpenFollowUp

VILLAGE = "32.04.05.2001"  # Cileunyi Kulon, kec. Cileunyi (32.04.05)
KECAMATAN = "32.04.05"
FAR_VILLAGE = "32.04.06.1001"  # Padasuka, kec. Cimenyan (32.04.06)
FAR_KECAMATAN = "32.04.06"
ADMIN = Actor(username="admin", role="admin")
PASSWORD = "rahasia-sekali"
TODAY = date(2026, 11, 28)


def morning(day: date) -> datetime:
    """07:00 WIB on ``day``, as the aware UTC instant a clock answers."""
    return datetime.combine(day, time(7, 0), tzinfo=WIB).astimezone(timezone.utc)


def people(konvergen) -> None:
    """A case worker per kecamatan, their supervisors, and an administrator."""
    users = konvergen.users
    users.create_user(username="asep", password=PASSWORD, role="case_worker", villages=[VILLAGE])
    users.create_user(username="euis", password=PASSWORD, role="case_worker", villages=[FAR_VILLAGE])
    users.create_user(username="kasi.cileunyi", password=PASSWORD, role="supervisor", kecamatan=KECAMATAN)
    users.create_user(username="kasi.cimenyan", password=PASSWORD, role="supervisor", kecamatan=FAR_KECAMATAN)
    users.create_user(username="admin", password=PASSWORD, role="admin")


def register(konvergen, number: int, village: str = VILLAGE) -> str:
    kk = f"3204050101{number:06d}"
    head = {"nik": f"3204051203{80 + number % 20:02d}{number % 10000:04d}", "name": f"Kepala {number}", "sex": "L", "birth_date": date(1900 + 80 + number % 20, 3, 12)}
    address = {"street": "Jl. Raya 1", "rt": "1", "rw": "2", "village_code": village}
    return konvergen.households.register_household(ADMIN, kk_number=kk, head=head, address=address)["id"]


def schedule(konvergen, household_id: str, due_on: date, assigned_to: str = "asep", purpose: str = "Cek kondisi rumah") -> str:
    return konvergen.households.schedule_follow_up(
        ADMIN, household_id, due_on=due_on, assigned_to=assigned_to, purpose=purpose
    )["follow_up_id"]


class CaseFileFollowUps:
    """Open follow-ups of the given households, read from the case file."""

    def __init__(self, konvergen, household_ids=()):
        self.konvergen = konvergen
        self.household_ids = list(household_ids)
        self.frozen: list[OpenFollowUp] | None = None
        self.reads = 0

    def add(self, household_id: str) -> None:
        self.household_ids.append(household_id)

    def current(self) -> list[OpenFollowUp]:
        rows = []
        regions = self.konvergen.regions
        for household_id in self.household_ids:
            household = self.konvergen.households.get_household(SYSTEM_ACTOR, household_id)
            village = household["address"]["village_code"]
            for item in household["follow_ups"]:
                if item["status"] == "open" and household["status"] != "closed":
                    rows.append(
                        OpenFollowUp(
                            household_id=household_id,
                            follow_up_id=item["id"],
                            due_on=item["due_on"],
                            assigned_to=item["assigned_to"],
                            village_code=village,
                            kecamatan_code=regions.kecamatan_of(village),
                            purpose=item["purpose"],
                        )
                    )
        return rows

    def freeze(self) -> None:
        """From now on answer what the case file says now: a read model that lags."""
        self.frozen = self.current()

    def open_follow_ups(self, due_until: date) -> list[OpenFollowUp]:
        self.reads += 1
        rows = self.frozen if self.frozen is not None else self.current()
        return [row for row in rows if row.due_on <= due_until]


def reminder_events(konvergen, household_id: str) -> list[dict]:
    return [
        event["data"]
        for event in konvergen.households.history(ADMIN, household_id)
        if event["type"] == "ReminderSent"
    ]


def sent_keys(konvergen, household_ids) -> list[tuple[str, str, date]]:
    """Every (kind, follow-up, due date) recorded on these households, repeats kept."""
    keys = []
    for household_id in household_ids:
        for data in reminder_events(konvergen, household_id):
            keys.append((data["kind"], data["follow_up_id"], data["due_on"]))
    return keys


def days(start: date, count: int):
    for offset in range(count):
        yield start + timedelta(days=offset)


QUICK = SchedulerConfig(lease_seconds=30)
