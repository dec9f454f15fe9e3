"""On a terminal (or a bench) with its devices attached: `pytest --hardware tests/hardware`.

Runs the technician's commands against the terminal's own config (/etc/kiosk/kiosk.toml, or
`$KIOSK_CONFIG`) and the physical reader, scanner and camera. Without `--hardware` these are
reported as skipped (tests/fixtures/hardware.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.hardware

ROOT = Path(__file__).resolve().parents[2]


def kiosk(*args: str) -> subprocess.CompletedProcess[str]:
    config = os.environ.get("KIOSK_CONFIG", "/etc/kiosk/kiosk.toml")
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli.main", "--config", config, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_a_physical_reader_reads_the_inserted_card() -> None:
    from smartcard.System import readers

    physical = [str(r) for r in readers() if "Virtual PCD" not in str(r)]
    assert physical, "no physical PC/SC reader attached"
    done = kiosk("card", "read", "--reader", physical[0], "--json", "--timeout", "30")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["card_number"]


def test_the_fingerprint_module_answers() -> None:
    done = kiosk("fingerprint", "info")
    assert done.returncode == 0, done.stderr


def test_the_camera_gives_frames() -> None:
    done = kiosk("camera", "check")
    assert done.returncode == 0, done.stderr
