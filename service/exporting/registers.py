"""Households (one row per present member) and interventions, as CSV or XLSX.

Households are found through the event store's notification log (every
``Household.Registered`` event names one) and read through the service's own use
case, so the access policy decides, in its one place, whom each reader may see.
Closed households are not part of the register and are not exported; members who
left are in the household's history, not in the register layout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from eventsourcing.utils import get_topic

from domain.household import CLOSED, Household
from service.access import Actor
from service.errors import HouseholdNotFound
from service.exporting.tables import open_table
from service.importing.cells import CATEGORY_LABELS, RELATIONSHIP_LABELS
from service.importing.layouts import HOUSEHOLDS, INTERVENTIONS

PAGE = 500
INTERVENTION_EXTRA_HEADERS = ["Kepala Keluarga", "Desa/Kelurahan"]


def iter_households(konvergen, actor: Actor) -> Iterator[dict]:
    """Every household the actor may read, in registration order, one at a time."""
    app = konvergen.households
    topic = get_topic(Household.Registered)
    start = 1
    while True:
        notifications = app.recorder.select_notifications(start=start, limit=PAGE, topics=[topic])
        if not notifications:
            return
        for notification in notifications:
            try:
                yield app.get_household(actor, notification.originator_id)
            except HouseholdNotFound:
                continue  # outside the reader's scope: not theirs to export
        start = notifications[-1].id + 1


def household_rows(household: dict) -> Iterator[list]:
    """The household in the importer's households layout: one row per present member."""
    address = household["address"]
    location = household["location"] or {}
    category = household["category"] or {}
    shared = {
        "kk_number": household["kk_number"],
        "street": address["street"],
        "rt": address["rt"],
        "rw": address["rw"],
        "village_code": address["village_code"],
        "village_name": address.get("village_name") or "",
        "kecamatan_name": address.get("kecamatan_name") or "",
        "desil": category.get("desil"),
        "category": CATEGORY_LABELS.get(category.get("category"), category.get("category")),
        "category_source": category.get("source"),
        "category_date": category.get("effective_on"),
        "lat": location.get("lat"),
        "lon": location.get("lon"),
    }
    for member in household["members"]:
        if member.get("status", "present") != "present":
            continue
        values = dict(
            shared,
            nik=member["nik"],
            name=member["name"],
            relationship=RELATIONSHIP_LABELS.get(member["relationship"], member["relationship"]),
            sex=member["sex"],
            birth_date=member["birth_date"],
        )
        yield [values.get(name) for name in HOUSEHOLDS.field_names]


def export_households(konvergen, actor: Actor, path: str | Path, fmt: str | None = None) -> dict:
    households = rows = 0
    with open_table(path, HOUSEHOLDS.headers, fmt=fmt, sheet_title="Rumah Tangga") as table:
        for household in iter_households(konvergen, actor):
            if household["status"] == CLOSED:
                continue
            households += 1
            for row in household_rows(household):
                table.write(row)
                rows += 1
    return {"households": households, "rows": rows}


def intervention_rows(household: dict) -> Iterator[list]:
    head = household["head"]["name"]
    village = household["address"].get("village_name") or household["address"]["village_code"]
    for item in household["interventions"]:
        values = {
            "kk_number": household["kk_number"],
            "intervention_id": item["id"],
            "programme": item["programme"],
            "agency": item["agency"],
            "strategy": item["strategy"],
            "status": item["status"],
            "planned_on": item["planned_on"],
            "delivered_on": item["delivered_on"],
            "value_idr": item["value_idr"],
            "notes": item["notes"],
            "cancel_reason": item["cancelled_reason"],
        }
        yield [values.get(name) for name in INTERVENTIONS.field_names] + [head, village]


def export_interventions(konvergen, actor: Actor, path: str | Path, fmt: str | None = None) -> dict:
    households = rows = 0
    headers = INTERVENTIONS.headers + INTERVENTION_EXTRA_HEADERS
    with open_table(path, headers, fmt=fmt, sheet_title="Intervensi") as table:
        for household in iter_households(konvergen, actor):
            written = 0
            for row in intervention_rows(household):
                table.write(row)
                written += 1
            rows += written
            households += 1 if written else 0
    return {"households": households, "rows": rows}
