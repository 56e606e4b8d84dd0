"""Reference data in the database: regions (loadable per deployment) and programmes."""

from __future__ import annotations

import csv
import json
from importlib import resources
from pathlib import Path
from typing import IO, Iterable

from sqlalchemy import String, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from domain.reference import (
    REGION_LEVELS,
    Agency,
    Programme,
    ProgrammeCatalogue,
    Region,
    RegionCatalogue,
)
from service.db import Base

REGION_COLUMNS = ("code", "name", "level", "parent_code")


class RegionRow(Base):
    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(20), index=True)
    parent_code: Mapped[str | None] = mapped_column(String(20), index=True)


class RegionFileError(ValueError):
    """A region file is malformed; the message names the line."""


def read_region_file(stream: IO[str]) -> list[Region]:
    """Parses a region CSV (code,name,level,parent_code); every error names its line."""
    reader = csv.DictReader(stream)
    missing = [c for c in REGION_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise RegionFileError(f"line 1: missing column(s) {', '.join(missing)}")
    regions: list[Region] = []
    seen: set[str] = set()
    for row in reader:
        line = reader.line_num
        code = (row.get("code") or "").strip()
        name = (row.get("name") or "").strip()
        level = (row.get("level") or "").strip().lower()
        parent = (row.get("parent_code") or "").strip() or None
        if not code or not all(part.isdigit() for part in code.split(".")):
            raise RegionFileError(f"line {line}: code {code!r} is not a dotted region code")
        if not name:
            raise RegionFileError(f"line {line}: name is empty")
        if level not in REGION_LEVELS:
            raise RegionFileError(f"line {line}: level {level!r} is not one of {', '.join(REGION_LEVELS)}")
        if code in seen:
            raise RegionFileError(f"line {line}: code {code} appears twice")
        if parent is not None and not code.startswith(parent + "."):
            raise RegionFileError(f"line {line}: code {code} is not inside its parent {parent}")
        seen.add(code)
        regions.append(Region(code, name, level, parent))
    if not regions:
        raise RegionFileError("the file has no regions")
    return regions


def shipped_region_file() -> Path:
    return Path(str(resources.files("service") / "reference_data" / "regions_3204_kabupaten_bandung.csv"))


def load_regions(session: Session, regions: Iterable[Region]) -> int:
    """Adds or updates regions; never deletes, since households may point at them.

    One query finds the codes already known; new rows go in as one bulk insert, so
    loading a province (6,600 rows) or starting a fresh database stays quick.
    """
    regions = list(regions)
    existing = {
        row.code: row
        for row in session.scalars(select(RegionRow).where(RegionRow.code.in_([r.code for r in regions])))
    } if len(regions) <= 20_000 else {row.code: row for row in session.scalars(select(RegionRow))}
    new_rows = []
    for region in regions:
        row = existing.get(region.code)
        if row is None:
            new_rows.append(
                {"code": region.code, "name": region.name, "level": region.level, "parent_code": region.parent_code}
            )
        else:
            row.name, row.level, row.parent_code = region.name, region.level, region.parent_code
    if new_rows:
        session.execute(insert(RegionRow), new_rows)
    return len(regions)


def ensure_default_regions(session: Session) -> None:
    if session.scalar(select(RegionRow.code).limit(1)) is None:
        with open(shipped_region_file(), encoding="utf-8-sig") as stream:
            load_regions(session, read_region_file(stream))
        session.commit()


def region_catalogue(session: Session) -> RegionCatalogue:
    rows = session.scalars(select(RegionRow)).all()
    return RegionCatalogue(Region(r.code, r.name, r.level, r.parent_code) for r in rows)


def programme_catalogue() -> ProgrammeCatalogue:
    data = json.loads((resources.files("service") / "reference_data" / "programmes.json").read_text("utf-8"))
    return ProgrammeCatalogue(
        agencies=(Agency(a["code"], a["name"]) for a in data["agencies"]),
        programmes=(
            Programme(p["code"], p["name"], p["strategy"], tuple(p.get("agencies", ())))
            for p in data["programmes"]
        ),
    )
