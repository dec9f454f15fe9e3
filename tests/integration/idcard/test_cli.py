"""`kiosk idcard` through the real CLI process against the emulator on a pty."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from drivers.idcard.emulator import make_emulator
from tests.fixtures.kiosk_process import ROOT


def _kiosk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli.main", "--profile", "test", "idcard", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_read_masked_json_and_revealed(tmp_path: Path) -> None:
    link = tmp_path / "ttyID0"
    with make_emulator(link, profile="resident"):
        masked = _kiosk("read", "--port", str(link), "--json", "--wait", "2")
        assert masked.returncode == 0, masked.stderr
        data = json.loads(masked.stdout)
        assert data["id_number"] == "330*********** 0037".replace(" ", "")
        assert data["name"] == "王**"
        assert "330304198808080037" not in masked.stdout + masked.stderr
        assert "王建国" not in masked.stdout + masked.stderr
        shown = _kiosk("read", "--port", str(link), "--reveal", "--wait", "2")
        assert shown.returncode == 0, shown.stderr
        assert "330304198808080037" in shown.stdout and "王建国" in shown.stdout
        info = _kiosk("info", "--port", str(link))
        assert info.returncode == 0 and "SAM id:  05.00-" in info.stdout


def test_no_card_and_no_reader_exit_codes(tmp_path: Path) -> None:
    link = tmp_path / "ttyID0"
    with make_emulator(link, profile=None):
        none = _kiosk("read", "--port", str(link), "--wait", "0.3")
        assert none.returncode == 1 and "No ID card" in none.stderr + none.stdout
    gone = _kiosk("read", "--port", str(tmp_path / "missing"))
    assert gone.returncode == 2 and "cannot open" in gone.stderr + gone.stdout
    assert "Traceback" not in gone.stderr


def test_bad_card_is_a_plain_error(tmp_path: Path) -> None:
    link = tmp_path / "ttyID0"
    with make_emulator(link, profile="bad_check_digit"):
        bad = _kiosk("read", "--port", str(link), "--wait", "2")
    assert bad.returncode == 2 and "check digit" in bad.stderr + bad.stdout
    assert "Traceback" not in bad.stderr
