"""Running the jobs: APScheduler 3 with its SQLAlchemy job store, behind a database lease.

Only the process holding the lease (a row in ``scheduler_lease`` with an owner and
an expiry, renewed in a transaction) runs APScheduler; any other process started by
mistake (a second `konvergen scheduler run`, a second web worker) waits on standby and
takes over when the holder stops renewing. APScheduler's job store must not be shared
by running schedulers, and with the lease it never is. Each job checks the lease again
before it works, and the stores' unique keys would still refuse a duplicate reminder
if two ever ran.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
import uuid
from datetime import datetime, timedelta, timezone
from typing import Callable

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, inspect, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from service.clock import WIB, Clock
from service.container import Konvergen
from service.access import ADMIN, Actor
from service.errors import Forbidden
from service.scheduler.config import SchedulerConfig, SchedulerConfigError, describe, load_config
from service.scheduler.outbox import Outbox
from service.scheduler.tables import JobRun, SchedulerLease, ensure_tables
from service.scheduler.wiring import Scheduler

log = logging.getLogger("konvergen.scheduler")

LEASE_NAME = "scheduler"
JOBSTORE_TABLE = "apscheduler_jobs"
JOB_IDS = ("reminders", "digest", "deliveries")
LAST_HOUR = 20  # WIB: no reminder pass starts later in the evening
lease_t = SchedulerLease.__table__
runs_t = JobRun.__table__
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _insert(dialect: str, table):
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


class Lease:
    """"Who runs the jobs" as a database row: held while renewed, free once expired."""

    def __init__(self, engine: Engine, clock: Clock, *, seconds: int, name: str = LEASE_NAME, owner: str | None = None):
        ensure_tables(engine)
        self.engine = engine
        self.clock = clock
        self.seconds = seconds
        self.name = name
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def acquire(self) -> bool:
        """Takes the lease if it is free or expired, renews it if ours; True when held."""
        now = self.clock.now()
        with self.engine.begin() as conn:
            conn.execute(
                _insert(conn.dialect.name, lease_t)
                .values(name=self.name, owner=None, acquired_at=None, expires_at=EPOCH)
                .on_conflict_do_nothing(index_elements=["name"])
            )
        with self.engine.begin() as conn:
            mine = lease_t.c.owner == self.owner
            taken = conn.execute(
                update(lease_t)
                .where(lease_t.c.name == self.name, or_(mine, lease_t.c.owner.is_(None), lease_t.c.expires_at < now))
                .values(owner=self.owner, expires_at=now + timedelta(seconds=self.seconds))
            ).rowcount
            if taken:
                conn.execute(
                    update(lease_t)
                    .where(lease_t.c.name == self.name, lease_t.c.acquired_at.is_(None))
                    .values(acquired_at=now)
                )
        return taken == 1

    def release(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(lease_t)
                .where(lease_t.c.name == self.name, lease_t.c.owner == self.owner)
                .values(owner=None, acquired_at=None, expires_at=EPOCH)
            )

    def holder(self) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(lease_t).where(lease_t.c.name == self.name)).one_or_none()
        if row is None or row.owner is None:
            return None
        return {
            "owner": row.owner,
            "acquired_at": row.acquired_at,
            "expires_at": row.expires_at,
            "live": row.expires_at >= self.clock.now(),
        }


def record_run(engine: Engine, clock: Clock, job_id: str, work: Callable[[], dict]) -> dict:
    """Runs a job and remembers when, how it went and what it did, for `status`."""
    started = clock.now()
    with engine.begin() as conn:
        conn.execute(_insert(conn.dialect.name, runs_t).values(job_id=job_id, runs=0).on_conflict_do_nothing(index_elements=["job_id"]))
        conn.execute(
            update(runs_t).where(runs_t.c.job_id == job_id).values(runs=runs_t.c.runs + 1, last_started_at=started)
        )
    try:
        summary = work()
    except Exception as error:
        with engine.begin() as conn:
            conn.execute(
                update(runs_t)
                .where(runs_t.c.job_id == job_id)
                .values(
                    last_finished_at=clock.now(),
                    last_status="error",
                    last_error="".join(traceback.format_exception_only(error)).strip()[:2000],
                )
            )
        raise
    with engine.begin() as conn:
        conn.execute(
            update(runs_t)
            .where(runs_t.c.job_id == job_id)
            .values(last_finished_at=clock.now(), last_status="ok", last_error=None, last_summary=summary)
        )
    return summary


# APScheduler stores a job as a reference to a module-level function and its arguments;
# the runner itself is found here by its key, since it cannot be pickled.
_RUNNERS: dict[str, SchedulerRunner] = {}


def run_job(runner_key: str, job_id: str) -> None:
    runner = _RUNNERS.get(runner_key)
    if runner is None:
        log.warning("job %s fired for runner %s, which is not running in this process", job_id, runner_key)
        return
    runner.run_job(job_id)


class SchedulerRunner:
    """The lease loop and, while the lease is held, APScheduler with the three jobs."""

    def __init__(self, scheduler: Scheduler, *, owner: str | None = None, poll_seconds: float | None = None):
        self.scheduler = scheduler
        config = scheduler.config
        self.lease = Lease(scheduler.engine, scheduler.konvergen.clock, seconds=config.lease_seconds, owner=owner)
        self.key = self.lease.owner
        self.poll_seconds = poll_seconds or max(config.lease_seconds / 3, 1)
        self._aps: BackgroundScheduler | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running_jobs(self) -> bool:
        return self._aps is not None

    def start(self) -> SchedulerRunner:
        """In the background (the embedded default inside `konvergen serve`)."""
        _RUNNERS[self.key] = self
        self._thread = threading.Thread(target=self._loop, name="konvergen-scheduler", daemon=True)
        self._thread.start()
        return self

    def run_forever(self) -> None:
        """In the foreground (`konvergen scheduler run`), until ``stop()`` or a signal."""
        _RUNNERS[self.key] = self
        self._loop()

    def stop(self, timeout: float = 30) -> None:
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _loop(self) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    held = self.lease.acquire()
                except Exception:  # noqa: BLE001 - a database hiccup: try again next round
                    log.exception("could not renew the scheduler lease")
                    held = False
                if held and self._aps is None:
                    log.info("scheduler lease taken by %s: running jobs", self.key)
                    self._start_jobs()
                elif not held and self._aps is not None:
                    log.warning("scheduler lease lost by %s: jobs stopped", self.key)
                    self._stop_jobs()
                self._stopping.wait(self.poll_seconds)
        finally:
            self._stop_jobs()
            try:
                self.lease.release()
            except Exception:  # noqa: BLE001 - the lease expires by itself
                log.exception("could not release the scheduler lease")
            _RUNNERS.pop(self.key, None)

    def _start_jobs(self) -> None:
        config = self.scheduler.config
        aps = BackgroundScheduler(
            timezone=WIB,
            jobstores={"default": SQLAlchemyJobStore(engine=self.scheduler.engine, tablename=JOBSTORE_TABLE)},
            executors={"default": ThreadPoolExecutor(2)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600},
        )
        hour, minute = config.run_at.hour, config.run_at.minute
        jobs = {
            # First at run_at, then hourly until the evening: a follow-up scheduled during
            # the day for tomorrow still gets today's reminder; none goes twice.
            "reminders": CronTrigger(hour=f"{hour}-{max(hour, LAST_HOUR)}", minute=minute, timezone=WIB),
            "digest": CronTrigger(day_of_week=config.digest_weekday, hour=hour, minute=minute, timezone=WIB),
            "deliveries": IntervalTrigger(seconds=config.delivery_interval_seconds, timezone=WIB),
        }
        # The reminder and digest passes also run right away: the rules are windows, so
        # whatever a stopped scheduler missed is sent now, and nothing sent goes again.
        now = datetime.now(WIB)
        for job_id, trigger in jobs.items():
            aps.add_job(
                "service.scheduler.runner:run_job",
                trigger,
                args=[self.key, job_id],
                id=job_id,
                name=job_id,
                replace_existing=True,
                **({} if job_id == "deliveries" else {"next_run_time": now}),
            )
        aps.start()
        self._aps = aps

    def _stop_jobs(self) -> None:
        aps, self._aps = self._aps, None
        if aps is not None:
            aps.shutdown(wait=True)

    def run_job(self, job_id: str) -> dict | None:
        if not self.lease.acquire():
            log.warning("job %s skipped: %s no longer holds the scheduler lease", job_id, self.key)
            return None
        scheduler = self.scheduler
        work = {
            "reminders": lambda: {"reminders": scheduler.run_reminders().as_dict(), "deliveries": scheduler.deliver().as_dict()},
            "digest": lambda: {"digests": scheduler.run_digests().as_dict(), "deliveries": scheduler.deliver().as_dict()},
            "deliveries": lambda: {"deliveries": scheduler.deliver().as_dict()},
        }[job_id]
        return record_run(scheduler.engine, scheduler.konvergen.clock, job_id, work)


def start_scheduler(konvergen: Konvergen, config: SchedulerConfig | None = None, **options) -> SchedulerRunner:
    """The embedded default: the scheduler in a background thread of this process.

    Answers the runner; call its ``stop()`` when the process shuts down.
    """
    return SchedulerRunner(Scheduler(konvergen, config, **options)).start()


def status_for(actor: Actor, konvergen: Konvergen) -> dict:
    """The status page's content: administrators only. A broken setting is shown, not raised."""
    if actor.role != ADMIN:
        raise Forbidden("only administrators may see the scheduler's status")
    try:
        config, problem = load_config(), None
    except SchedulerConfigError as error:
        config, problem = SchedulerConfig(), str(error)
    return dict(scheduler_status(konvergen, config), config_error=problem)


def scheduler_status(konvergen: Konvergen, config: SchedulerConfig | None = None) -> dict:
    """Jobs with their last and next runs, the lease, and delivery counts and failures."""
    config = config or load_config()
    engine = konvergen.storage.engine
    lease = Lease(engine, konvergen.clock, seconds=config.lease_seconds)
    outbox = Outbox(engine, konvergen.clock, config)
    with engine.connect() as conn:
        runs = {row.job_id: row for row in conn.execute(select(runs_t))}
        next_runs: dict[str, datetime | None] = {}
        if inspect(conn).has_table(JOBSTORE_TABLE):
            for job_id, timestamp in conn.exec_driver_sql(f"SELECT id, next_run_time FROM {JOBSTORE_TABLE}"):
                next_runs[job_id] = datetime.fromtimestamp(timestamp, timezone.utc) if timestamp is not None else None
    jobs = []
    for job_id in dict.fromkeys([*JOB_IDS, *runs]):
        run = runs.get(job_id)
        jobs.append(
            {
                "id": job_id,
                "next_run_at": next_runs.get(job_id),
                "runs": run.runs if run else 0,
                "last_started_at": run.last_started_at if run else None,
                "last_finished_at": run.last_finished_at if run else None,
                "last_status": run.last_status if run else None,
                "last_error": run.last_error if run else None,
                "last_summary": run.last_summary if run else None,
            }
        )
    return {
        "lease": lease.holder(),
        "jobs": jobs,
        "outbox": outbox.counts(),
        "recent_failures": outbox.recent_failures(),
        "config": describe(config),
    }
