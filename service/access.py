"""Who may read and change which household: the one place scope is decided.

Readers who may not see a household are told it does not exist (404); those who may
see it but not change it are told no (403). Every use case asks here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.reference import RegionCatalogue
from service.errors import Forbidden

CASE_WORKER = "case_worker"
AGENCY_OFFICER = "agency_officer"
SUPERVISOR = "supervisor"
AUDITOR = "auditor"
ADMIN = "admin"
SYSTEM = "system"
ROLES = (CASE_WORKER, AGENCY_OFFICER, SUPERVISOR, AUDITOR, ADMIN)


@dataclass(frozen=True)
class Actor:
    """The person (or the scheduler) on whose behalf a use case runs."""

    username: str
    role: str
    villages: frozenset[str] = field(default_factory=frozenset)
    kecamatan: str | None = None
    agency: str | None = None
    display_name: str = ""

    @property
    def is_read_only(self) -> bool:
        return self.role == AUDITOR


SYSTEM_ACTOR = Actor(username="system", role=SYSTEM, display_name="Konvergen")


@dataclass(frozen=True)
class ReadScope:
    """What a reader may see, as filters a read model can apply in SQL.

    ``everything`` wins; otherwise a row is visible when its village is in
    ``villages`` or its kecamatan is in ``kecamatan``.
    """

    everything: bool = False
    villages: frozenset[str] = frozenset()
    kecamatan: frozenset[str] = frozenset()

    def allows(self, village_code: str, kecamatan_code: str | None) -> bool:
        return (
            self.everything
            or village_code in self.villages
            or (kecamatan_code is not None and kecamatan_code in self.kecamatan)
        )


class AccessPolicy:
    def __init__(self, regions: RegionCatalogue):
        self.regions = regions

    def read_scope(self, actor: Actor) -> ReadScope:
        if actor.role in (AGENCY_OFFICER, AUDITOR, ADMIN, SYSTEM):
            return ReadScope(everything=True)
        if actor.role == SUPERVISOR and actor.kecamatan:
            return ReadScope(kecamatan=frozenset({actor.kecamatan}))
        if actor.role == CASE_WORKER:
            return ReadScope(villages=frozenset(actor.villages))
        return ReadScope()

    def can_read(self, actor: Actor, village_code: str) -> bool:
        return self.read_scope(actor).allows(village_code, self.regions.kecamatan_of(village_code))

    def _manages(self, actor: Actor, village_code: str) -> bool:
        """Case workers, supervisors and admins change households in their area."""
        if actor.role in (ADMIN, SYSTEM):
            return True
        if actor.role in (CASE_WORKER, SUPERVISOR):
            return self.can_read(actor, village_code)
        return False

    def check_register(self, actor: Actor, village_code: str) -> None:
        if not self._manages(actor, village_code):
            raise Forbidden(f"{actor.username} may not register households in village {village_code}")

    def check_change(self, actor: Actor, village_code: str) -> None:
        """Any change to the household that is not an agency's own intervention."""
        if not self._manages(actor, village_code):
            raise Forbidden(f"{actor.username} ({actor.role}) may not change this household")

    def check_intervention(self, actor: Actor, village_code: str, agency: str) -> None:
        """Agency officers write their own agency's interventions, anywhere."""
        if actor.role == AGENCY_OFFICER:
            if actor.agency != agency:
                raise Forbidden(
                    f"{actor.username} records interventions of agency {actor.agency}, not {agency}"
                )
            return
        self.check_change(actor, village_code)
