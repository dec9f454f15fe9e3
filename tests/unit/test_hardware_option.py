"""The `hardware` marker and `--hardware` option the README describes: without the option a
hardware test is deselected (never skipped) and the run passes; with it, it runs; any other
skip still fails the run. Each case is a real pytest run over a small test file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

TESTS = '''
import pytest

@pytest.mark.hardware
def test_needs_a_reader():
    raise AssertionError("ran on the reader")

def test_plain():
    pass
'''


def pytest_run(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.fixtures.hardware",
         "-p", "tests.fixtures.no_skip", "--strict-markers", "-ra", "-q", "-p", "no:cacheprovider",
         "--rootdir", str(directory), str(directory), *args],
        capture_output=True, text=True, cwd=directory, timeout=120, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


def test_hardware_tests_are_opt_in(tmp_path: Path) -> None:
    (tmp_path / "test_devices.py").write_text(TESTS, encoding="utf-8")
    without = pytest_run(tmp_path)
    assert without.returncode == 0, without.stdout + without.stderr
    assert "1 passed, 1 deselected" in without.stdout
    with_option = pytest_run(tmp_path, "--hardware")
    assert with_option.returncode == 1 and "ran on the reader" in with_option.stdout


def test_other_skips_still_fail_the_run(tmp_path: Path) -> None:
    (tmp_path / "test_skips.py").write_text(
        "import pytest\n\ndef test_lazy():\n    pytest.skip('mosquitto missing')\n",
        encoding="utf-8",
    )
    done = pytest_run(tmp_path)
    assert done.returncode == 1 and "mosquitto missing" in done.stdout
