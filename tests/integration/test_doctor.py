"""`kiosk doctor` on the real stack: emulated reader behind pcscd, fingerprint module on a pty,
a generated camera stream and a real broker all pass; a dead broker is a FAIL with a hint."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from drivers.idcard.emulator import make_emulator as idcard_emulator
from drivers.printer.emulator import make_emulator as printer_emulator
from tests.fixtures.broker import Broker
from tests.fixtures.fingerprint import FingerprintRig

ROOT = Path(__file__).resolve().parents[2]


def _doctor(env_overrides: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK")}
    env.update({"KIOSK_PROFILE": "test", **env_overrides})
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli.main", "doctor"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_doctor_passes_on_a_healthy_terminal(
    card_slot: Any, fp_rig: FingerprintRig, broker: Broker, tmp_path: Path
) -> None:
    fp_rig.emulator()
    with (
        idcard_emulator(tmp_path / "ttyID0", profile="resident", pace=False),
        printer_emulator(tmp_path / "ttyPRN0", pace=False),
    ):
        result = _doctor(
            {
                "KIOSK__TERMINAL__STATE_DIR": str(tmp_path),
                "KIOSK__CARD__READER": card_slot.reader_names[0],
                "KIOSK__FINGERPRINT__PORT": fp_rig.link,
                "KIOSK__IDCARD__PORT": str(tmp_path / "ttyID0"),
                "KIOSK__PRINTER__PORT": str(tmp_path / "ttyPRN0"),
                "KIOSK__CAMERA__SOURCE": "synthetic:still",
                "KIOSK__MQTT__PORT": str(broker.port),
            }
        )
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    lines = {
        line.split()[1]: line
        for line in result.stdout.splitlines()
        if line[:4] in ("PASS", "WARN", "FAIL")
    }
    for name in (
        "config",
        "journal",
        "card",
        "psam",
        "fingerprint",
        "idcard",
        "printer",
        "camera",
        "broker",
    ):
        assert lines[name].startswith("PASS"), result.stdout
    assert lines["idcard-photo"].startswith("WARN")  # no WLT decoder ships: said plainly
    assert lines["production"].startswith("WARN")  # demo mode is said, not hidden
    assert "library 0/" in lines["fingerprint"]  # the module's own library was emptied
    assert "all checks passed" in result.stdout


def test_doctor_fails_with_a_hint_when_the_broker_is_gone(
    fp_rig: FingerprintRig, tmp_path: Path
) -> None:
    fp_rig.emulator()
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    result = _doctor(
        {
            "KIOSK__TERMINAL__STATE_DIR": str(tmp_path),
            "KIOSK__FINGERPRINT__PORT": fp_rig.link,
            "KIOSK__CAMERA__SOURCE": "synthetic:still",
            "KIOSK__MQTT__PORT": str(dead_port),
        }
    )
    assert result.returncode == 1
    broker_line = next(line for line in result.stdout.splitlines() if " broker " in line)
    assert broker_line.startswith("FAIL") and "not connected" in broker_line
    assert "-> check the network" in result.stdout
    assert "1 check(s) failed" in result.stdout or "check(s) failed" in result.stdout


def test_doctor_in_production_mode_refuses_this_test_machine(tmp_path: Path) -> None:
    # The virtual reader driver is installed here and no TAK credential is given: a production
    # terminal must not pass, and each reason comes with what to do.
    result = _doctor(
        {
            "KIOSK__TERMINAL__STATE_DIR": str(tmp_path),
            "KIOSK__TERMINAL__MODE": "production",
            "KIOSK__CAMERA__SOURCE": "synthetic:still",
        }
    )
    assert result.returncode == 1
    out = result.stdout
    vpcd = next(line for line in out.splitlines() if line.split()[1:2] == ["vpcd"])
    assert vpcd.startswith("FAIL") and "virtual reader driver found" in vpcd
    assert "apt-get purge vsmartcard-vpcd" in out
    assert any(line.startswith("FAIL  tak") for line in out.splitlines())
