"""A rebuild split across processes: the same views as one process, failures kept apart."""

from __future__ import annotations

from functools import partial

import pytest
from sqlalchemy import select, update

from projection_builders import make_history, spy_on_the_shared_rebuild
from projections.engine import BUILDING
from projections.parallel import split
from projections.register import register_households
from projections.runner import build_engine, build_projections, rebuild_share
from projections.verify import verify


class ShareFailed(Exception):
    pass


def share_failing_for(failing: str, url: str, names: list[str], batch_size: int | None) -> int:
    """Runs in a spawned process: the set holding ``failing`` dies before replaying."""
    if failing in names:
        raise ShareFailed(f"set {', '.join(names)} stopped")
    return rebuild_share(url, names, batch_size)


def test_the_sets_balance_the_replay_cost_and_keep_each_views_order():
    projections = build_projections(None)

    assert split(projections, 2) == [["household_register", "monitoring"], ["follow_ups", "audit_trail"]]
    assert split(projections, 1) == [[p.name for p in projections]]
    assert sorted(name for names in split(projections, 8) for name in names) == sorted(p.name for p in projections)
    assert len(split(projections, 8)) == len(projections)


def test_two_processes_rebuild_every_view_to_what_one_process_builds(konvergen_db, cases_db, monkeypatch):
    make_history(cases_db, households=5)
    engine = build_engine(konvergen_db)
    engine.prepare()
    with konvergen_db.storage.engine.begin() as conn:
        conn.execute(update(register_households).values(head_name="Diubah Tangan"))
    seen: list[int] = []
    shared = spy_on_the_shared_rebuild(monkeypatch)

    result = engine.rebuild(workers=2, on_progress=seen.append)

    assert shared == {"workers": [2], "sets": [[["household_register", "monitoring"], ["follow_ups", "audit_trail"]]]}
    head = engine.log.head()
    assert result.events > 0
    assert set(engine.positions().values()) == {head}
    assert engine.stale() == []
    assert seen and seen[-1] == head
    with konvergen_db.storage.engine.connect() as conn:
        assert "Diubah Tangan" not in set(conn.execute(select(register_households.c.head_name)).scalars())
    assert verify(engine).ok


def test_a_set_whose_process_fails_is_left_stale_and_the_other_set_is_built(konvergen_db, cases_db):
    make_history(cases_db, households=2)
    engine = build_engine(konvergen_db)
    engine.rebuild_share = partial(share_failing_for, "audit_trail", konvergen_db.storage.url)

    with pytest.raises(ShareFailed, match="follow_ups, audit_trail"):
        engine.rebuild(workers=2)

    assert sorted(engine.stale()) == ["audit_trail", "follow_ups"]
    assert engine.tracking_rows()["audit_trail"]["version"].endswith(BUILDING)
    assert engine.positions(["household_register", "monitoring"]) == dict.fromkeys(
        ["household_register", "monitoring"], engine.log.head()
    )
    assert sorted(build_engine(konvergen_db).prepare()) == ["audit_trail", "follow_ups"]
    assert verify(engine).ok


def test_the_in_memory_store_rebuilds_in_this_process_whatever_the_workers(konvergen, cases):
    make_history(cases, households=2)
    engine = build_engine(konvergen)

    assert engine.rebuild_share is None
    engine.rebuild(workers=4)

    assert verify(engine).ok
