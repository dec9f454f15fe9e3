"""`python -m drivers.fingerprint.emulator` as the demo runs it: a separate process on a pty."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from drivers.fingerprint.driver import FingerprintDriver
from drivers.fingerprint.emulator import finger_template
from tests.fixtures.fingerprint import fp_settings_for

ROOT = Path(__file__).resolve().parents[3]


def test_foreground_emulator_serves_the_driver_and_stops_cleanly(tmp_path: Path) -> None:
    link = tmp_path / "ttyFP0"
    proc = subprocess.Popen(
        [sys.executable, "-m", "drivers.fingerprint.emulator", "--link", str(link),
         "--finger", "f02", "--profile", "as608"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        assert str(link) in banner, proc.stderr.read() if proc.stderr else ""
        drv = FingerprintDriver(fp_settings_for(str(link)))
        try:
            assert drv.info().capacity == 300
            assert drv.verify(finger_template("f02")).matched
        finally:
            drv.stop()
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
    assert not link.exists()  # the "adapter" is gone with the process


def test_write_template_option(tmp_path: Path) -> None:
    out = tmp_path / "f07.tpl"
    subprocess.run(
        [sys.executable, "-m", "drivers.fingerprint.emulator", "--write-template", "f07",
         "--out", str(out)],
        cwd=ROOT, check=True, timeout=60,
    )  # fmt: skip
    assert out.read_bytes() == finger_template("f07")
