"""Builders for projection tests: household commands through the service, and view rows.

``Cases`` drives ``konvergen.households`` as an administrator with valid people and
addresses, numbering KKs and NIKs so every household is distinct; ``rows`` reads a
view table in key order as plain dicts.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from service.access import Actor

ADMIN = Actor(username="admin", role="admin", display_name="Admin")
TODAY = date(2026, 11, 28)  # the FixedClock's date in WIB

CILEUNYI = "32.04.05"
CILEUNYI_KULON = "32.04.05.2001"
CILEUNYI_WETAN = "32.04.05.2002"
CIMENYAN = "32.04.06"
PADASUKA = "32.04.06.1001"  # a kelurahan in Cimenyan


def nik(serial: int, *, sex: str = "L", born: date = date(1980, 3, 12)) -> str:
    day = born.day + (40 if sex == "P" else 0)
    return f"320405{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


class Cases:
    """Household commands for tests, with the ids they made."""

    def __init__(self, konvergen, actor: Actor = ADMIN):
        self.konvergen = konvergen
        self.households = konvergen.households
        self.actor = actor
        self.serial = 0
        # Follow-ups name an assignee; these tests are not about the user directory.
        self.households.user_exists = lambda username: True

    def register(self, *, name: str = "Asep Sunandar", village: str = CILEUNYI_KULON, members: int = 1,
                 location: dict | None = None) -> str:
        self.serial += 1
        base = self.serial * 10
        people = [
            {"nik": nik(base + n, sex="P" if n == 1 else "L", born=date(1985 + n, 6, 15)), "name": f"Anggota {n}",
             "sex": "P" if n == 1 else "L", "birth_date": date(1985 + n, 6, 15),
             "relationship": "istri" if n == 1 else "anak"}
            for n in range(1, members + 1)
        ]
        result = self.households.register_household(
            self.actor,
            kk_number=f"3204{self.serial:012d}",
            head={"nik": nik(base), "name": name, "sex": "L", "birth_date": date(1980, 3, 12)},
            address={"street": "Jl. Cileunyi", "rt": "3", "rw": "7", "village_code": village},
            members=people,
            location=location,
        )
        return result["id"]

    def head_nik(self, household_id: str) -> str:
        return self.households.get_household(self.actor, household_id)["head"]["nik"]

    def member_niks(self, household_id: str) -> list[str]:
        household = self.households.get_household(self.actor, household_id)
        return [m["nik"] for m in household["members"] if m["nik"] != household["head"]["nik"]]

    def categorise(self, household_id: str, category: str = "miskin_ekstrem", *, desil: int | None = 1,
                   effective_on: date = date(2026, 3, 1)) -> dict:
        return self.households.categorise(
            self.actor, household_id, category=category, desil=desil, source="p3ke_dtsen_import",
            effective_on=effective_on, reason="P3KE 2026",
        )

    def plan(self, household_id: str, programme: str = "pkh", agency: str = "dinsos", *, value: int | None = 750_000,
             delivered_on: date | None = None) -> str:
        result = self.households.plan_intervention(
            self.actor, household_id, programme=programme, agency=agency, planned_on=date(2026, 11, 1),
            value_idr=value, delivered_on=delivered_on,
        )
        return result["intervention_id"]

    def deliver(self, household_id: str, intervention_id: str, *, value: int | None = None) -> dict:
        return self.households.deliver_intervention(
            self.actor, household_id, intervention_id, delivered_on=date(2026, 11, 20), value_idr=value
        )

    def cancel(self, household_id: str, intervention_id: str) -> dict:
        return self.households.cancel_intervention(self.actor, household_id, intervention_id, reason="dialihkan")

    def schedule(self, household_id: str, *, due_on: date = date(2026, 12, 5), assignee: str = "asep.pendamping",
                 purpose: str = "Kunjungan rumah") -> str:
        result = self.households.schedule_follow_up(
            self.actor, household_id, due_on=due_on, assigned_to=assignee, purpose=purpose
        )
        return result["follow_up_id"]

    def graduate(self, household_id: str, *, effective_on: date = date(2026, 10, 15)) -> dict:
        return self.households.graduate(self.actor, household_id, effective_on=effective_on, reason="verifikasi")

    def close(self, household_id: str) -> dict:
        return self.households.close_household(
            self.actor, household_id, reason="moved_away", effective_on=date(2026, 11, 1)
        )

    def reopen(self, household_id: str) -> dict:
        return self.households.reopen_household(self.actor, household_id, reason="kembali")

    def move(self, household_id: str, village: str) -> dict:
        return self.households.correct_identification(
            self.actor, household_id, address={"village_code": village}, reason="alamat salah"
        )


def make_history(cases, households: int = 4) -> None:
    """A few households in both categories, with delivered and planned help and visits."""
    for n in range(households):
        household = cases.register(name=f"Warga {n}", members=n % 3)
        cases.categorise(household, "miskin_ekstrem" if n % 2 else "miskin")
        intervention = cases.plan(household, "pkh", "dinsos")
        if n % 2:
            cases.deliver(household, intervention)
        cases.schedule(household)


def rows(konvergen, table, **where) -> list[dict]:
    """A view table's rows in primary-key order, optionally narrowed by column values."""
    statement = select(table).order_by(*table.primary_key.columns)
    for column, value in where.items():
        statement = statement.where(table.c[column] == value)
    with konvergen.storage.engine.connect() as conn:
        return [dict(row) for row in conn.execute(statement).mappings()]


def spy_on_the_shared_rebuild(monkeypatch) -> dict[str, list]:
    """Records the workers asked of ``rebuild_in_processes`` and the sets it hands
    its processes, so a test can tell the shared rebuild ran and was not skipped
    for the single-process one (which builds the same views)."""
    from projections import parallel

    seen: dict[str, list] = {"workers": [], "sets": []}
    real_rebuild, real_split = parallel.rebuild_in_processes, parallel.split

    def rebuild_in_processes(engine, names, workers, **options):
        seen["workers"].append(workers)
        return real_rebuild(engine, names, workers, **options)

    def split_spy(projections, workers):
        sets = real_split(projections, workers)
        seen["sets"].append(sets)
        return sets

    monkeypatch.setattr(parallel, "rebuild_in_processes", rebuild_in_processes)
    monkeypatch.setattr(parallel, "split", split_spy)
    return seen
