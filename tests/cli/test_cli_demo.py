"""`konvergen demo` and the library function behind it."""

from __future__ import annotations

import stat
from collections import Counter
from datetime import date

import pytest
from argon2 import PasswordHasher
from cli_helpers import all_households, error_lines, invoke, opened, registrations

import service.users
from domain.identity import check_nik
from service.access import ROLES
from service.clock import Clock
from service.demo import LAT_RANGE, LON_RANGE, generate_demo

ALL_VILLAGES = 280
pytestmark = pytest.mark.slow  # a few seconds: a demo over every village, and three small ones


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """One demo over every village, shared by the tests that only read it."""
    folder = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{folder / 'konvergen.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(service.users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        result = invoke(url, "demo", "--households", str(ALL_VILLAGES), "--seed", "11")
        assert result.exit_code == 0, result.output
        with opened(url) as konvergen:
            households = all_households(konvergen)
            users = konvergen.users.list_users()
            regions = konvergen.regions
        yield {"url": url, "folder": folder, "result": result, "households": households, "users": users,
               "regions": regions, "today": Clock().today()}


def test_the_demo_registers_households_in_every_village_of_kabupaten_bandung(demo_run):
    villages = {h["address"]["village_code"] for h in demo_run["households"]}

    assert len(demo_run["households"]) == ALL_VILLAGES
    assert len(villages) == ALL_VILLAGES
    assert all(code.startswith("32.04.") for code in villages)


def test_demo_identity_numbers_agree_with_sex_birth_date_and_kecamatan(demo_run):
    regions = demo_run["regions"]
    kk_numbers = [h["kk_number"] for h in demo_run["households"]]
    assert len(set(kk_numbers)) == len(kk_numbers)
    for household in demo_run["households"]:
        kecamatan = regions.kecamatan_of(household["address"]["village_code"])
        assert household["kk_number"].startswith(kecamatan.replace(".", ""))
        for member in household["members"]:
            check_nik(member["nik"], sex=member["sex"])
            day = member["birth_date"].day + (40 if member["sex"] == "P" else 0)
            assert member["nik"][6:12] == member["birth_date"].strftime(f"{day:02d}%m%y")


def test_demo_households_have_families_and_some_have_coordinates_inside_the_district(demo_run):
    households = demo_run["households"]
    relationships = Counter(m["relationship"] for h in households for m in h["members"])
    located = [h["location"] for h in households if h["location"]]

    assert relationships["istri"] > 0 and relationships["anak"] > relationships["istri"]
    assert 0 < len(located) < len(households)
    for point in located:
        assert LAT_RANGE[0] <= point["lat"] <= LAT_RANGE[1]
        assert LON_RANGE[0] <= point["lon"] <= LON_RANGE[1]


def test_demo_categorises_mostly_as_extremely_poor_with_low_desil(demo_run):
    first = [h["categorisations"][0] for h in demo_run["households"]]
    categories = Counter(c["category"] for c in first)

    assert categories["miskin_ekstrem"] > len(first) / 2
    assert categories["miskin"] > 0 and categories["rentan"] > 0
    assert {c["desil"] for c in first if c["category"] == "miskin_ekstrem"} == {1, 2}


def test_demo_interventions_come_from_several_agencies_in_every_status(demo_run):
    interventions = [i for h in demo_run["households"] for i in h["interventions"]]

    assert len({i["agency"] for i in interventions}) >= 4
    assert {i["status"] for i in interventions} == {"planned", "delivered", "cancelled"}


def test_demo_leaves_some_follow_ups_overdue_today_and_others_still_due(demo_run):
    today = demo_run["today"]
    open_follow_ups = [f for h in demo_run["households"] for f in h["follow_ups"] if f["status"] == "open"]

    assert any(f["due_on"] < today for f in open_follow_ups)
    assert any(f["due_on"] >= today for f in open_follow_ups)


def test_demo_graduates_a_few_households(demo_run):
    statuses = Counter(h["status"] for h in demo_run["households"])

    assert 0 < statuses["graduated"] < len(demo_run["households"]) / 10


def test_the_demo_creates_a_user_of_every_role_and_prints_logins_that_work(demo_run):
    assert {user["role"] for user in demo_run["users"]} == set(ROLES)
    output = demo_run["result"].stdout
    logins_file = demo_run["folder"] / "demo-logins.txt"
    assert str(logins_file) in output
    saved = [line.split() for line in logins_file.read_text().splitlines() if not line.startswith("#")]
    assert {role for _, role, *_ in saved} == set(ROLES)
    with pytest.MonkeyPatch.context() as patch, opened(demo_run["url"]) as konvergen:
        patch.setattr(service.users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        for username, role, password, *_ in saved:
            assert konvergen.users.authenticate(username, password).role == role
            if username.startswith("demo."):
                assert password in output  # the one login per role is printed too


def test_the_logins_file_is_readable_only_by_its_owner(demo_run):
    mode = (demo_run["folder"] / "demo-logins.txt").stat().st_mode

    assert stat.S_IMODE(mode) == 0o600


def test_the_demo_case_worker_covers_villages_with_demo_households(demo_run):
    worker = next(u for u in demo_run["users"] if u["username"] == "demo.pendamping")
    villages_with_households = {h["address"]["village_code"] for h in demo_run["households"]}

    assert worker["villages"] and set(worker["villages"]) <= villages_with_households


def test_a_second_demo_on_a_database_with_households_is_refused_and_adds_nothing(demo_run):
    result = invoke(demo_run["url"], "demo", "--households", "5")

    assert result.exit_code != 0
    assert len(error_lines(result)) == 1
    assert "already has households" in result.stderr
    with opened(demo_run["url"]) as konvergen:
        assert len(registrations(konvergen)) == ALL_VILLAGES


def test_demo_if_empty_on_a_database_with_households_loads_nothing_and_succeeds(demo_run):
    result = invoke(demo_run["url"], "demo", "--if-empty")

    assert result.exit_code == 0, result.output
    assert "no demo data loaded" in result.stdout
    assert "demo.admin" in result.stdout
    with opened(demo_run["url"]) as konvergen:
        assert len(registrations(konvergen)) == ALL_VILLAGES


def _demo_fingerprint(url: str, seed: int) -> list[tuple]:
    result = invoke(url, "demo", "--households", "20", "--seed", str(seed))
    assert result.exit_code == 0, result.output
    with opened(url) as konvergen:
        households = all_households(konvergen)
    return [
        (
            h["kk_number"],
            h["head"]["nik"],
            h["head"]["name"],
            h["address"]["village_code"],
            sorted(i["id"] for i in h["interventions"]),
            sorted((f["id"], f["due_on"]) for f in h["follow_ups"]),
        )
        for h in households
    ]


def test_the_same_seed_gives_the_same_households_and_another_seed_does_not(tmp_path):
    first = _demo_fingerprint(f"sqlite:///{tmp_path / 'a.db'}", seed=7)
    again = _demo_fingerprint(f"sqlite:///{tmp_path / 'b.db'}", seed=7)
    other = _demo_fingerprint(f"sqlite:///{tmp_path / 'c.db'}", seed=8)

    assert len(first) == 20
    assert first == again
    assert [row[0] for row in first] != [row[0] for row in other]


def test_generate_demo_runs_on_the_given_day_and_gives_back_the_services_clock(konvergen):
    original = konvergen.households.clock
    day = date(2026, 6, 1)

    result = generate_demo(konvergen, households=12, seed=5, today=day)

    assert konvergen.households.clock is original
    assert result.households == 12 and result.today == day
    households = all_households(konvergen)
    delivered = [i["delivered_on"] for h in households for i in h["interventions"] if i["delivered_on"]]
    assert delivered and max(delivered) <= day
    assert result.follow_ups_overdue == sum(
        1 for h in households for f in h["follow_ups"] if f["status"] == "open" and f["due_on"] < day
    )


def test_an_interrupted_demo_still_leaves_the_logins_of_the_accounts_it_created(konvergen, tmp_path):
    logins_path = tmp_path / "demo-logins.txt"

    def stop_after_two(_done: int, seen=[]) -> None:
        seen.append(1)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        generate_demo(konvergen, households=50, seed=3, progress=stop_after_two, logins_path=logins_path)

    rows = [line.split() for line in logins_path.read_text().splitlines() if not line.startswith("#")]
    username, role, password = rows[0][:3]
    assert konvergen.users.authenticate(username, password).role == role
    assert len(registrations(konvergen)) == 2
