"""Reference data the rules check against: regions, programmes, agencies, strategies.

Pure values built from rows the service loads; the domain never reads a file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from domain.errors import InvalidValue

VILLAGE_LEVELS = ("desa", "kelurahan")
REGION_LEVELS = ("provinsi", "kabupaten", "kota", "kecamatan", "desa", "kelurahan")

# Inpres 4/2022: the three strategies every intervention serves.
STRATEGIES = {
    "pengurangan_beban": "Pengurangan beban pengeluaran",
    "peningkatan_pendapatan": "Peningkatan pendapatan",
    "penurunan_kantong_kemiskinan": "Penurunan kantong kemiskinan",
}


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str
    parent_code: str | None


class RegionCatalogue:
    """Regions by code, with the village -> kecamatan -> kabupaten chain."""

    def __init__(self, regions: Iterable[Region]):
        self._by_code = {region.code: region for region in regions}

    def __len__(self) -> int:
        return len(self._by_code)

    def get(self, code: str) -> Region | None:
        return self._by_code.get(code)

    def villages(self, kecamatan_code: str | None = None) -> list[Region]:
        return [
            r
            for r in self._by_code.values()
            if r.level in VILLAGE_LEVELS
            and (kecamatan_code is None or r.parent_code == kecamatan_code)
        ]

    def kecamatan(self, parent_code: str | None = None) -> list[Region]:
        return [
            r
            for r in self._by_code.values()
            if r.level == "kecamatan" and (parent_code is None or r.parent_code == parent_code)
        ]

    def all(self) -> list[Region]:
        return list(self._by_code.values())

    def kecamatan_of(self, village_code: str) -> str | None:
        village = self._by_code.get(village_code)
        return village.parent_code if village else None

    def check_village(self, code: str, field: str = "address.village_code") -> Region:
        region = self._by_code.get(code) if isinstance(code, str) else None
        if region is None or region.level not in VILLAGE_LEVELS:
            raise InvalidValue(field, f"{code!r} is not a known village code")
        return region

    def check_kecamatan(self, code: str, field: str = "kecamatan") -> Region:
        region = self._by_code.get(code) if isinstance(code, str) else None
        if region is None or region.level != "kecamatan":
            raise InvalidValue(field, f"{code!r} is not a known kecamatan code")
        return region


@dataclass(frozen=True)
class Agency:
    code: str
    name: str


@dataclass(frozen=True)
class Programme:
    code: str
    name: str
    strategy: str
    agencies: tuple[str, ...] = field(default_factory=tuple)


class ProgrammeCatalogue:
    """Programmes and the agencies allowed to deliver them."""

    def __init__(self, agencies: Iterable[Agency], programmes: Iterable[Programme]):
        self.agencies = {a.code: a for a in agencies}
        self.programmes = {p.code: p for p in programmes}

    def check_intervention(self, programme: str, agency: str, strategy: str) -> None:
        found = self.programmes.get(programme)
        if found is None:
            raise InvalidValue("programme", f"{programme!r} is not a known programme code")
        if agency not in self.agencies:
            raise InvalidValue("agency", f"{agency!r} is not a known agency code")
        if found.agencies and agency not in found.agencies:
            raise InvalidValue(
                "agency",
                f"{agency!r} does not deliver {programme!r} (allowed: {', '.join(found.agencies)})",
            )
        if strategy not in STRATEGIES:
            raise InvalidValue("strategy", f"must be one of {', '.join(STRATEGIES)}")

    def check_agency(self, agency: str, field: str = "agency") -> Agency:
        if agency not in self.agencies:
            raise InvalidValue(field, f"{agency!r} is not a known agency code")
        return self.agencies[agency]
