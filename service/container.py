"""Wires the service together from one database URL: stores, reference data, use cases."""

from __future__ import annotations

from service.clock import Clock
from service.db import create_tables, session_factory
from service.households import Households
from service.reference import ensure_default_regions, programme_catalogue, region_catalogue
from service.storage import Storage, open_storage
from service.users import UserDirectory


class Konvergen:
    """Everything a web worker, the CLI or a test needs, built once per process."""

    def __init__(self, url: str | None = None, *, clock: Clock | None = None):
        self.storage: Storage = open_storage(url)
        self.clock = clock or Clock()
        try:
            self.sessions = session_factory(self.storage.engine)
            # Workers starting together on a fresh database take turns creating it.
            with self.storage.schema_lock():
                create_tables(self.storage.engine)
                with self.sessions() as session:
                    ensure_default_regions(session)
            with self.sessions() as session:
                self.regions = region_catalogue(session)
        except BaseException:
            # A half-built service must not leak its connections.
            self.storage.dispose()
            raise
        self.programmes = programme_catalogue()
        self.users = UserDirectory(self.sessions, self.regions, self.programmes, self.clock)
        self.households = Households(
            self.storage.eventstore_env,
            regions=self.regions,
            programmes=self.programmes,
            clock=self.clock,
            user_exists=self.users.exists,
        )

    # -- read your writes ------------------------------------------------------

    projections = None  # a projection runner, when the process runs one (issue 3)

    def wait_for(self, position: int | None, timeout: float = 2.0) -> bool:
        """Blocks (bounded) until every projection has processed ``position``.

        Called after each command by the API and web UI so the next page a user sees
        already shows their change. True when caught up (or nothing to wait for).
        """
        if self.projections is None or not position:
            return True
        return self.projections.wait_until(position, timeout)

    def close(self) -> None:
        if self.projections is not None:
            self.projections.stop()
        self.households.close()
        self.storage.dispose()
