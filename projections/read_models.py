"""The views as the API and the web UI ask for them.

One place turns an actor into a ``ReadScope``, takes "today" from the service's clock
(WIB), checks region codes against the reference data, and hands plain dicts back.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from projections.audit_trail import list_audit_events
from projections.follow_ups import count_follow_ups, list_follow_ups
from projections.monitoring import monitoring_summary
from projections.register import MAX_MAP_POINTS, map_points, search_households
from service.access import ADMIN, Actor
from service.errors import Forbidden


class ReadModels:
    def __init__(self, konvergen):
        self.konvergen = konvergen

    @property
    def db(self):
        return self.konvergen.storage.engine

    def _scope(self, reader: Actor):
        return self.konvergen.households.access.read_scope(reader)

    def _check_area(self, kecamatan: str | None, village: str | None) -> None:
        regions = self.konvergen.regions
        if kecamatan:
            regions.check_kecamatan(kecamatan, "kecamatan")
        if village:
            regions.check_village(village, "village")

    def households(self, reader: Actor, *, kecamatan: str | None = None, village: str | None = None, **filters) -> dict:
        """The household register: ``q``/``kk_number``/``nik``/``name`` search, filters, pages."""
        self._check_area(kecamatan, village)
        return search_households(
            self.db,
            self._scope(reader),
            today=self.konvergen.clock.today(),
            kecamatan=kecamatan,
            village=village,
            regions=self.konvergen.regions,
            **filters,
        )

    def map_points(
        self,
        reader: Actor,
        *,
        kecamatan: str | None = None,
        village: str | None = None,
        limit: int = MAX_MAP_POINTS,
        **filters,
    ) -> dict:
        """Households with coordinates, filtered like ``households``; ``truncated`` past ``limit``."""
        self._check_area(kecamatan, village)
        return map_points(
            self.db,
            self._scope(reader),
            today=self.konvergen.clock.today(),
            kecamatan=kecamatan,
            village=village,
            limit=limit,
            regions=self.konvergen.regions,
            **filters,
        )

    def monitoring_summary(self, reader: Actor, *, kecamatan: str | None = None, village: str | None = None) -> dict:
        self._check_area(kecamatan, village)
        return monitoring_summary(
            self.db, self._scope(reader), kecamatan=kecamatan, village=village, regions=self.konvergen.regions
        )

    def follow_ups(
        self,
        reader: Actor,
        *,
        kecamatan: str | None = None,
        village: str | None = None,
        household_id: UUID | str | None = None,
        **filters,
    ) -> dict:
        """Open follow-ups; ``status`` is ``open``, ``overdue`` or ``due-soon``."""
        self._check_area(kecamatan, village)
        return list_follow_ups(
            self.db,
            self._scope(reader),
            today=self.konvergen.clock.today(),
            kecamatan=kecamatan,
            village=village,
            household_id=str(household_id) if household_id else None,
            regions=self.konvergen.regions,
            **filters,
        )

    def count_follow_ups(
        self, reader: Actor, *, kecamatan: str | None = None, village: str | None = None, **filters
    ) -> int:
        """How many follow-ups ``follow_ups`` would list (e.g. ``status="overdue"``)."""
        self._check_area(kecamatan, village)
        return count_follow_ups(
            self.db,
            self._scope(reader),
            today=self.konvergen.clock.today(),
            kecamatan=kecamatan,
            village=village,
            **filters,
        )

    def audit_events(
        self,
        reader: Actor,
        *,
        household_id: UUID | str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        **filters,
    ) -> dict:
        """The audit trail newest first; ``actor``, ``event_type`` and a time range narrow it."""
        return list_audit_events(
            self.db,
            self._scope(reader),
            household_id=str(household_id) if household_id else None,
            since=since,
            until=until,
            **filters,
        )

    def projection_status(self, reader: Actor) -> list[dict]:
        """Positions and lag of every projection: for administrators only."""
        if reader.role != ADMIN:
            raise Forbidden("only administrators may see the projections' status")
        from projections.runner import build_engine

        runner = self.konvergen.projections
        engine = getattr(runner, "engine", None) or build_engine(self.konvergen)
        return engine.status()
