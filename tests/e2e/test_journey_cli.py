"""`kiosk journey` end to end: the command starts its own pcscd with the emulated card (as the
demo does) and runs a journey file against a running central system.

In tests/e2e/ so it runs before the session-wide pcscd fixture takes the machine's one pcscd.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from central.seed import seed_database
from central.service import CentralService
from central.storage import Storage
from drivers.card.emulator import read_profile
from tests.fixtures.broker import Broker
from tests.fixtures.journeys import central_config_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def running_central(tmp_path: Path, broker: Broker) -> Iterator[Storage]:
    config = central_config_for(tmp_path / "central", broker)
    (tmp_path / "central").mkdir(exist_ok=True)
    with Storage(config.storage.url) as db:
        seed_database(db, config.seed)
    service = CentralService(config)
    service.start()
    try:
        yield Storage(config.storage.url)
    finally:
        service.stop()


def _journey(tmp_path: Path, broker: Broker, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK")}
    env.update(
        {
            "KIOSK__MQTT__PORT": str(broker.port),
            "KIOSK__TERMINAL__ID": "SSK-CLI-0001",
            "KIOSK__TERMINAL__STATE_DIR": str(tmp_path / "kiosk"),
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli.main", "--profile", "test", "journey", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_journey_command_pays_once_and_reports_json(
    tmp_path: Path, broker: Broker, running_central: Storage
) -> None:
    done = _journey(tmp_path, broker, "payment", "--json")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["ok"] and report["outcome"]["reason"] == "finished"
    screens = [v["state"] for s in report["steps"] for v in s["views"]]
    assert "confirm" in screens and screens[-1] == "idle"
    with running_central as db:
        rows = db.query("SELECT state FROM payments WHERE terminal_id = 'SSK-CLI-0001'")
    assert [r[0] for r in rows] == ["accepted"]
    declared = read_profile("ssc3")
    for value in (declared.id_number, declared.name, declared.card_number):  # type: ignore[union-attr]
        assert str(value) not in done.stdout + done.stderr


def test_journey_command_says_where_a_journey_went_otherwise(
    tmp_path: Path, broker: Broker, running_central: Storage
) -> None:
    done = _journey(tmp_path, broker, "query", "--card", "pin_blocked")
    assert done.returncode == 2, done.stdout[-3000:] + done.stderr[-3000:]
    assert "error=card.pin_blocked" in done.stdout  # each state's view, as it was shown
    assert "mismatch:" in done.stdout and "result=fail" in done.stdout
    listed = _journey(tmp_path, broker, "--list")
    assert listed.returncode == 0 and "card_pulled_during_write" in listed.stdout
    unknown = _journey(tmp_path, broker, "no_such_journey")
    assert unknown.returncode == 1 and "no journey 'no_such_journey'" in unknown.stderr


# A journey that ships nowhere: written here, so `--script` is what makes it run at all.
_SCRIPT = """
name = "script_inquiry"
description = "A journey file given by path: the inquiry, then the card taken"
service = "inquiry"
card = "ssc3"

[[step]]
device = "insert_card"
expect = { screen = "menu", absent = ["$id_number", "$name"] }

[[step]]
intent = "ChooseService"
args = { service = "inquiry" }
expect = { screen = "pin_entry", allows = ["EnterPin"] }

[[step]]
intent = "EnterPin"
args = { pin = "$pin" }
expect = { screen = "inquiry", rows_min = 1 }

[[step]]
intent = "Cancel"
expect = { screen = "take_card" }

[[step]]
device = "remove_card"
expect = { screen = "idle" }

[outcome]
session = "cancelled"
result = "completed"
screen = "idle"
"""


def test_journey_command_runs_a_script_file(
    tmp_path: Path, broker: Broker, running_central: Storage
) -> None:
    script = tmp_path / "mine.toml"
    script.write_text(_SCRIPT, encoding="utf-8")
    done = _journey(tmp_path, broker, "--script", str(script), "--json")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["ok"] and report["outcome"]["reason"] == "cancelled"
    screens = [v["state"] for s in report["steps"] for v in s["views"]]
    assert "inquiry" in screens and screens[-1] == "idle"
    assert len(report["steps"]) == 5  # the script's own steps, not a shipped journey's
    declared = read_profile("ssc3")
    assert str(declared.id_number) not in done.stdout + done.stderr  # type: ignore[union-attr]
    # the same file expecting a screen that never comes: the mismatch is named, exit 2
    script.write_text(
        _SCRIPT.replace('expect = { screen = "take_card" }', 'expect = { screen = "menu" }'),
        encoding="utf-8",
    )
    wrong = _journey(tmp_path, broker, "--script", str(script))
    assert wrong.returncode == 2, wrong.stdout[-3000:] + wrong.stderr[-3000:]
    assert "mismatch:" in wrong.stdout and "result=fail" in wrong.stdout
    # a file that is not a journey: exit 1 naming the file and the bad field, nothing run
    script.write_text(_SCRIPT.replace('name = "script_inquiry"', 'name = "Bad Name"'), "utf-8")
    bad = _journey(tmp_path, broker, "--script", str(script))
    assert bad.returncode == 1 and f"{script}: name:" in bad.stderr
    assert "journey script_inquiry" not in bad.stdout
    missing = _journey(tmp_path, broker, "--script", str(tmp_path / "absent.toml"))
    assert missing.returncode == 1 and "absent.toml" in missing.stderr
