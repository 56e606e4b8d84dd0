"""The case file on a real event store: what is written is read back, by any process, intact."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import pytest
from eventsourcing.application import project_aggregate

from domain.errors import DuplicateKK
from domain.household import Household
from service.access import Actor
from service.households import household_dict

ADMIN = Actor(username="admin", role="admin")
KK = "3204050101200001"
HEAD = {"nik": "3204051203800001", "name": "Asep Sunandar", "sex": "L", "birth_date": date(1980, 3, 12)}
WIFE = {"nik": "3204055506850002", "name": "Euis", "sex": "P", "birth_date": date(1985, 6, 15), "relationship": "istri"}
ADDRESS = {"street": "Jl. Cileunyi 5", "rt": "3", "rw": "7", "village_code": "32.04.05.2001"}


def register(konvergen, kk=KK) -> str:
    return konvergen.households.register_household(
        ADMIN, kk_number=kk, head=HEAD, address=ADDRESS, members=[WIFE], location={"lat": -6.93, "lon": 107.72}
    )["id"]


def test_a_registered_household_reads_back_with_its_history(store):
    hid = register(store)
    store.households.categorise(ADMIN, hid, category="miskin_ekstrem", desil=1, source="p3ke_dtsen_import",
                                effective_on=date(2026, 3, 1), reason="P3KE")

    household = store.households.get_household(ADMIN, hid)
    assert (household["kk_number"], household["version"], household["status"]) == (KK, 2, "active")
    assert [m["nik"] for m in household["members"]] == [HEAD["nik"], WIFE["nik"]]
    assert household["location"] == {"lat": -6.93, "lon": 107.72}
    history = store.households.history(ADMIN, hid)
    assert [(e["version"], e["type"], e["actor"]) for e in history] == [(1, "Registered", "admin"), (2, "Categorised", "admin")]
    assert all(isinstance(e["recorded_at"], datetime) for e in history)


def test_a_second_instance_on_the_same_database_sees_the_first_one_s_writes(open_store):
    first, second = open_store(), open_store()
    hid = register(first)
    iid = first.households.plan_intervention(ADMIN, hid, programme="pkh", agency="dinsos", planned_on=date(2026, 11, 1))["intervention_id"]

    assert second.households.get_household(ADMIN, hid)["interventions"][0]["id"] == iid
    second.households.deliver_intervention(ADMIN, hid, iid, delivered_on=date(2026, 11, 20))
    assert first.households.get_household(ADMIN, hid)["interventions"][0]["status"] == "delivered"
    with pytest.raises(DuplicateKK) as refusal:
        register(second)
    assert refusal.value.existing_id == hid


def test_dates_come_back_as_dates_after_transcoding(open_store):
    writer = open_store()
    hid = register(writer)
    h = writer.households
    h.categorise(ADMIN, hid, category="miskin_ekstrem", desil=1, source="p3ke_dtsen_import", effective_on=date(2026, 3, 1), reason="x")
    iid = h.plan_intervention(ADMIN, hid, programme="pkh", agency="dinsos", planned_on=date(2026, 11, 1), delivered_on=date(2026, 11, 2))["intervention_id"]
    h.change_kk(ADMIN, hid, new_kk_number="3204050202210002", reason="reissue", effective_on=date(2026, 10, 1))
    h.record_member_left(ADMIN, hid, WIFE["nik"], reason="moved", left_on=date(2026, 9, 30))

    household = open_store().households.get_household(ADMIN, hid)  # a fresh instance: nothing cached
    interventions = {i["id"]: i for i in household["interventions"]}
    wife = next(m for m in household["members"] if m["nik"] == WIFE["nik"])
    found = {
        "head.birth_date": household["head"]["birth_date"],
        "effective_on": household["category"]["effective_on"],
        "planned_on": interventions[iid]["planned_on"],
        "delivered_on": interventions[iid]["delivered_on"],
        "left_on": wife["left_on"],
    }
    assert found == {
        "head.birth_date": date(1980, 3, 12),
        "effective_on": date(2026, 3, 1),
        "planned_on": date(2026, 11, 1),
        "delivered_on": date(2026, 11, 2),
        "left_on": date(2026, 9, 30),
    }
    assert all(type(value) is date for value in found.values())  # not datetimes, not strings
    kk_event = open_store().households.history(ADMIN, hid)[-2]
    assert kk_event["type"] == "KKChanged" and type(kk_event["data"]["effective_on"]) is date


def test_snapshots_are_stored_and_a_fresh_instance_loads_the_same_household_from_them(open_store):
    writer = open_store()
    hid = register(writer)
    for n in range(110):
        writer.households.plan_intervention(ADMIN, hid, programme="pkh", agency="dinsos", planned_on=date(2026, 11, 1),
                                            intervention_id=f"i{n}", delivered_on=date(2026, 11, 2) if n % 4 == 0 else None)

    reader = open_store().households
    snapshots = [s.originator_version for s in reader.snapshots.get(UUID(hid))]
    assert snapshots == [50, 100]
    loaded = reader.repository.get(UUID(hid))
    replayed = project_aggregate(None, reader.events.get(UUID(hid)))
    assert isinstance(loaded, Household)
    assert loaded.version == replayed.version == 1 + 110 + 28
    assert household_dict(loaded, reader.regions) == household_dict(replayed, reader.regions)


def test_the_kk_index_and_the_household_are_saved_together(store):
    hid = register(store)
    notifications = store.households.notification_log.select(start=1, limit=10)
    assert [(n.originator_version, n.topic.rsplit(".", 1)[-1]) for n in notifications] == [(1, "Registered"), (1, "Reserved")]
    assert str(notifications[0].originator_id) == hid


def test_a_postgresql_url_may_name_the_schema_both_stores_use(database_url, clock):
    if not database_url.startswith("postgresql"):
        pytest.skip("schemas in the URL are a PostgreSQL feature")
    import psycopg

    from service.container import Konvergen

    konvergen = Konvergen(f"{database_url}?schema=kabupaten_bandung", clock=clock)
    try:
        hid = register(konvergen)
        assert konvergen.households.get_household(ADMIN, hid)["kk_number"] == KK
        assert konvergen.users.count() == 0
    finally:
        konvergen.close()
    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
    assert {schema for schema, _ in rows} == {"kabupaten_bandung"}  # nothing landed in public
    tables = {table for _, table in rows}
    assert {"users", "regions", "households_events", "households_snapshots"} <= tables


def test_a_schema_name_that_is_not_an_identifier_is_refused_before_connecting():
    from service.storage import StorageConfigError, open_storage

    with pytest.raises(StorageConfigError, match="letters, digits and underscores"):
        open_storage("postgresql://postgres@127.0.0.1:5432/test?schema=x;DROP TABLE users")
