"""Pass 2 of a households import split across processes gives what one process gives.

Helper processes are spawned, so they run the real code with a service of their own
over the same database (SQLite file or PostgreSQL); tests that make one fail pass the
helper a service factory from ``importing_helpers``.
"""

from __future__ import annotations

import multiprocessing

import pytest
from importing_helpers import (
    ADMIN,
    family,
    household_for,
    kk,
    konvergen_dying_at_second_save,
    konvergen_failing_at_second_save,
    konvergen_refused,
    konvergen_saving_slowly,
    person,
    write_csv,
)

from service.container import Konvergen
from service.errors import HouseholdNotFound
from service.importing import Importer, ImportOptions
from service.importing.parallel import ImportHelperError
from service.importing.records import ImportLog
from service.importing.shares import PROGRESS_EVERY
from service.importing.staging import share_of

FAMILIES = range(1, 13)


def families_in_each_share() -> dict[int, list[int]]:
    shares: dict[int, list[int]] = {0: [], 1: []}
    for number in FAMILIES:
        shares[share_of(kk(number), 2)].append(number)
    return shares


def test_the_test_families_fall_in_both_shares_of_two():
    assert all(len(numbers) >= 3 for numbers in families_in_each_share().values())


def messy_file(tmp_path):
    """Twelve families with the usual mess: a bad date, an exact duplicate, a family
    without a head, a row without a KK, a family whose rows are apart."""
    rows = []
    for number in FAMILIES:
        rows += family(number, children=1 + number % 3)

    def rows_of(number: int) -> list[dict]:
        return [row for row in rows if row["No KK"] == kk(number)]

    rows_of(3)[1]["Tanggal Lahir"] = "kemarin"  # the household is rejected
    rows.append(dict(rows_of(4)[-1]))  # an exact duplicate: ignored and reported
    rows_of(6)[0]["Hubungan"] = "Anak"  # no head left: the household is rejected
    rows.append(person("", "Anak", serial=990))  # no KK: rejected while reading
    rows.remove(last := rows_of(1)[-1])
    rows.append(last)  # family 1's last child at the end of the file
    return write_csv(tmp_path / "p3ke.csv", rows)


def import_both_files(konvergen, tmp_path, **importer):
    """A small earlier file (two families, fewer children), then the messy one."""
    earlier = write_csv(tmp_path / "earlier.csv", family(7, children=1) + family(8, children=1))
    Importer(konvergen, **importer).run(ADMIN, earlier)
    seen: list[int] = []
    summary = Importer(konvergen, **importer).run(
        ADMIN, messy_file(tmp_path), progress=lambda stage, done, total: seen.append(done) if stage == "households" else None
    )
    return summary, sum(seen)


def comparable(konvergen, summary) -> dict:
    """What an import leaves behind, without what differs on every run (ids, times)."""
    households = {}
    for number in FAMILIES:
        try:
            household = household_for(konvergen, number)
        except HouseholdNotFound:
            continue
        households[number] = {k: v for k, v in household.items() if k not in ("id", "created_on", "modified_on")}
    log = ImportLog(konvergen.sessions)
    return {
        "counts": summary.counts,
        "households": households,
        "rejections": [vars(r) for r in log.rejections(summary.import_id)],
        "status": log.get(summary.import_id)["status"],
    }


def one_process_database(url: str, tmp_path) -> str:
    if url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'one-process.db'}"
    return f"{url}?schema=one_process"  # PostgreSQL: a schema of its own in the same database


def test_two_processes_import_the_same_households_counts_and_rejections_as_one(database_url, clock, tmp_path):
    alone = Konvergen(one_process_database(database_url, tmp_path), clock=clock)
    together = Konvergen(database_url, clock=clock)
    try:
        (tmp_path / "one").mkdir()
        (tmp_path / "two").mkdir()
        one, one_progress = import_both_files(alone, tmp_path / "one", processes=1, batch_size=2)
        two, two_progress = import_both_files(together, tmp_path / "two", processes=2, batch_size=2)

        assert comparable(together, two) == comparable(alone, one)
        assert (two.counts["households_created"], two.counts["households_updated"],
                two.counts["households_rejected"]) == (8, 2, 2)
        assert two.rows_rejected == one.rows_rejected > 0
        assert two_progress == one_progress == 12
        for number in (1, 2, 11, 12):  # families of both shares
            refs = {e["source_ref"] for e in together.households.history(ADMIN, household_for(together, number)["id"])}
            assert refs and all(ref.startswith(f"import:{two.import_id}:row:") for ref in refs)
    finally:
        alone.close()
        together.close()


def test_importing_the_same_file_again_in_two_processes_changes_nothing(database_url, clock, tmp_path):
    konvergen = Konvergen(database_url, clock=clock)
    try:
        path = write_csv(tmp_path / "p3ke.csv", [row for n in FAMILIES for row in family(n)])
        Importer(konvergen, processes=2).run(ADMIN, path)
        events = konvergen.households.recorder.max_notification_id()

        again = Importer(konvergen, processes=2).run(ADMIN, path)
        rows = write_csv(tmp_path / "reordered.csv", [row for n in reversed(FAMILIES) for row in family(n)])
        reordered = Importer(konvergen, processes=2).run(ADMIN, rows)

        assert again.status == "already_imported"
        assert (reordered.counts["households_unchanged"], reordered.counts["households_created"]) == (12, 0)
        assert konvergen.households.recorder.max_notification_id() == events
    finally:
        konvergen.close()


def test_a_dry_run_in_two_processes_counts_what_it_would_do_and_writes_nothing(clock, tmp_path):
    konvergen = Konvergen(f"sqlite:///{tmp_path / 'konvergen.db'}", clock=clock)
    try:
        summary = Importer(konvergen, processes=2).run(ADMIN, messy_file(tmp_path), ImportOptions(dry_run=True))

        assert (summary.counts["households_created"], summary.counts["households_rejected"]) == (10, 2)
        assert summary.rows_rejected > 0
        assert konvergen.households.recorder.max_notification_id() in (0, None)
        assert ImportLog(konvergen.sessions).recent() == []
    finally:
        konvergen.close()


def test_a_failure_in_a_helper_process_records_the_import_as_failed_and_keeps_what_was_committed(
        database_url, clock, tmp_path):
    konvergen = Konvergen(database_url, clock=clock)
    try:
        path = write_csv(tmp_path / "p3ke.csv", [row for n in FAMILIES for row in family(n)])
        with pytest.raises(ConnectionError, match="database went away"):
            Importer(konvergen, processes=2, batch_size=1, open_service=konvergen_failing_at_second_save).run(
                ADMIN, path)

        [record] = ImportLog(konvergen.sessions).recent()
        assert (record["status"], record["message"]) == ("failed", "ConnectionError: database went away")
        kept = [n for n in FAMILIES if _on_file(konvergen, n)]
        assert families_in_each_share()[1][0] in kept  # the helper's first household, saved before it failed
        again = Importer(konvergen, processes=2).run(ADMIN, path)
        assert (again.counts["households_unchanged"], again.counts["households_created"]) == (
            len(kept), len(FAMILIES) - len(kept))
        assert all(_on_file(konvergen, n) for n in FAMILIES)
    finally:
        konvergen.close()


def test_a_failure_in_this_process_stops_the_helpers_and_records_the_import_as_failed(clock, tmp_path, monkeypatch):
    konvergen = Konvergen(f"sqlite:///{tmp_path / 'konvergen.db'}", clock=clock)
    try:
        many = range(1, 501)  # each share well over PROGRESS_EVERY households: the helper is stopped part-way
        helpers_share = [n for n in many if share_of(kk(n), 2) == 1]
        assert len(helpers_share) > 2 * PROGRESS_EVERY
        path = write_csv(tmp_path / "p3ke.csv", [row for n in many for row in family(n)])
        save = konvergen.households.save_aggregates

        def fail_at_once(aggregates):
            raise ConnectionError("database went away")

        monkeypatch.setattr(konvergen.households, "save_aggregates", fail_at_once)
        with pytest.raises(ConnectionError):
            Importer(konvergen, processes=2, batch_size=3, open_service=konvergen_saving_slowly).run(ADMIN, path)
        monkeypatch.setattr(konvergen.households, "save_aggregates", save)

        assert multiprocessing.active_children() == []
        [record] = ImportLog(konvergen.sessions).recent()
        assert (record["status"], record["message"]) == ("failed", "ConnectionError: database went away")
        assert not any(_on_file(konvergen, n) for n in many if n not in helpers_share)
        # The helper stopped when it looked for "stop" (after every PROGRESS_EVERY
        # households), keeping the batches of 3 it had committed, not the one in hand.
        kept = sum(_on_file(konvergen, n) for n in helpers_share)
        at_a_look = [done - done % 3 for done in range(PROGRESS_EVERY, len(helpers_share), PROGRESS_EVERY)]
        assert kept in at_a_look, (kept, at_a_look)
        again = Importer(konvergen, processes=2).run(ADMIN, path)
        assert (again.counts["households_unchanged"], again.counts["households_created"]) == (kept, len(many) - kept)
        assert all(_on_file(konvergen, n) for n in many)
    finally:
        konvergen.close()


def test_a_helper_process_that_dies_fails_the_import_saying_so(clock, tmp_path):
    konvergen = Konvergen(f"sqlite:///{tmp_path / 'konvergen.db'}", clock=clock)
    try:
        path = write_csv(tmp_path / "p3ke.csv", [row for n in FAMILIES for row in family(n)])
        with pytest.raises(ImportHelperError, match=r"import process 1 ended unexpectedly \(exit code 7\)"):
            Importer(konvergen, processes=2, batch_size=1, open_service=konvergen_dying_at_second_save).run(
                ADMIN, path)

        [record] = ImportLog(konvergen.sessions).recent()
        assert record["status"] == "failed"
    finally:
        konvergen.close()


def test_the_in_memory_store_keeps_the_import_in_one_process(konvergen, tmp_path):
    path = write_csv(tmp_path / "p3ke.csv", family(1) + family(2))

    summary = Importer(konvergen, processes=2, open_service=konvergen_refused).run(ADMIN, path)

    assert summary.counts["households_created"] == 2


def test_a_small_file_is_imported_without_starting_helper_processes(clock, tmp_path):
    konvergen = Konvergen(f"sqlite:///{tmp_path / 'konvergen.db'}", clock=clock)
    try:
        path = write_csv(tmp_path / "p3ke.csv", family(1) + family(2))

        summary = Importer(konvergen, open_service=konvergen_refused).run(ADMIN, path)

        assert summary.counts["households_created"] == 2
    finally:
        konvergen.close()


def _on_file(konvergen, number: int) -> bool:
    try:
        household_for(konvergen, number)
    except HouseholdNotFound:
        return False
    return True
