"""`konvergen projections run|status|rebuild|verify` on a SQLite file."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from projection_builders import Cases, spy_on_the_shared_rebuild
from projections.engine import ProjectionEngine
from projections.register import register_households
from projections.runner import build_engine
from service.cli import main


@pytest.fixture
def database(tmp_path, clock, monkeypatch):
    """A SQLite file with a little history, named by KONVERGEN_DATABASE_URL."""
    from service.container import Konvergen

    url = f"sqlite:///{tmp_path / 'konvergen.db'}"
    monkeypatch.setenv("KONVERGEN_DATABASE_URL", url)
    konvergen = Konvergen(url, clock=clock)
    cases = Cases(konvergen)
    for n in range(3):
        household = cases.register(name=f"Warga {n}")
        cases.categorise(household)
        cases.schedule(household)
    head = konvergen.households.recorder.max_notification_id()
    konvergen.close()
    return {"url": url, "head": head}


def cli(*args: str):
    return CliRunner().invoke(main, ["projections", *args])


def test_run_once_catches_every_projection_up_and_status_says_so(database):
    before = cli("status")
    assert before.exit_code == 0, before.output
    assert "stale (built by nothing" in before.output

    ran = cli("run", "--once")
    assert ran.exit_code == 0, ran.output
    assert f"every projection is at notification {database['head']}" in ran.output

    after = cli("status")
    lines = [line.split() for line in after.output.splitlines()[1:]]
    assert [(line[0], int(line[1]), int(line[3]), line[-1]) for line in lines] == [
        (name, database["head"], 0, "ok") for name in ("household_register", "monitoring", "follow_ups", "audit_trail")
    ]


def test_verify_passes_on_honest_views_and_names_every_tampered_row(database, clock):
    from service.container import Konvergen

    assert cli("run", "--once").exit_code == 0
    honest = cli("verify")
    assert honest.exit_code == 0, honest.output
    assert "rows identical to a replay" in honest.output

    konvergen = Konvergen(database["url"], clock=clock)
    with konvergen.storage.engine.begin() as conn:
        conn.execute(update(register_households).values(head_name="Diubah Tangan"))
    konvergen.close()

    tampered = cli("verify", "household_register")
    assert tampered.exit_code == 1
    assert tampered.output.count("household_register.register_households") == 3
    assert "head_name: live 'Diubah Tangan', rebuilt 'Warga" in tampered.output
    assert "Error: 3 differences between the live views and a replay" in tampered.output


def test_rebuild_replays_one_projection_with_a_progress_bar(database, clock):
    from service.container import Konvergen

    assert cli("run", "--once").exit_code == 0
    konvergen = Konvergen(database["url"], clock=clock)
    with konvergen.storage.engine.begin() as conn:
        conn.execute(update(register_households).values(head_name="Diubah Tangan"))
    konvergen.close()

    rebuilt = cli("rebuild", "household_register")

    assert rebuilt.exit_code == 0, rebuilt.output
    assert "rebuilt household_register from 9 events" in rebuilt.output
    assert cli("verify").exit_code == 0
    konvergen = Konvergen(database["url"], clock=clock)
    assert build_engine(konvergen).positions()["household_register"] == database["head"]
    konvergen.close()


def test_rebuild_of_every_view_in_two_processes_reaches_the_head_and_verifies(database, monkeypatch):
    assert cli("run", "--once").exit_code == 0
    shared = spy_on_the_shared_rebuild(monkeypatch)

    rebuilt = cli("rebuild", "--workers", "2")

    assert rebuilt.exit_code == 0, rebuilt.output
    assert shared == {"workers": [2], "sets": [[["household_register", "monitoring"], ["follow_ups", "audit_trail"]]]}
    assert "rebuilt household_register, monitoring, follow_ups, audit_trail from 9 events" in rebuilt.output
    assert cli("verify").exit_code == 0
    status = [line.split() for line in cli("status").output.splitlines()[1:]]
    assert {(line[0], int(line[1]), line[-1]) for line in status} == {
        (name, database["head"], "ok") for name in ("household_register", "monitoring", "follow_ups", "audit_trail")
    }


@pytest.mark.parametrize("cpus", [128, None])
def test_rebuild_without_workers_runs_on_a_machine_with_more_cpus_than_the_option_allows(
    database, monkeypatch, cpus
):
    # The default (one process per CPU) is checked against --workers' range like a
    # value typed in, so it must stay inside 1..64 whatever os.cpu_count() says.
    monkeypatch.setattr("os.cpu_count", lambda: cpus)
    asked: list[int] = []
    real_rebuild = ProjectionEngine.rebuild

    def rebuild(self, names=None, **options):
        asked.append(options["workers"])
        return real_rebuild(self, names, **options)

    monkeypatch.setattr(ProjectionEngine, "rebuild", rebuild)

    rebuilt = cli("rebuild", "household_register")

    assert rebuilt.exit_code == 0, rebuilt.output
    assert "rebuilt household_register from 9 events" in rebuilt.output
    assert asked == [64 if cpus else 1]


@pytest.mark.parametrize("command", ["rebuild", "verify"])
def test_an_unknown_projection_name_is_one_line_and_a_failure(database, command):
    result = cli(command, "registre")

    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: name: no projection 'registre'; known: household_register, monitoring, follow_ups, audit_trail"
    ]


@pytest.mark.parametrize(
    "interval, reason",
    [
        ("0", "0.0 is not in the range 0.05<=x<=3600."),
        ("3601", "3601.0 is not in the range 0.05<=x<=3600."),
        ("soon", "'soon' is not a valid float range."),
    ],
)
def test_run_refuses_an_interval_outside_a_twentieth_of_a_second_to_an_hour(database, interval, reason):
    result = cli("run", "--interval", interval)

    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == f"Error: Invalid value for '--interval': {reason}"
    assert result.stdout == ""  # refused before anything ran
