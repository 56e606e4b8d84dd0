"""Finding a village from a file's code or its village and kecamatan names.

Village names repeat across Kabupaten Bandung (there is a Cibodas in two kecamatan),
so a name alone is accepted only when it is unique; otherwise the kecamatan decides.
"""

from __future__ import annotations

import re
from collections import defaultdict

from domain.reference import RegionCatalogue
from service.importing.cells import CellError

_PREFIX = re.compile(r"^(desa|kelurahan|kel|ds|kecamatan|kec)\b\.?\s*")


def name_key(name: object) -> str:
    """'Kec. CILEUNYI ' -> 'cileunyi'; 'Desa Cileunyi Kulon' -> 'cileunyi kulon'."""
    text = " ".join(str(name or "").replace("\u00a0", " ").casefold().split())
    return " ".join(_PREFIX.sub("", text).replace("-", " ").split())


class VillageResolver:
    def __init__(self, regions: RegionCatalogue):
        self.regions = regions
        self._by_name: dict[str, list] = defaultdict(list)
        for village in regions.villages():
            self._by_name[name_key(village.name)].append(village)

    def kecamatan_name(self, village_code: str) -> str:
        kecamatan = self.regions.get(self.regions.kecamatan_of(village_code) or "")
        return kecamatan.name if kecamatan else ""

    def by_names(self, village: str, kecamatan: str) -> str:
        """The code of the village with this name (in this kecamatan, when given)."""
        candidates = self._by_name.get(name_key(village), [])
        if not candidates:
            raise CellError(f"{village!r} is not a known village")
        if kecamatan:
            wanted = name_key(kecamatan)
            candidates = [v for v in candidates if name_key(self.kecamatan_name(v.code)) == wanted]
            if not candidates:
                raise CellError(f"there is no village {village!r} in kecamatan {kecamatan!r}")
        if len(candidates) > 1:
            places = ", ".join(sorted(self.kecamatan_name(v.code) for v in candidates))
            raise CellError(f"{village!r} is the name of villages in {places}; give the Kecamatan or Kode Desa")
        return candidates[0].code

    def disagreement(self, code: str, village: str, kecamatan: str) -> tuple[str, str] | None:
        """(field, reason) when the names given beside a code contradict it."""
        region = self.regions.get(code)
        if region is None:
            return None  # the domain reports an unknown code
        if village and name_key(village) != name_key(region.name):
            return "village_name", f"{village!r} is not the name of village {code} ({region.name})"
        if kecamatan and name_key(kecamatan) != name_key(self.kecamatan_name(code)):
            return "kecamatan_name", f"village {code} lies in kecamatan {self.kecamatan_name(code)}, not {kecamatan!r}"
        return None
