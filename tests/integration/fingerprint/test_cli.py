"""`kiosk fingerprint ...` through the real CLI, the real driver and a pty emulator."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from drivers.fingerprint.emulator import finger_template
from kiosk.cli.main import root
from tests.fixtures.fingerprint import FingerprintRig

runner = CliRunner()


def kiosk(*args: str) -> tuple[int, str]:
    result = runner.invoke(root, ["--profile", "test", "fingerprint", *args])
    return result.exit_code, result.output


def test_info_prints_the_modules_parameters(fp_rig: FingerprintRig) -> None:
    fp_rig.emulator(profile="r307-64")
    code, out = kiosk("info", "--port", fp_rig.link)
    assert code == 0, out
    assert "library size:     80 templates" in out
    assert "packet size:      64 bytes" in out
    assert "templates stored: 0" in out


def test_enroll_writes_the_template_then_verify_matches(
    fp_rig: FingerprintRig, tmp_path: Path
) -> None:
    fp_rig.emulator(finger="f04")
    out_file = tmp_path / "f.tpl"
    code, out = kiosk("enroll", "--out", str(out_file), "--port", fp_rig.link)
    assert code == 0, out
    assert "Place your finger" in out and "Lift your finger" in out
    assert out_file.read_bytes() == finger_template("f04")
    assert out_file.stat().st_mode & 0o077 == 0
    code, out = kiosk("verify", "--template", str(out_file), "--port", fp_rig.link)
    assert code == 0 and "Match" in out


def test_verify_exit_status_is_nonzero_without_a_match(fp_rig: FingerprintRig) -> None:
    fp_rig.emulator(finger="f01")
    demo = Path(__file__).resolve().parents[3] / "config" / "demo" / "fingers" / "f02.tpl"
    code, out = kiosk("verify", "--template", str(demo), "--port", fp_rig.link)
    assert code == 1 and "No match" in out


def test_selftest_passes_and_a_missing_scanner_is_said_plainly(fp_rig: FingerprintRig) -> None:
    code, out = kiosk("info", "--port", fp_rig.link)
    assert code == 2 and "not found" in out
    fp_rig.emulator(finger="f05")
    code, out = kiosk("selftest", "--port", fp_rig.link)
    assert code == 0, out
    assert "Self-test passed." in out


def test_emulate_serves_until_terminated(tmp_path: Path) -> None:
    import subprocess
    import sys

    link = tmp_path / "ttyFP0"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli.main", "--profile", "test", "fingerprint", "emulate",
         "--finger", "f03", "--link", str(link)],
        cwd=Path(__file__).resolve().parents[3], stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        assert "Emulated r307 fingerprint module" in proc.stdout.readline()
        code, out = kiosk("verify", "--template", str(tmp_path / "none.tpl"), "--port", str(link))
        assert code == 2 and "Cannot read the template" in out
        (tmp_path / "f03.tpl").write_bytes(finger_template("f03"))
        code, out = kiosk("verify", "--template", str(tmp_path / "f03.tpl"), "--port", str(link))
        assert code == 0, out
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
    assert not link.exists()
