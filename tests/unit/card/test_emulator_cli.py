"""`kiosk card emulate` and the foreground runner (the private-pcscd path is the fixture's)."""

from __future__ import annotations

import threading

from typer.testing import CliRunner

from drivers.card.emulator import list_profiles, load_profile
from drivers.card.emulator.runner import EmulatorRun, run_foreground
from drivers.card.vpcd import Control
from kiosk.cli.main import root
from tests.unit.card.test_emulator_socket import FakeVpcd

runner = CliRunner()


def test_list_profiles() -> None:
    result = runner.invoke(root, ["--profile", "test", "card", "emulate", "--list"])
    assert result.exit_code == 0
    assert result.output.split() == list_profiles()


def test_unknown_profile_is_refused() -> None:
    result = runner.invoke(root, ["--profile", "test", "card", "emulate", "--profile", "nope"])
    assert result.exit_code == 1
    assert "unknown profile" in result.output


def test_runner_without_pcscd_connects_both_slots() -> None:
    slot0 = FakeVpcd()
    slot1 = FakeVpcd(slot0.port + 1)  # the runner uses port and port + 1
    stop = threading.Event()
    lines: list[str] = []
    run = EmulatorRun(profile="ssc2", port=slot0.port, psam=True, with_pcscd=False)
    thread = threading.Thread(target=run_foreground, args=(run, lines.append, stop))
    thread.start()
    try:
        for vpcd, name in ((slot0, "ssc2"), (slot1, "psam")):
            vpcd.accept()
            vpcd.send(bytes([Control.GET_ATR]))
            assert vpcd.recv() == load_profile(name).atr
    finally:
        stop.set()
        thread.join(5)
        slot0.close()
        slot1.close()
    assert any("Ctrl-C" in line for line in lines)
