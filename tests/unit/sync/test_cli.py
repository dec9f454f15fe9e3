"""`kiosk sync ...` offline commands on a real journal."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kiosk.cli.main import root


def test_sync_status_and_commands(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[terminal]\nid = "SSK-CLI-0001"\nstate_dir = "{tmp_path / "state"}"\n')
    runner = CliRunner()
    result = runner.invoke(root, ["--profile", "test", "--config", str(config), "sync", "status"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["outbox"]["depth"] == 0 and data["open_payments"] == 0
    result = runner.invoke(root, ["sync", "commands"])
    assert result.exit_code == 0 and "rebirth" in result.stdout
    result = runner.invoke(root, ["--profile", "test", "--config", str(config), "pay", "list"])
    assert result.exit_code == 0 and json.loads(result.stdout) == []


def test_pay_submit_documents_its_exit_codes() -> None:
    result = CliRunner().invoke(root, ["pay", "submit", "--help"])
    assert result.exit_code == 0
    for line in ("0 accepted", "2 not charged", "3 outcome unknown", "4 the key already"):
        assert line in result.stdout
