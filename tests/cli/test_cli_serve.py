"""`konvergen serve` starts a real server that answers HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from cli_helpers import error_lines, invoke

STARTUP_SECONDS = 60  # generous: other test runs may share the machine


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str, deadline: float) -> tuple[int, bytes]:
    """Polls until the server answers (or the deadline passes)."""
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, response.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_serve_answers_http_on_the_port_it_was_given_and_stops_cleanly_on_sigterm(tmp_path):
    port = _free_port()
    env = dict(os.environ, KONVERGEN_DATABASE_URL=f"sqlite:///{tmp_path / 'konvergen.db'}")
    server = subprocess.Popen(
        [sys.executable, "-c", "from service.cli import main; main()", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        answer = _get(f"http://127.0.0.1:{port}/api/v1/health", time.monotonic() + STARTUP_SECONDS)
    except OSError as error:
        answer = error
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=STARTUP_SECONDS)[0].decode()

    assert answer == (200, b'{"status":"ok"}\n'), output
    assert server.returncode == 0, output
    assert f"http://127.0.0.1:{port}/" in output
    assert (tmp_path / "konvergen.db").exists()


def test_serve_with_an_unusable_database_url_fails_in_one_line_without_starting():
    result = invoke("sqlite:///", "serve", "--port", str(_free_port()))

    assert result.exit_code != 0
    assert error_lines(result) == [
        "Error: KONVERGEN_DATABASE_URL: SQLite needs a file path (use memory:// for a throwaway store)"
    ]
