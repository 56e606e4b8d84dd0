"""Web UI throughput against the real server, beside the trivial health endpoint.

    .venv/bin/python bench/web.py [--households 27000] [--data DIR] [--seconds 8] [--clients 8]

1. Demo data: ``konvergen demo --households N`` into SQLite under DIR (kept, and reused
   by the next run when it is already there; the time it took is printed), then the
   projections caught up (``konvergen projections run --once``) so pages read ready views.
2. gunicorn, 2 workers (gthread, ``--threads`` each, default 2), serving ``service.app:create_app()``
   on a free loopback port; projections are not run by the web workers (nothing writes).
3. A bounded load loop from this machine: ``--clients`` threads with keep-alive
   http.client connections, signed in once as a benchmark administrator (who sees the
   whole kabupaten: the heaviest dashboard): the dashboard (/), the household list
   (/households/) and household pages (cycling through 200 households), each after a
   short warm-up and in ``--rounds`` slices alternating with /api/v1/health, so both
   see the same machine. Requests/s, p50 and p99 of each, and the ratio page/health.

The web UI keeps rendered page parts until what they show changes (service/web/
fragments.py); a read-only load loop hits them. ``--no-fragment-cache`` measures every
page rendered from scratch, as after each write.

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


def start_gunicorn(env: dict, port: int, threads: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--workers", "2", "--worker-class", "gthread", "--threads", str(threads),
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


def measure(name: str, port: int, cookie: str, paths: list[str], seconds: float, clients: int, rounds: int) -> dict:
    """The page and the health endpoint in alternating slices of equal length, so that
    whatever else the machine does meanwhile weighs on both alike."""
    slice_seconds = seconds / rounds
    load(port, cookie, paths, min(2.0, slice_seconds), clients)  # warm-up: caches, connections
    page, health = [], []
    for _round in range(rounds):
        health.append(load(port, cookie, ["/api/v1/health"], slice_seconds, clients))
        page.append(load(port, cookie, paths, slice_seconds, clients))
    result = {
        "rps": sum(r["rps"] for r in page) / rounds,
        "health_rps": sum(r["rps"] for r in health) / rounds,
        "p50": statistics.median(r["p50"] for r in page),
        "p99": max(r["p99"] for r in page),
        "health_p50": statistics.median(r["p50"] for r in health),
        "health_p99": max(r["p99"] for r in health),
        "requests": sum(r["requests"] for r in page),
        "errors": sum(r["errors"] for r in page) + sum(r["errors"] for r in health),
    }
    result["ratio"] = result["rps"] / result["health_rps"]
    print(f"  {name:<15} {result['rps']:7.1f} req/s  p50 {result['p50']:6.1f} ms  p99 {result['p99']:6.1f} ms"
          f"  | health {result['health_rps']:7.1f} req/s  p50 {result['health_p50']:5.1f} ms  p99 {result['health_p99']:5.1f} ms"
          f"  | {result['ratio']:.2f}x  ({result['requests']:,} page requests, {result['errors']} errors)")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=27000)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "konvergen-bench-web")
    parser.add_argument("--seconds", type=float, default=8.0, help="per page, and as long again for health")
    parser.add_argument("--rounds", type=int, default=4, help="alternations of page and health per page")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2, help="gunicorn threads per worker")
    parser.add_argument("--no-fragment-cache", action="store_true",
                        help="render every page part on every request (KONVERGEN_FRAGMENT_CACHE=0)")
    args = parser.parse_args()

    data = args.data / f"households-{args.households}"
    env = {
        **os.environ,
        "KONVERGEN_DATABASE_URL": f"sqlite:///{data / 'konvergen.db'}",
        "KONVERGEN_INSTANCE_PATH": str(data),
        "KONVERGEN_SECRET_KEY": "bench-only-secret",
        "KONVERGEN_PROJECTIONS": "worker",  # the web workers only read; nothing to project
        "KONVERGEN_FRAGMENT_CACHE": "0" if args.no_fragment_cache else "1",
    }
    prepare_data(data, args.households, env)
    port = free_port()
    server = start_gunicorn(env, port, args.threads)
    try:
        session = Session(port)
        session.sign_in()
        households = household_paths(session)
        cache = "off" if args.no_fragment_cache else "on"
        print(f"\ngunicorn: 2 workers x {args.threads} threads, SQLite, {args.households:,} households, "
              f"fragment cache {cache}; "
              f"{args.clients} clients; per page {args.rounds} rounds of {args.seconds / args.rounds:.1f} s "
              f"of the page and {args.seconds / args.rounds:.1f} s of /api/v1/health")
        results = {
            "dashboard": measure("dashboard", port, session.cookie, ["/"], args.seconds, args.clients, args.rounds),
            "household list": measure("household list", port, session.cookie, ["/households/"], args.seconds,
                                      args.clients, args.rounds),
            "household page": measure("household page", port, session.cookie, households, args.seconds, args.clients,
                                      args.rounds),
        }
    finally:
        server.terminate()
        server.wait(30)
    print("\nAgainst /api/v1/health measured in the same run, alternating with each page:")
    for name, result in results.items():
        verdict = "meets" if result["ratio"] >= GOALS[name] else "MISSES"
        print(f"  {name:<15} {result['ratio']:.2f}x   ({verdict} the goal of {GOALS[name]:.1f}x)")


if __name__ == "__main__":
    main()
