"""Running the projections: a background thread, read-your-writes, a separate worker."""

from __future__ import annotations

import threading
import time

import pytest

from projection_builders import ADMIN, Cases
from projections.read_models import ReadModels
from projections.runner import ProjectionRunner, TrackingWatcher, build_engine, listener_factory_for, start_projections


@pytest.fixture
def sqlite_konvergen(tmp_path, clock):
    from service.container import Konvergen

    k = Konvergen(f"sqlite:///{tmp_path / 'konvergen.db'}", clock=clock)
    yield k
    k.close()


def test_after_a_command_the_wait_returns_once_the_background_thread_shows_it(sqlite_konvergen):
    runner = start_projections(sqlite_konvergen, mode="embedded")
    assert isinstance(runner, ProjectionRunner) and runner.running
    cases = Cases(sqlite_konvergen)
    views = ReadModels(sqlite_konvergen)

    for n in range(3):
        household = cases.register(name=f"Warga {n}")
        position = cases.categorise(household)["position"]
        assert sqlite_konvergen.wait_for(position) is True
        # No sleep, no second look: the list already shows the change.
        assert views.households(ADMIN, q=f"Warga {n}")["items"][0]["category"] == "miskin_ekstrem"


def test_the_background_thread_also_picks_up_writes_made_by_other_processes(sqlite_konvergen, clock):
    from service.container import Konvergen

    runner = start_projections(sqlite_konvergen, mode="embedded")
    runner.poll_interval = 0.05
    other_process = Konvergen(sqlite_konvergen.storage.url, clock=clock)  # e.g. an import run from the CLI
    try:
        household = Cases(other_process).register(name="Dari Impor")
    finally:
        other_process.close()
    head = sqlite_konvergen.households.recorder.max_notification_id()

    deadline = time.monotonic() + 5
    while runner.position < head and time.monotonic() < deadline:  # nobody wakes it: it polls
        time.sleep(0.02)

    assert ReadModels(sqlite_konvergen).households(ADMIN, q="Dari")["items"][0]["id"] == household


def test_stopping_the_runner_ends_its_thread(sqlite_konvergen):
    runner = start_projections(sqlite_konvergen, mode="embedded")

    runner.stop()

    assert not runner.running


def test_without_a_thread_a_wait_catches_up_in_the_callers_thread(konvergen, cases):
    runner = start_projections(konvergen)  # memory:// shares one connection: no thread
    assert not runner.running
    position = cases.categorise(cases.register())["position"]

    assert konvergen.wait_for(position) is True
    assert ReadModels(konvergen).households(ADMIN)["items"][0]["category"] == "miskin_ekstrem"


def test_a_web_process_of_a_worker_deployment_waits_for_the_workers_progress(sqlite_konvergen):
    watcher = start_projections(sqlite_konvergen, mode="worker")
    assert isinstance(watcher, TrackingWatcher)
    worker = ProjectionRunner(build_engine(sqlite_konvergen))
    worker.catch_up()  # the worker is running elsewhere
    household = Cases(sqlite_konvergen).register()
    position = sqlite_konvergen.households.recorder.max_notification_id()

    assert watcher.wait_until(position, timeout=0.1) is False  # the worker has not seen it yet
    catching_up = threading.Timer(0.2, worker.catch_up)
    catching_up.start()
    try:
        assert watcher.wait_until(position, timeout=5) is True
    finally:
        catching_up.join()
    assert ReadModels(sqlite_konvergen).households(ADMIN)["items"][0]["id"] == household


def test_a_wait_gives_up_after_its_timeout_when_the_views_cannot_catch_up(sqlite_konvergen, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    runner = ProjectionRunner(build_engine(sqlite_konvergen), retry_delay=0.05)
    monkeypatch.setattr(runner.engine, "catch_up", broken)
    sqlite_konvergen.projections = runner.start()
    Cases(sqlite_konvergen).register()

    assert sqlite_konvergen.wait_for(sqlite_konvergen.households.recorder.max_notification_id(), timeout=0.3) is False
    assert runner.last_error == "RuntimeError: disk full"


def test_an_unknown_mode_is_refused_naming_the_setting(konvergen):
    with pytest.raises(ValueError, match="KONVERGEN_PROJECTIONS"):
        start_projections(konvergen, mode="sometimes")


def test_on_postgresql_the_runner_wakes_on_the_event_stores_notify_not_the_poll(konvergen_db, clock):
    from service.container import Konvergen

    if konvergen_db.storage.kind != "postgresql":
        pytest.skip("only PostgreSQL notifies listeners of inserts; SQLite is polled")
    runner = ProjectionRunner(build_engine(konvergen_db), poll_interval=60, listener_factory=listener_factory_for(konvergen_db))
    konvergen_db.projections = runner.start()
    runner.catch_up()  # prepared; from now on only a NOTIFY can wake it within the minute
    time.sleep(0.3)  # the listener is connected
    elsewhere = Konvergen(konvergen_db.storage.url, clock=clock)  # a writer in another process
    try:
        Cases(elsewhere).register(name="Lewat Notify")
    finally:
        elsewhere.close()
    head = konvergen_db.households.recorder.max_notification_id()

    deadline = time.monotonic() + 10
    while runner.position < head and time.monotonic() < deadline:
        time.sleep(0.02)

    assert runner.position >= head
