"""Web UI throughput against the real server, beside the trivial health endpoint.

    .venv/bin/python bench/web.py [--households 27000] [--data DIR] [--seconds 8] [--clients 8]

1. Demo data: ``konvergen demo --households N`` into SQLite under DIR (kept, and reused
   by the next run when it is already there; the time it took is printed), then the
   projections caught up (``konvergen projections run --once``) so pages read ready views.
2. gunicorn, 2 workers (gthread, 4 threads each), serving ``service.app:create_app()``
   on a free loopback port; projections are not run by the web workers (nothing writes).
3. A bounded load loop from this machine: ``--clients`` threads with keep-alive
   http.client connections, signed in once as a benchmark administrator (who sees the
   whole kabupaten: the heaviest dashboard), each endpoint for ``--seconds`` seconds
   after a short warm-up: /api/v1/health, the dashboard (/), the household list
   (/households/), and household pages (cycling through 200 households).
   Requests/s, p50 and p99; ratios against the health endpoint measured in the same run
   (before and after the pages; their mean).

Goals (issue 4): household page and list >= 0.3x health, dashboard >= 0.2x.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
USERNAME, PASSWORD = "bench.admin", "bench-admin-password-1"
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
HOUSEHOLD_LINK = re.compile(r'href="/households/([0-9a-f-]{36})"')
GOALS = {"dashboard": 0.2, "household list": 0.3, "household page": 0.3}


def konvergen(env: dict, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(VENV_BIN / "konvergen"), *args], env=env, cwd=ROOT, input=stdin, text=True,
                          capture_output=True, check=True)


def prepare_data(data: Path, households: int, env: dict) -> None:
    database = data / "konvergen.db"
    if database.exists():
        print(f"Demo data: reusing {database} (delete the folder to regenerate)")
    else:
        data.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        konvergen(env, "demo", "--households", str(households))
        print(f"Demo data: {households:,} households generated in {time.perf_counter() - started:,.0f} s "
              f"(konvergen demo --households {households})")
    started = time.perf_counter()
    konvergen(env, "projections", "run", "--once")
    print(f"Projections caught up in {time.perf_counter() - started:,.1f} s")
    try:
        konvergen(env, "users", "create", "--username", USERNAME, "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    except subprocess.CalledProcessError as error:
        if "already exists" not in (error.stderr + error.stdout):
            raise


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(env: dict, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--workers", "2", "--worker-class", "gthread", "--threads", "4",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--no-control-socket",
         "service.app:create_app()"],
        env=env, cwd=ROOT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/api/v1/health")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("gunicorn did not answer within 60 s")


class Session:
    """One signed-in browser: the session cookie every client thread sends."""

    def __init__(self, port: int):
        self.port = port
        self.cookie = ""

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": self.cookie, "User-Agent": "konvergen-bench"}
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header, value in response.getheaders():
            if header.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        connection.close()
        return response.status, text

    def sign_in(self) -> None:
        _, page = self.request("GET", "/login")
        token = CSRF.search(page).group(1)
        status, _ = self.request("POST", "/login", {"username": USERNAME, "password": PASSWORD, "csrf_token": token})
        if status != 302:
            raise SystemExit(f"could not sign in as {USERNAME}: HTTP {status}")


def household_paths(session: Session, wanted: int = 200) -> list[str]:
    ids: list[str] = []
    path = "/households/"
    while len(ids) < wanted:
        _, page = session.request("GET", path)
        ids.extend(i for i in HOUSEHOLD_LINK.findall(page) if i not in ids)
        more = re.search(r'href="(/households/\?cursor=[^"]+)"', page)
        if not more:
            break
        path = more.group(1).replace("&amp;", "&")
    return [f"/households/{i}" for i in ids[:wanted]]


def load(port: int, cookie: str, paths: list[str], seconds: float, clients: int) -> dict:
    """Each client cycles through ``paths`` on one keep-alive connection until time is up."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    stop = threading.Event()
    headers = {"Cookie": cookie, "User-Agent": "konvergen-bench"}

    def client(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n = index
        while not stop.is_set():
            path = paths[n % len(paths)]
            n += clients
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                ok = False
            if ok:
                latencies[index].append(time.perf_counter() - started)
            else:
                errors[index] += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    flat = sorted(x for per_client in latencies for x in per_client)
    return {
        "requests": len(flat),
        "errors": sum(errors),
        "rps": len(flat) / elapsed,
        "p50": statistics.median(flat) * 1000 if flat else float("nan"),
        "p99": flat[min(len(flat) - 1, int(len(flat) * 0.99))] * 1000 if flat else float("nan"),
    }


def measure(name: str, port: int, cookie: str, paths: list[str], seconds: float, clients: int) -> dict:
    load(port, cookie, paths, min(2.0, seconds / 4), clients)  # warm-up: caches, connections, imports
    result = load(port, cookie, paths, seconds, clients)
    print(f"  {name:<16} {result['rps']:8.1f} req/s   p50 {result['p50']:7.1f} ms   p99 {result['p99']:7.1f} ms"
          f"   ({result['requests']:,} requests, {result['errors']} errors)")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=27000)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "konvergen-bench-web")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    data = args.data / f"households-{args.households}"
    env = {
        **os.environ,
        "KONVERGEN_DATABASE_URL": f"sqlite:///{data / 'konvergen.db'}",
        "KONVERGEN_INSTANCE_PATH": str(data),
        "KONVERGEN_SECRET_KEY": "bench-only-secret",
        "KONVERGEN_PROJECTIONS": "worker",  # the web workers only read; nothing to project
    }
    prepare_data(data, args.households, env)
    port = free_port()
    server = start_gunicorn(env, port)
    try:
        session = Session(port)
        session.sign_in()
        households = household_paths(session)
        print(f"\ngunicorn: 2 workers x 4 threads, SQLite, {args.households:,} households; "
              f"{args.clients} clients, {args.seconds:.0f} s per endpoint")
        health_before = measure("health", port, session.cookie, ["/api/v1/health"], args.seconds, args.clients)
        pages = {
            "dashboard": measure("dashboard", port, session.cookie, ["/"], args.seconds, args.clients),
            "household list": measure("household list", port, session.cookie, ["/households/"], args.seconds, args.clients),
            "household page": measure("household page", port, session.cookie, households, args.seconds, args.clients),
        }
        health_after = measure("health (again)", port, session.cookie, ["/api/v1/health"], args.seconds, args.clients)
    finally:
        server.terminate()
        server.wait(30)
    health = (health_before["rps"] + health_after["rps"]) / 2
    print(f"\nAgainst health ({health:.1f} req/s, mean of both runs):")
    for name, result in pages.items():
        ratio = result["rps"] / health
        verdict = "meets" if ratio >= GOALS[name] else "MISSES"
        print(f"  {name:<16} {ratio:.2f}x   ({verdict} the goal of {GOALS[name]:.1f}x)")


if __name__ == "__main__":
    main()
