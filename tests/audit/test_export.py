"""An export is checkable without this software: `sha256sum` and the README's rule."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from audit_helpers import Forger, categorise, days_later, plan, register, wib
from service.audit.integrity import export, seal_complete_periods

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_check_script() -> str:
    """The shell check exactly as the README documents it for auditors."""
    section = README.read_text(encoding="utf-8").split("## For auditors: verifying an export", 1)[1]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    return next(block for block in blocks if "sha256sum -c manifest.json.sha256" in block)


def run_check(directory: Path) -> str:
    result = subprocess.run(
        ["sh", "-c", readme_check_script()], cwd=directory, capture_output=True, text=True, timeout=60
    )
    return result.stdout + result.stderr


def findings(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(("BROKEN", "UNSEALED")) or line.endswith("FAILED")]


def tell_story(konvergen, clock) -> dict:
    households = konvergen.households
    first = register(households, 1)
    categorise(households, first, desil=3)
    plan(households, first, delivered_on=clock.today())
    second = register(households, 2)
    days_later(clock, 1)
    categorise(households, first, category="miskin", desil=4)
    categorise(households, second)
    days_later(clock, 1)
    seal_complete_periods(households, clock.now())
    categorise(households, second, category="rentan", desil=6)  # today: chained, not sealed yet
    return {"first": first, "second": second}


@pytest.fixture
def story(store, clock):
    return tell_story(store, clock)


@pytest.fixture
def sqlite_story(sqlite_store, clock):
    return tell_story(sqlite_store, clock)


def test_a_whole_export_passes_sha256sum_and_the_readmes_check(store, story, clock, tmp_path):
    result = export(store.households, tmp_path / "out", now=clock.now(), exported_by="inspektorat")
    assert (result.events, result.households, result.seals, result.unsealed_events) == (10, 4, 2, 1)
    out = tmp_path / "out"
    assert subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=out).returncode == 0
    output = run_check(out)
    assert findings(output) == [], output
    assert "OK files" in output and "OK contents" in output and "manifest.json: OK" in output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["last_seal_hash"] in output
    assert (manifest["events"], manifest["unsealed_events"], manifest["sealed_through"]) == (10, 1, "2026-11-29")
    assert result.manifest_sha256 in (out / "manifest.json.sha256").read_text()


def test_the_exported_event_files_hold_the_exact_stored_bytes(store, story, clock, tmp_path):
    export(store.households, tmp_path / "out", now=clock.now(), exported_by="inspektorat", household_id=story["first"])
    stored = Forger(store).state(story["first"], 2)
    assert (tmp_path / "out" / "events" / story["first"] / "2.json").read_bytes() == stored
    lines = [json.loads(line) for line in (tmp_path / "out" / "events.jsonl").read_text().splitlines()]
    assert [(l["household_id"], l["version"], l["type"]) for l in lines][:2] == [
        (story["first"], 1, "Registered"), (story["first"], 2, "Categorised"),
    ]
    assert lines[1]["event"]["desil"] == 3


def test_one_households_export_passes_the_check_against_the_seals_of_every_event(store, story, clock, tmp_path):
    result = export(store.households, tmp_path / "out", now=clock.now(), exported_by="x", household_id=story["second"])
    assert (result.events, result.households) == (3, 1)
    output = run_check(tmp_path / "out")
    assert findings(output) == [], output
    assert sorted(p.name for p in (tmp_path / "out" / "seals").iterdir()) == ["1.hashes", "2.hashes"]


def test_a_period_export_starts_mid_history_and_still_passes(sqlite_store, sqlite_story, clock, tmp_path):
    since, until = wib(2026, 11, 29, 0), wib(2026, 11, 30, 0)
    result = export(sqlite_store.households, tmp_path / "out", now=clock.now(), exported_by="x", since=since, until=until)
    assert result.events == 2
    assert findings(run_check(tmp_path / "out")) == []


@pytest.mark.parametrize(
    "forge, expected",
    [
        ("event_file", "events/{first}/2.json: FAILED"),
        ("chain_hash", "BROKEN hash: household {first} version 2"),
        ("seal_list", "BROKEN seal 1: its event list"),
    ],
)
def test_an_edited_export_fails_the_readmes_check_where_it_was_edited(sqlite_store, sqlite_story, clock, tmp_path, forge, expected):
    out = tmp_path / "out"
    export(sqlite_store.households, out, now=clock.now(), exported_by="x")
    first = sqlite_story["first"]
    if forge == "event_file":
        path = out / "events" / first / "2.json"
        path.write_bytes(path.read_bytes().replace(b'"desil":3', b'"desil":1'))
    elif forge == "chain_hash":
        lines = (out / "chain.tsv").read_text().splitlines(keepends=True)
        index = next(i for i, l in enumerate(lines) if f"\t{first}\t2\t" in l)
        fields = lines[index].rstrip("\n").split("\t")
        fields[6] = "f" * 64
        lines[index] = "\t".join(fields) + "\n"
        (out / "chain.tsv").write_text("".join(lines))
    else:
        path = out / "seals" / "1.hashes"
        path.write_text(path.read_text().replace("\n", "\n" + "e" * 64 + "\n", 1))
    output = run_check(out)
    assert expected.format(first=first) in output, output


def test_an_export_refuses_a_directory_that_already_holds_files(sqlite_store, sqlite_story, clock, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty"):
        export(sqlite_store.households, tmp_path / "out", now=clock.now(), exported_by="x")
