"""`konvergen audit verify|seal|export|backfill|report` on a SQLite file."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from audit_helpers import Forger, categorise, days_later, plan, register
from service.audit import verification
from service.cli import main
from service.container import Konvergen
from test_export import findings, run_check
from test_tamper_evidence import written_without_links

PASSWORD = "correct horse battery"


@pytest.fixture
def database(tmp_path, monkeypatch, clock):
    """A SQLite file with two households recorded in January 2025, and two users."""
    url = f"sqlite:///{tmp_path / 'konvergen.db'}"
    monkeypatch.setenv("KONVERGEN_DATABASE_URL", url)
    monkeypatch.delenv("KONVERGEN_USERNAME", raising=False)
    clock.move_to(datetime(2025, 1, 10, 3, 0, tzinfo=timezone.utc))
    k = Konvergen(url, clock=clock)
    k.users.create_user(username="inspektorat", password=PASSWORD, role="auditor")
    k.users.create_user(username="asep", password=PASSWORD, role="case_worker", villages=["32.04.05.2001"])
    first = register(k.households, 1)
    categorise(k.households, first, desil=3)
    days_later(clock, 1)
    plan(k.households, first, delivered_on=clock.today())
    second = register(k.households, 2)
    k.close()
    return {"url": url, "first": first, "second": second, "clock": clock}


def run(*args: str):
    return CliRunner().invoke(main, ["audit", *args], catch_exceptions=False)


def test_verify_on_a_sound_store_says_ok_seals_the_finished_days_and_exits_zero(database):
    result = run("verify")
    assert result.exit_code == 0, result.output
    assert "Checked 7 events of 4 aggregates and 2 seals (sealed through 2025-01-11)." in result.output
    assert "Last seal hash: " in result.output and result.output.rstrip().endswith("no broken link.")


def forge_the_first_households_second_event(database) -> None:
    k = Konvergen(database["url"], clock=database["clock"])
    Forger(k).set_state(database["first"], 2, b'{"desil": 1}')
    k.close()


def assert_it_names_the_forged_event_and_exits_one(result, database) -> None:
    assert result.exit_code == 1
    assert f"BROKEN [content_mismatch] household {database['first']} version 2" in result.stderr
    assert f"Error: 1 problem(s); the first broken link: household {database['first']} version 2" in result.stderr


def test_verify_names_the_first_broken_link_and_exits_non_zero(database):
    forge_the_first_households_second_event(database)
    result = CliRunner().invoke(main, ["audit", "verify"])
    assert_it_names_the_forged_event_and_exits_one(result, database)


def test_seal_seals_each_finished_day_once(database):
    first = run("seal")
    assert first.exit_code == 0
    assert [line.split(":")[0] for line in first.output.splitlines()] == ["Sealed 2025-01-10", "Sealed 2025-01-11"]
    assert run("seal").output.strip() == "Nothing to seal: every finished day is sealed already."


def test_an_auditors_export_passes_the_readmes_check_and_is_in_the_access_log(database, tmp_path):
    out = tmp_path / "export"
    result = run("export", "--out", str(out), "--username", "inspektorat")
    assert result.exit_code == 0, result.output
    assert "Wrote 7 events of 4 aggregates and 2 seal lists" in result.output
    manifest_sha = result.output.split("manifest.json sha256: ")[1].strip()
    assert manifest_sha in (out / "manifest.json.sha256").read_text()
    assert findings(run_check(out)) == []
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["exported_by"] == "inspektorat" and manifest["verification_at_export"]["ok"] is True
    k = Konvergen(database["url"])
    from service.audit import audit_for
    from service.access import ADMIN, Actor

    entries = audit_for(k).access_log.browse(Actor("root", ADMIN))["entries"]
    k.close()
    assert [(e["username"], e["action"], e["detail"]["manifest_sha256"]) for e in entries if e["action"] == "export"] == [
        ("inspektorat", "export", manifest_sha)
    ]


def test_an_export_of_one_household_and_one_day(database, tmp_path):
    out = tmp_path / "one"
    result = run("export", "--out", str(out), "--username", "inspektorat", "--household", database["first"],
                 "--from", "2025-01-11", "--to", "2025-01-11")
    assert result.exit_code == 0, result.output
    assert "Wrote 2 events of 1 aggregates" in result.output  # the planned and delivered intervention
    assert findings(run_check(out)) == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--username", "asep"], "asep (case_worker) may not export the records"),
        (["--username", "nobody"], "--username: no active user nobody"),
        (["--username", "inspektorat", "--from", "kemarin"], "from: must be an ISO 8601 date or date-time"),
        (["--username", "inspektorat", "--to", "2025-13-01"], "to: must be a date (YYYY-MM-DD)"),
        (["--username", "inspektorat", "--from", "2025-01-12", "--to", "2025-01-10"], "--from must be before --to"),
        (["--username", "inspektorat", "--household", "not-an-id"], "household not-an-id not found"),
    ],
)
def test_an_export_that_cannot_be_done_says_why_in_one_line_and_writes_nothing(database, tmp_path, args, message):
    out = tmp_path / "refused"
    result = CliRunner().invoke(main, ["audit", "export", "--out", str(out), *args])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {message}" or message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists() or not any(out.iterdir())


def test_backfill_chains_a_store_written_before_tamper_evidence(database):
    k = Konvergen(database["url"], clock=database["clock"])
    with written_without_links(k):
        register(k.households, 3)
    k.close()
    assert run("verify").exit_code != 0
    assert run("backfill").output.strip() == "Chained 2 events that had no link."
    assert run("backfill").output.strip() == "Every event is chained already."
    assert run("verify").exit_code == 0


def test_report_writes_the_two_basis_summary_as_csv(database, tmp_path):
    out = tmp_path / "summary.csv"
    result = run("report", "--as-of", "2025-01-10", "--out", str(out), "--username", "inspektorat")
    assert result.exit_code == 0, result.output
    with out.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert ["totals", "households", "2", "2", "0"] in rows or ["totals", "households", "1", "1", "0"] in rows
    refused = CliRunner().invoke(main, ["audit", "report", "--as-of", "x", "--out", str(tmp_path / "s.pdf"), "--username", "inspektorat"])
    assert refused.exit_code != 0 and f"--out {tmp_path / 's.pdf'}: write .csv or .xlsx (not pdf)" in refused.stderr


def test_verify_with_two_workers_reports_what_one_worker_reports(database, monkeypatch):
    alone = run("verify")
    assert alone.exit_code == 0, alone.output
    monkeypatch.setattr(verification, "PARALLEL_FROM", 1)  # share the ranges however small the log
    shared: list[int] = []
    make_claims = verification._Claims.__init__
    monkeypatch.setattr(verification._Claims, "__init__",
                        lambda claims, context, count: shared.append(count) or make_claims(claims, context, count))
    side_by_side = run("verify", "--workers", "2")
    assert side_by_side.exit_code == 0, side_by_side.output
    assert side_by_side.output == alone.output
    assert len(shared) == 1 and shared[0] > 1  # the log really was shared out in ranges


def test_verify_as_a_case_worker_is_refused_by_role(database):
    result = CliRunner().invoke(main, ["audit", "verify", "--username", "asep"])
    assert result.exit_code == 1
    assert "asep (case_worker) may not verify the records" in result.stderr


def test_export_into_a_folder_that_holds_files_is_refused_and_leaves_them(database, tmp_path):
    out = tmp_path / "export"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = CliRunner().invoke(main, ["audit", "export", "--out", str(out), "--username", "inspektorat"])
    assert result.exit_code == 1
    assert f"--out {out}: {out} is not empty; export into a new directory" in result.stderr
    assert [path.name for path in out.iterdir()] == ["notes.txt"]


def test_export_of_a_broken_store_still_writes_it_and_warns_with_the_first_broken_link(database, tmp_path):
    forge_the_first_households_second_event(database)
    out = tmp_path / "export"
    result = run("export", "--out", str(out), "--username", "inspektorat")
    assert result.exit_code == 0, result.output
    assert (out / "manifest.json").exists()
    assert f"WARNING: verification found 1 problem(s): household {database['first']} version 2" in result.stderr


def test_verify_as_an_unknown_user_is_refused_in_one_line(database):
    result = CliRunner().invoke(main, ["audit", "verify", "--username", "nobody"])
    assert result.exit_code == 1
    assert result.stderr == "Error: --username: no active user nobody\n"
    assert result.stdout == ""  # nothing was checked


def test_seal_on_a_broken_record_names_the_broken_link_and_seals_nothing(database):
    forge_the_first_households_second_event(database)
    result = CliRunner().invoke(main, ["audit", "seal"])
    assert_it_names_the_forged_event_and_exits_one(result, database)
    assert "Sealed" not in result.output
    k = Konvergen(database["url"])
    from service.audit import audit_for
    from service.access import ADMIN, Actor

    seals = audit_for(k).integrity.seals(Actor("root", ADMIN))
    k.close()
    assert seals == []


def test_report_with_an_as_of_that_is_no_date_says_so_and_writes_nothing(database, tmp_path):
    out = tmp_path / "summary.csv"
    result = CliRunner().invoke(main, ["audit", "report", "--as-of", "kemarin", "--out", str(out),
                                       "--username", "inspektorat"])
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: as_of: must be an ISO 8601 date or date-time, for instance 2025-06-30T23:59:59+07:00\n"
    )
    assert not out.exists()
