"""The real server for the browser tests, and the little story it serves.

The server is what ``konvergen serve`` runs (the app factory, projections in a
background thread) on a temporary SQLite file, behind werkzeug's threaded server on a
free loopback port. The data: a small deterministic demo, plus named households and
people the tests look for.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

from werkzeug.serving import make_server

from projections.runner import start_projections
from service.app import create_app
from service.clock import WIB, FixedClock
from service.container import Konvergen
from service.demo import generate_demo

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
PASSWORD = "kata-sandi-peramban-1"
SOREANG_VILLAGE = None  # filled from the reference data
WORKER, SUPERVISOR = "pendamping.uji", "pengawas.uji"
FOUND_NAME = "Yayat Ruhiyat"  # the household the case worker looks for
OVERDUE_NAME = "Nining Suryani"
OVERDUE_PURPOSE = "Cek perbaikan atap rumah"


@dataclass
class Site:
    url: str
    konvergen: Konvergen
    server: object
    thread: threading.Thread
    found_id: str
    overdue_id: str

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(10)
        self.konvergen.close()


def _story(konvergen: Konvergen) -> tuple[str, str]:
    """A case worker and a supervisor in Cileunyi, two households, one overdue visit."""
    users = konvergen.users
    kulon, wetan = "32.04.05.2001", "32.04.05.2002"
    users.create_user(username=WORKER, password=PASSWORD, role="case_worker", villages=[kulon, wetan],
                      display_name="Pendamping Uji")
    users.create_user(username=SUPERVISOR, password=PASSWORD, role="supervisor", kecamatan="32.04.05",
                      display_name="Pengawas Uji")
    admin = users.actor(SUPERVISOR)
    h = konvergen.households
    today = konvergen.clock.today()
    found = h.register_household(
        admin, kk_number="3204050505210001",
        head={"nik": "3204051708790001", "name": FOUND_NAME, "sex": "L", "birth_date": datetime(1979, 8, 17).date()},
        address={"street": "Kp. Cibiru Hilir", "rt": "2", "rw": "5", "village_code": kulon},
        location={"lat": -6.935, "lon": 107.745},
    )["id"]
    h.categorise(admin, found, category="miskin_ekstrem", desil=1, source="p3ke_dtsen_import",
                 effective_on=today - timedelta(days=90), reason="P3KE 2026")
    overdue = h.register_household(
        admin, kk_number="3204050505210002",
        head={"nik": "3204054402850002", "name": OVERDUE_NAME, "sex": "P", "birth_date": datetime(1985, 2, 4).date()},
        address={"street": "Kp. Cimekar", "rt": "4", "rw": "1", "village_code": wetan},
        location={"lat": -6.94, "lon": 107.76},
    )["id"]
    h.categorise(admin, overdue, category="miskin_ekstrem", desil=2, source="field_verification",
                 effective_on=today - timedelta(days=60), reason="verifikasi")
    real_clock = h.clock
    h.clock = FixedClock(datetime.combine(today - timedelta(days=20), time(9), tzinfo=WIB))
    try:
        h.schedule_follow_up(admin, overdue, due_on=today - timedelta(days=6), assigned_to=WORKER, purpose=OVERDUE_PURPOSE)
    finally:
        h.clock = real_clock
    return found, overdue


def start_site(tmp: Path, *, demo_households: int = 40) -> Site:
    konvergen = Konvergen(f"sqlite:///{tmp / 'konvergen.db'}")
    generate_demo(konvergen, households=demo_households, seed=3204)
    found, overdue = _story(konvergen)
    start_projections(konvergen, mode="embedded")
    app = create_app(konvergen, {"SECRET_KEY": "browser-tests-only", "KONVERGEN_MAP_TILES": "https://tile.openstreetmap.org/{z}/{x}/{y}.png"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="konvergen-browser-test-server", daemon=True)
    thread.start()
    return Site(f"http://127.0.0.1:{server.server_port}", konvergen, server, thread, found, overdue)
