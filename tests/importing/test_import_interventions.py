"""Importing an agency's intervention list onto households already on file."""

from __future__ import annotations

from datetime import date

import pytest
from importing_helpers import (
    ADMIN,
    INTERVENTION_HEADERS,
    family,
    household_for,
    kk,
    line,
    rejected,
    run_import,
    write_csv,
    write_xlsx,
)

from service.access import Actor


@pytest.fixture
def registered(konvergen, tmp_path):
    """Three families on file in Cileunyi Kulon."""
    run_import(konvergen, write_csv(tmp_path / "p3ke.csv", family(1) + family(2) + family(3)))
    return konvergen


def test_an_agency_list_plans_and_delivers_interventions_by_programme_and_agency_names(registered, tmp_path):
    rows = [
        line(kk(1)),
        line(kk(2), "BLT Dana Desa", "Pemerintah Desa", "Sudah disalurkan", "01/08/2026", "15/08/2026", "300.000"),
        line(kk(3), "Rutilahu", "disperkim", "", "", "2026-09-10", "Rp 17.500.000", "atap dan dinding"),
    ]
    path = write_csv(tmp_path / "agency.csv", rows, delimiter=";")

    summary = run_import(registered, path, layout="interventions")

    assert rejected(summary) == []
    assert summary.counts["interventions_created"] == 3
    [pkh] = household_for(registered, 1)["interventions"]
    assert (pkh["programme"], pkh["agency"], pkh["strategy"], pkh["status"], pkh["value_idr"]) == (
        "pkh", "dinsos", "pengurangan_beban", "planned", 750000)
    [blt] = household_for(registered, 2)["interventions"]
    assert (blt["status"], blt["planned_on"], blt["delivered_on"], blt["value_idr"]) == (
        "delivered", date(2026, 8, 1), date(2026, 8, 15), 300000)
    [rtlh] = household_for(registered, 3)["interventions"]
    # No status and no plan date, but a delivery date: delivered, planned the same day.
    assert (rtlh["status"], rtlh["planned_on"], rtlh["notes"]) == ("delivered", date(2026, 9, 10), "atap dan dinding")


def test_importing_the_list_again_finds_the_same_interventions_and_moves_them_on(registered, tmp_path):
    run_import(registered, write_csv(tmp_path / "july.csv", [line(kk(1)), line(kk(2), "BPNT")]), layout="interventions")
    later = [line(kk(1), status="Tersalurkan", delivered="2026-07-20"),
             line(kk(2), "BPNT", status="Dibatalkan", notes="pindah domisili")]

    summary = run_import(registered, write_xlsx(tmp_path / "august.xlsx", later), layout="interventions")

    assert (summary.counts["interventions_created"], summary.counts["interventions_updated"]) == (0, 2)
    [pkh] = household_for(registered, 1)["interventions"]
    assert (pkh["status"], pkh["delivered_on"]) == ("delivered", date(2026, 7, 20))
    [bpnt] = household_for(registered, 2)["interventions"]
    assert (bpnt["status"], bpnt["cancelled_reason"]) == ("cancelled", "pindah domisili")
    history = registered.households.history(ADMIN, household_for(registered, 1)["id"])
    assert history[-1]["source_ref"] == f"import:{summary.import_id}:row:2"

    behind = run_import(registered, write_csv(tmp_path / "july-copy.csv", [line(kk(1))]), layout="interventions")
    assert behind.counts["interventions_unchanged"] == 1  # an older list does not undo a delivery


def test_a_delivered_intervention_cannot_be_cancelled_by_a_later_list(registered, tmp_path):
    run_import(registered, write_csv(tmp_path / "a.csv", [line(kk(1), status="delivered", delivered="2026-07-02")]),
               layout="interventions")

    summary = run_import(registered, write_csv(tmp_path / "b.csv", [line(kk(1), status="batal")]),
                         layout="interventions")

    assert rejected(summary) == [(2, "Status", "the intervention is already delivered, which is final")]


def test_bad_rows_are_rejected_one_by_one_naming_their_columns(registered, tmp_path):
    rows = [
        line(kk(1), "Beasiswa Luar Negeri"),
        line(kk(1), "PKH", "Disperkim", planned="2026-07-02"),
        line(kk(9)),
        line(kk(2), status="Tersalurkan", delivered="2027-01-01"),
        line(kk(2), status="menunggu"),
        line(kk(3), value="tiga juta"),
        line(kk(3), "PBI JK", "Dinas Kesehatan"),
    ]
    path = write_csv(tmp_path / "agency.csv", rows)

    summary = run_import(registered, path, layout="interventions")

    found = rejected(summary)
    assert (2, "Program", "'Beasiswa Luar Negeri' is not a known programme code") in found
    assert (3, "Instansi", "'disperkim' does not deliver 'pkh' (allowed: dinsos, kemensos)") in found
    assert (4, "No KK", "no household with this family card; import the households first") in found
    assert (5, "Tanggal Realisasi", "2027-01-01 is in the future") in found
    assert any(r[0] == 6 and r[1] == "Status" and r[2].startswith("is not a status") for r in found)
    assert (7, "Nilai (Rp)", "is not an amount of Rupiah") in found
    assert summary.counts["interventions_created"] == 1  # PBI-JK for family 3
    assert [i["programme"] for i in household_for(registered, 3)["interventions"]] == ["pbi_jk"]
    assert household_for(registered, 1)["interventions"] == []


def test_a_duplicate_line_is_ignored_and_a_conflicting_one_refused(registered, tmp_path):
    rows = [line(kk(1)), line(kk(1)), line(kk(1), value="900.000")]

    summary = run_import(registered, write_csv(tmp_path / "agency.csv", rows), layout="interventions")

    found = rejected(summary)
    assert found[0] == (3, "Program", "duplicate of line 2; ignored")
    assert found[1][0] == 4 and "names the same intervention as line 2" in found[1][2]
    assert len(household_for(registered, 1)["interventions"]) == 1


def test_an_agency_officer_imports_their_own_agencys_rows_only(registered, tmp_path):
    officer = Actor(username="dinsos.cileunyi", role="agency_officer", agency="dinsos")
    rows = [line(kk(1)), line(kk(2), "PIP", "Dinas Pendidikan")]

    summary = run_import(registered, write_csv(tmp_path / "agency.csv", rows), actor=officer, layout="interventions")

    assert summary.counts["interventions_created"] == 1
    assert rejected(summary) == [(3, "Instansi", "dinsos.cileunyi records interventions of agency dinsos, not disdik")]
    history = registered.households.history(ADMIN, household_for(registered, 1)["id"])
    assert history[-1]["actor"] == "dinsos.cileunyi"


def test_a_case_worker_does_not_learn_of_households_outside_their_villages(registered, tmp_path):
    worker = Actor(username="ujang", role="case_worker", villages=frozenset({"32.04.05.2002"}))

    summary = run_import(registered, write_csv(tmp_path / "agency.csv", [line(kk(1))]), actor=worker,
                         layout="interventions")

    assert rejected(summary) == [(2, "No KK", "no household with this family card; import the households first")]


def test_a_row_refused_half_way_leaves_no_trace_and_the_households_other_rows_still_import(registered, tmp_path):
    headers = INTERVENTION_HEADERS + ["Alasan Pembatalan"]
    good = line(kk(1))
    # Planned, then refused at cancellation: the reason is longer than the domain allows.
    half_way = dict(line(kk(1), "BPNT", status="Dibatalkan"), **{"Alasan Pembatalan": "x" * 2001})
    path = write_csv(tmp_path / "agency.csv", [good, half_way], headers=headers)

    summary = run_import(registered, path, layout="interventions")

    assert rejected(summary) == [(3, "Alasan Pembatalan", "must be at most 2000 characters")]
    assert [i["programme"] for i in household_for(registered, 1)["interventions"]] == ["pkh"]
