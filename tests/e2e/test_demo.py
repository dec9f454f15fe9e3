"""`make demo` end to end: the README's first command, run once through the real stack.

Runs before the integration tests (pytest orders test folders by name) because the demo needs
the machine's one pcscd, which the session-wide card fixture holds once it has started.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from drivers.card.emulator.harness import foreign_pcscd

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_every_step_and_leaves_nothing_behind(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kiosk.cli.main", "demo", "--once", "--state-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    declared = json.loads((ROOT / "drivers/card/emulator/profiles/ssc3.json").read_text())
    id_number = declared["id_number"]
    # the card was read, masked as on every screen
    assert f"id_number    {id_number[:3]}" in out and id_number not in out
    assert "photo saved to" in out
    # the face matched the card's own photo and the head turns were seen
    assert "match=yes" in out and "liveness=passed" in out and "result=pass" in out
    # the finger matched the holder's reference template, fetched from the central over RPC
    assert "Match (score" in out and "the finger is " in out
    # three citizen journeys ran through the session, each as its journey file says
    for name in ("query", "payment", "activation"):
        assert f"journey {name}: result=pass" in out
    assert "[result] result.paid" in out and "field.reference: R" in out  # paid, with receipt
    assert "[result] result.activated" in out  # approval, card write, read-back, confirmation
    assert declared["name"] not in out and declared["card_number"] not in out
    # the terminal came online at the central system's fleet monitor
    assert "is online in the fleet monitor" in out and "demo complete" in out
    # biometric data does not outlive the check; nothing keeps running
    assert not (tmp_path / "holder-photo.jpg").exists()
    # (other pcscds may belong to other test runs on this machine; none may be the demo's)
    assert not [cmd for _, cmd in foreign_pcscd() if str(tmp_path) in cmd]
