"""`python -m central.fleet`: starts, serves, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.fixtures.broker import Broker
from tests.fixtures.fleet import wait_until
from tests.fixtures.ports import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[3]


def test_runner_serves_the_page_and_stops_on_sigterm(broker: Broker) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "central.fleet",
            "--broker-port",
            str(broker.port),
            "--http-port",
            str(port),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_port(port, timeout=15)

        def health() -> dict[str, object] | None:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5) as r:
                body: dict[str, object] = json.loads(r.read())
                return body if body["broker"] else None

        wait_until(health, "the runner connected to the broker")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            assert b"Kiosk fleet monitor" in r.read()
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
        assert proc.returncode == 0, out
        assert f"http://127.0.0.1:{port}/" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_runner_redacts_its_logs(broker: Broker) -> None:
    """The entry point installs the central's redaction: a request line carrying an ID number
    and a phone number (logged at DEBUG with -v) shows only their masks."""
    port = free_port()
    id_number, phone = "110101199003071234", "13912345678"
    proc = subprocess.Popen(
        [sys.executable, "-m", "central.fleet", "-v", "--broker-port", str(broker.port),
         "--http-port", str(port)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_for_port(port, timeout=15)
        url = f"http://127.0.0.1:{port}/api/health?who={id_number}&tel={phone}"
        with urllib.request.urlopen(url, timeout=5) as r:
            assert r.status == 200
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
        assert proc.returncode == 0, out
        assert "GET /api/health?who=" in out  # the request line was logged
        assert id_number not in out and phone not in out
        assert "110***********1234" in out and "139****5678" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
