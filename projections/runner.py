"""Running the projections: in a background thread of the web process, or as a worker.

* ``embedded`` (the default, what ``konvergen serve`` uses): a daemon thread catches up
  whenever a command asks to read its own write (``Konvergen.wait_for`` wakes it), on
  PostgreSQL whenever the event store NOTIFYs an insert, and otherwise every
  ``poll_interval`` seconds for writes made by other processes (imports, the CLI).
* ``worker``: the web process runs no projections; ``konvergen projections run`` does,
  in its own process, and the web process only watches the tracking table to honour
  read-your-writes. For PostgreSQL deployments with several web workers.
* ``inline``: no thread; a read-your-writes wait catches up in the caller's thread.
  Used by tests and whenever the store is ``memory://``, whose single shared SQLite
  connection must not be used from two threads at once.

``KONVERGEN_PROJECTIONS`` chooses the mode; ``start_projections(konvergen)`` applies it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from functools import partial
from typing import Callable

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from projections.audit_trail import AuditTrail
from projections.engine import CatchUp, Projection, ProjectionEngine
from projections.follow_ups import FollowUps
from projections.log import NotificationLog, PostgresGaps, SingleWriterGaps
from projections.monitoring import Monitoring
from projections.register import HouseholdRegister

log = logging.getLogger("konvergen.projections")

MODE_ENV = "KONVERGEN_PROJECTIONS"
MODES = ("embedded", "worker", "inline")
POLL_INTERVAL = 1.0
RETRY_DELAY = 5.0
GAP_RETRY = 0.05


def build_projections(regions) -> list[Projection]:
    return [HouseholdRegister(regions), Monitoring(regions), FollowUps(regions), AuditTrail(regions)]


def build_engine(konvergen, *, db: Engine | None = None, **options) -> ProjectionEngine:
    """The engine over this Konvergen's event store, writing into its database."""
    storage = konvergen.storage
    if storage.kind == "postgresql":
        gaps = PostgresGaps(storage.engine, konvergen.households)
    else:
        gaps = SingleWriterGaps()
    notification_log = NotificationLog(konvergen.households, gaps)
    shared = db is None and storage.kind in ("sqlite", "postgresql")
    return ProjectionEngine(
        db or storage.engine,
        notification_log,
        build_projections(konvergen.regions),
        clock=konvergen.clock,
        rebuild_share=partial(rebuild_share, storage.url) if shared else None,
        **options,
    )


def rebuild_share(url: str, names: list[str], batch_size: int | None) -> int:
    """One process's share of a parallel rebuild: its own service over the same
    store (``projections.parallel``). Returns the number of events replayed."""
    from service.container import Konvergen

    konvergen = Konvergen(url)
    try:
        return build_engine(konvergen).rebuild(names, batch_size=batch_size).events
    finally:
        konvergen.close()


class ProjectionRunner:
    """Keeps every projection caught up, and lets commands wait until it has."""

    def __init__(
        self,
        engine: ProjectionEngine,
        *,
        poll_interval: float = POLL_INTERVAL,
        retry_delay: float = RETRY_DELAY,
        listener_factory: Callable[[Callable[[], None]], "PostgresListener"] | None = None,
    ):
        self.engine = engine
        self.poll_interval = poll_interval
        self.retry_delay = retry_delay
        self.listener_factory = listener_factory
        self.position = 0  # the lowest position of all projections, as last seen
        self.last_error: str | None = None
        self._prepared = False
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._progress = threading.Condition()
        self._catching_up = threading.Lock()
        self._thread: threading.Thread | None = None
        self._listener: PostgresListener | None = None

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> ProjectionRunner:
        self._thread = threading.Thread(target=self.run_forever, name="konvergen-projections", daemon=True)
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run_forever(self) -> None:
        """Catches up, sleeps until woken (or the poll interval passes), repeats."""
        if self.listener_factory is not None:
            self._listener = self.listener_factory(self.wake).start()
        while not self._stopping.is_set():
            try:
                result = self.catch_up()
                self.last_error = None
                pause = GAP_RETRY if result.blocked else self.poll_interval
            except Exception as error:  # keep serving; status and the log say what failed
                log.exception("projections failed; retrying in %.0f s", self.retry_delay)
                self.last_error = f"{type(error).__name__}: {error}"
                pause = self.retry_delay
            self._wake.wait(pause)
            self._wake.clear()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._listener is not None:
            self._listener.stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    # -- catching up ----------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def catch_up(self) -> CatchUp:
        """One catch-up of every projection, in this thread (one at a time per process)."""
        with self._catching_up:
            if not self._prepared:
                stale = self.engine.stale()
                if stale:
                    log.warning("projections %s are new or stale: rebuilding them", ", ".join(stale))
                self.engine.prepare()
                self._prepared = True
            result = self.engine.catch_up()
            self._publish(self.engine.min_position())
            return result

    def _publish(self, position: int) -> None:
        with self._progress:
            self.position = position
            self._progress.notify_all()

    def wait_until(self, position: int, timeout: float) -> bool:
        """True once every projection has applied ``position``; False after ``timeout``."""
        if self.position >= position:
            return True
        if not self.running:
            try:
                self.catch_up()
            except Exception:
                log.exception("projections failed while catching up inline")
                return False
            return self.position >= position
        deadline = time.monotonic() + timeout
        self.wake()
        with self._progress:
            while self.position < position:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._progress.wait(remaining)
        return True


class TrackingWatcher:
    """Read-your-writes for a web process whose projections run in another process:
    polls the tracking table until the position is reached."""

    def __init__(self, engine: ProjectionEngine, *, interval: float = 0.02):
        self.engine = engine
        self.interval = interval

    def wait_until(self, position: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            if self.engine.min_position() >= position:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(self.interval)

    def stop(self) -> None:
        """Nothing runs here to stop."""


class PostgresListener:
    """Wakes the runner when the event store NOTIFYs an insert (PostgreSQL only).

    The eventsourcing library sends ``NOTIFY <events table>`` with every insert; this
    thread LISTENs on its own connection. Polling still runs, so a lost connection
    only makes the views a poll interval later, never wrong.
    """

    def __init__(self, url: str, channel: str, wake: Callable[[], None]):
        parsed = make_url(url).set(drivername="postgresql", query={})
        self.conninfo = parsed.render_as_string(hide_password=False)
        self.channel = channel
        self.wake = wake
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> PostgresListener:
        self._thread = threading.Thread(target=self._listen, name="konvergen-projections-listen", daemon=True)
        self._thread.start()
        return self

    def _listen(self) -> None:
        import psycopg
        from psycopg import sql

        while not self._stopping.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=10) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                    while not self._stopping.is_set():
                        for _notification in conn.notifies(timeout=1.0):
                            self.wake()
            except psycopg.Error as error:
                log.warning("LISTEN %s failed (%s); polling only for %.0f s", self.channel, error, RETRY_DELAY)
                self._stopping.wait(RETRY_DELAY)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(2.0)


def listener_factory_for(konvergen) -> Callable | None:
    """On PostgreSQL, a factory for the NOTIFY listener; elsewhere None (polling)."""
    channel = getattr(konvergen.households.recorder, "channel_name", None)
    if konvergen.storage.kind != "postgresql" or not channel:
        return None
    return lambda wake: PostgresListener(konvergen.storage.url, channel, wake)


def start_projections(konvergen, *, mode: str | None = None):
    """Runs the projections for this process as ``KONVERGEN_PROJECTIONS`` says
    (default ``embedded``) and makes ``konvergen.wait_for`` wait on them."""
    mode = (mode or os.environ.get(MODE_ENV) or "embedded").strip().lower()
    if mode not in MODES:
        raise ValueError(f"{MODE_ENV}={mode!r}: use one of {', '.join(MODES)}")
    engine = build_engine(konvergen)
    if mode == "worker":
        runner = TrackingWatcher(engine)
    elif mode == "inline" or konvergen.storage.kind == "memory":
        runner = ProjectionRunner(engine)
    else:
        runner = ProjectionRunner(engine, listener_factory=listener_factory_for(konvergen)).start()
    konvergen.projections = runner
    return runner
