"""`kiosk-central` as a real process: seed, run (answers RPCs, stops cleanly), bad config."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from central.storage import Storage
from kiosk.contract import RpcMethod
from tests.fixtures.broker import Broker
from tests.fixtures.central import TEST_HOLDER_ID, write_test_profile
from tests.integration.central.kiosk_client import Kiosk, wait_central_online

BIN = [sys.executable, "-c", "from central.cli import run; run()"]


def _config(tmp_path: Path, broker: Broker) -> Path:
    seed = write_test_profile(tmp_path / "seed")
    cfg = tmp_path / "central.toml"
    cfg.write_text(
        f"""
[storage]
url = "sqlite:///{tmp_path / "c.db"}"
[broker]
port = {broker.port}
client_id_prefix = "cli-test"
reconnect_min_s = 0.1
[workers]
count = 2
[seed]
persons = 30
months = 6
profiles_glob = "{seed / "profiles" / "*.json"}"
fingers_dir = "{seed / "fingers"}"
[run]
fleet_monitor = false
"""
    )
    return cfg


def test_seed_then_run_answers_and_stops_cleanly(tmp_path: Path, broker: Broker) -> None:
    cfg = _config(tmp_path, broker)
    seeded = subprocess.run(
        [*BIN, "--config", str(cfg), "seed"], capture_output=True, text=True, timeout=60
    )
    assert seeded.returncode == 0, seeded.stderr
    assert "persons: 31" in seeded.stdout and "card holders: testholder" in seeded.stdout
    proc = subprocess.Popen(
        [*BIN, "--config", str(cfg), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    kiosk = None
    try:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()
        assert "kiosk-central running: 2 workers" in line, (
            proc.stderr.read() if proc.poll() is not None else line
        )
        wait_central_online(broker)
        kiosk = Kiosk(broker)
        token = kiosk.open_session(timeout=20)
        answer = kiosk.call(
            RpcMethod.PERSON_SUMMARY, {"id_number": TEST_HOLDER_ID}, timeout=20, token=token
        )
        assert answer["ok"] and answer["result"]["name"] == "测试员"
    finally:
        if kiosk is not None:
            kiosk.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0


def test_bad_config_is_refused_with_the_key(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[workers]\ncount = 'many'\ncolour = 1\n")
    done = subprocess.run(
        [*BIN, "--config", str(cfg), "check-config"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert f"{cfg}:2: workers.count" in done.stderr
    assert f"{cfg}:3: workers.colour" in done.stderr and "unknown key" in done.stderr


def test_run_seeds_an_empty_database_and_serves_the_monitor(tmp_path: Path, broker: Broker) -> None:
    cfg = _config(tmp_path, broker)
    cfg.write_text(
        cfg.read_text().replace("fleet_monitor = false", "fleet_monitor = true")
        + "[fleet]\nhttp_port = 0\n"
    )
    proc = subprocess.Popen(
        [*BIN, "--config", str(cfg), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    kiosk = None
    try:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()
        assert "fleet monitor at http://127.0.0.1:" in line, (
            proc.stderr.read() if proc.poll() is not None else line
        )
        with Storage(f"sqlite:///{tmp_path / 'c.db'}") as db:
            assert db.one("SELECT COUNT(*) FROM persons") == (31,)
        wait_central_online(broker)
        kiosk = Kiosk(broker)
        token = kiosk.open_session(timeout=20)
        assert kiosk.call(RpcMethod.ACCOUNTS, {"id_number": TEST_HOLDER_ID}, token=token)["ok"]
    finally:
        if kiosk is not None:
            kiosk.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0


def _popen_run(cfg: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*BIN, "--config", str(cfg), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _stop(proc: subprocess.Popen[str]) -> tuple[str, str]:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    return out, err


def test_run_says_running_only_once_the_workers_are_subscribed(
    tmp_path: Path, broker: Broker
) -> None:
    """No broker at start: the central says it is subscribing, not running; once the broker is
    up and both workers hold their subscription, it says running, and an RPC is answered."""
    port = broker.port
    broker.stop()
    cfg = _config(tmp_path, broker)
    proc = _popen_run(cfg)
    kiosk = None
    try:
        assert proc.stdout is not None and proc.stderr is not None
        starting = "kiosk-central starting: 2 workers subscribing"
        while starting not in (line := proc.stderr.readline()):
            assert line, "the process ended before saying it was starting"
        assert proc.poll() is None
        broker.port = port
        broker.start()
        line = proc.stdout.readline()
        assert line.startswith("kiosk-central running: 2 workers"), line
        kiosk = Kiosk(broker)
        answer = kiosk.call(RpcMethod.PERSON_SUMMARY, {"id_number": TEST_HOLDER_ID}, timeout=20)
        assert answer["ok"]
    finally:
        if kiosk is not None:
            kiosk.close()
        _stop(proc)


def test_seed_refuses_to_wipe_a_ledger_unless_forced(tmp_path: Path, broker: Broker) -> None:
    cfg = _config(tmp_path, broker)
    seed = [*BIN, "--config", str(cfg), "seed"]
    assert subprocess.run(seed, capture_output=True, timeout=60, check=False).returncode == 0
    with Storage(f"sqlite:///{tmp_path / 'c.db'}") as db, db.transaction():
        db.execute(
            "INSERT INTO payments VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            ("k1", "SSK-T", "r1", TEST_HOLDER_ID, "medical", "ref", 100, "approved", "", "R1",
             None, 1.0),
        )  # fmt: skip
    refused = subprocess.run(seed, capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode == 3, refused.stderr
    assert "1 payments" in refused.stderr and "--force" in refused.stderr
    with Storage(f"sqlite:///{tmp_path / 'c.db'}") as db:
        assert db.one("SELECT COUNT(*) FROM payments") == (1,)  # nothing was wiped
    forced = subprocess.run([*seed, "--force"], capture_output=True, text=True, timeout=60)
    assert forced.returncode == 0, forced.stderr
    with Storage(f"sqlite:///{tmp_path / 'c.db'}") as db:
        assert db.one("SELECT COUNT(*) FROM payments") == (0,)
        assert db.one("SELECT COUNT(*) FROM persons") == (31,)
