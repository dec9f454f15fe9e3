"""The touchscreen unit passes `systemd-analyze verify` (with the executable path pointed at
this checkout's venv, as on the device it points at /opt/kiosk), and says what the kiosk needs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "systemd" / "kiosk-ui.service"


def _verify(text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    analyzer = shutil.which("systemd-analyze")
    if analyzer is None:
        pytest.fail("systemd-analyze is missing: scripts/setup.sh installs the systemd package")
    kiosk = Path(sys.executable).parent / "kiosk"
    unit = tmp_path / "kiosk-ui.service"
    unit.write_text(text.replace("/opt/kiosk/.venv/bin/kiosk", str(kiosk))
                    .replace("WorkingDirectory=/opt/kiosk", f"WorkingDirectory={ROOT}"))
    return subprocess.run([analyzer, "verify", str(unit)], capture_output=True, text=True,
                          timeout=60)


def test_unit_verifies(tmp_path: Path) -> None:
    done = _verify(UNIT.read_text(), tmp_path)
    assert done.returncode == 0, done.stderr
    assert "kiosk-ui.service" not in done.stderr, done.stderr


def test_verify_catches_a_broken_unit(tmp_path: Path) -> None:
    done = _verify(UNIT.read_text().replace("Type=notify", "Type=notifyy"), tmp_path)
    assert "kiosk-ui.service" in done.stderr and "notifyy" in done.stderr, done.stderr


def test_unit_runs_the_ui_on_kmsdrm_with_a_watchdog() -> None:
    text = UNIT.read_text()
    for line in ("Type=notify", "WatchdogSec=", "Environment=SDL_VIDEODRIVER=kmsdrm",
                 "Conflicts=getty@tty1.service kiosk.service", " ui\n", "Restart=always"):
        assert line in text, line
