"""Property: whatever commands happen, and however the catch-ups interleave with them,
the live views equal a fresh replay of the events (row for row, every table)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from types import SimpleNamespace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

from domain.errors import DomainError
from domain.reference import RegionCatalogue
from projection_builders import ADMIN, CILEUNYI_KULON, CILEUNYI_WETAN, PADASUKA, Cases, nik
from projections.runner import build_engine
from projections.verify import verify
from service.clock import FixedClock
from service.households import Households
from service.reference import programme_catalogue, read_region_file, shipped_region_file

VILLAGES = (CILEUNYI_KULON, CILEUNYI_WETAN, PADASUKA)
PROGRAMMES = (("pkh", "dinsos"), ("pbi_jk", "dinkes"), ("rtlh", "disperkim"), ("pip", "disdik"))
CATEGORIES = ("miskin_ekstrem", "miskin", "rentan", "tidak_miskin")
COMMANDS = (
    "register", "categorise", "plan", "deliver", "cancel", "schedule", "reschedule", "complete",
    "drop_follow_up", "add_member", "member_left", "correct_nik", "rename_head", "move", "change_kk",
    "graduate", "close", "reopen", "catch_up",
)


class Story:
    """Plays a generated command against the service; refusals change nothing."""

    def __init__(self, konvergen):
        self.cases = Cases(konvergen)
        self.households = konvergen.households
        self.ids: list[str] = []
        self.serial = 1000

    def pick(self, number: int) -> str | None:
        return self.ids[number % len(self.ids)] if self.ids else None

    def state(self, household: str) -> dict:
        return self.households.get_household(ADMIN, household)

    def play(self, command: str, a: int, b: int) -> None:
        if command == "register" or not self.ids:
            self.ids.append(self.cases.register(name=f"Warga {a % 50}", village=VILLAGES[b % 3], members=b % 3))
            return
        household, h = self.pick(a), self.households
        state = self.state(household)
        interventions = [i["id"] for i in state["interventions"]]
        follow_ups = [f["id"] for f in state["follow_ups"]]
        head = state["head"]["nik"]
        niks = [m["nik"] for m in state["members"] if m["nik"] != head and m["status"] == "present"]
        if command == "categorise":
            self.cases.categorise(household, CATEGORIES[b % 4], desil=b % 10 + 1, effective_on=date(2026, 1 + b % 11, 1))
        elif command == "plan":
            programme, agency = PROGRAMMES[b % 4]
            self.cases.plan(household, programme, agency, value=b * 1000 or None,
                            delivered_on=date(2026, 11, 2) if b % 3 == 0 else None)
        elif command == "deliver" and interventions:
            self.cases.deliver(household, interventions[b % len(interventions)], value=b * 500 if b % 2 else None)
        elif command == "cancel" and interventions:
            self.cases.cancel(household, interventions[b % len(interventions)])
        elif command == "schedule":
            self.cases.schedule(household, due_on=date(2026, 12, 1 + b % 28), assignee=f"pendamping{b % 3}")
        elif command == "reschedule" and follow_ups:
            h.reschedule_follow_up(ADMIN, household, follow_ups[b % len(follow_ups)], due_on=date(2027, 1, 1 + b % 28),
                                   assigned_to=f"pendamping{a % 3}", reason="jadwal")
        elif command == "complete" and follow_ups:
            h.complete_follow_up(ADMIN, household, follow_ups[b % len(follow_ups)], completed_on=date(2026, 11, 28),
                                 outcome="ditemui")
        elif command == "drop_follow_up" and follow_ups:
            h.cancel_follow_up(ADMIN, household, follow_ups[b % len(follow_ups)], reason="batal")
        elif command == "add_member":
            self.serial += 1
            h.add_member(ADMIN, household, member={"nik": nik(self.serial), "name": f"Anak {b}", "sex": "L",
                                                   "birth_date": date(1980, 3, 12), "relationship": "anak"})
        elif command == "member_left" and niks:
            h.record_member_left(ADMIN, household, niks[b % len(niks)], reason="moved", left_on=date(2026, 11, 1))
        elif command == "correct_nik":
            self.serial += 1
            target = ([head] + niks)[b % (len(niks) + 1)]
            h.correct_member(ADMIN, household, target, changes={"nik": nik(self.serial), "name": f"Nama {b}"},
                             reason="salah ketik")
        elif command == "rename_head":
            h.correct_identification(ADMIN, household, head_name=f"Kepala {b}", reason="ejaan")
        elif command == "move":
            self.cases.move(household, VILLAGES[b % 3])
        elif command == "change_kk":
            self.serial += 1
            h.change_kk(ADMIN, household, new_kk_number=f"3205{self.serial:012d}", reason="reissue",
                        effective_on=date(2026, 11, 1))
        elif command == "graduate":
            self.cases.graduate(household)
        elif command == "close":
            self.cases.close(household)
        elif command == "reopen":
            self.cases.reopen(household)


story_steps = st.lists(
    st.tuples(st.sampled_from(COMMANDS), st.integers(0, 10_000), st.integers(0, 10_000)), min_size=1, max_size=35
)


def load_regions() -> RegionCatalogue:
    with open(shipped_region_file(), encoding="utf-8-sig") as stream:
        return RegionCatalogue(read_region_file(stream))


REGIONS = load_regions()
PROGRAMME_CATALOGUE = programme_catalogue()


def small_service() -> SimpleNamespace:
    """Just what the story and the engine use: the use cases on an in-memory event
    store and an empty in-memory database for the views (a whole Konvergen, with its
    users and reference tables, takes longer to make than an example takes to run)."""
    clock = FixedClock(datetime(2026, 11, 28, 3, 0, tzinfo=timezone.utc))
    households = Households(
        {"PERSISTENCE_MODULE": "eventsourcing.popo"}, regions=REGIONS, programmes=PROGRAMME_CATALOGUE, clock=clock
    )
    views = create_engine("sqlite+pysqlite://", poolclass=StaticPool)
    return SimpleNamespace(households=households, regions=REGIONS, clock=clock, storage=SimpleNamespace(kind="memory", engine=views))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=story_steps)
def test_live_views_caught_up_between_any_commands_equal_a_replay_of_the_events(steps):
    konvergen = small_service()
    try:
        engine = build_engine(konvergen)
        engine.prepare()
        story = Story(konvergen)
        for command, a, b in steps:
            if command == "catch_up":
                engine.catch_up(batch_size=b % 6 + 1)  # catch-ups of every size, mid-story
                continue
            try:
                story.play(command, a, b)
            except DomainError:
                pass  # refused: nothing was recorded
        engine.catch_up(batch_size=4)

        report = verify(engine, scratch=create_engine("sqlite+pysqlite://", poolclass=StaticPool))

        assert report.ok, "\n".join(d.describe() for d in report.differences)
        assert set(engine.positions().values()) == {engine.log.head()}
    finally:
        konvergen.households.close()
        konvergen.storage.engine.dispose()
