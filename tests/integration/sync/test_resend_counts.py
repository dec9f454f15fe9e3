"""Re-sends made visible: attempts per outbox row, and the published / re-sent / receipted
counts in the telemetry report and in `kiosk sync status`, after real re-sends."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from kiosk.cli.main import root
from kiosk.clock import SystemClock
from kiosk.config.telemetry import TelemetryConfig
from kiosk.contract import EventKind
from kiosk.telemetry import TelemetryService
from tests.fixtures.sync_central import MiniCentral
from tests.integration.sync.conftest import Factory
from tests.integration.sync.test_drain import wait_until


def test_resends_are_counted_per_row_in_telemetry_and_in_sync_status(
    tmp_path: Path, make_sync: Factory, mini_central: MiniCentral
) -> None:
    mini_central.lose_first_delivery = True  # acknowledged by the broker, then lost
    journal_path = tmp_path / "counted.sqlite3"
    sync, journal = make_sync("SSK-CNT-0001", journal_path=journal_path)
    assert sync.transport.wait_connected(10)  # type: ignore[attr-defined]
    ids = [journal.enqueue_event(EventKind.AUDIT, {"n": i}) for i in range(5)]
    sync.wake()
    assert wait_until(lambda: journal.stats().depth == 0)  # re-sent after receipt_timeout_s
    assert wait_until(lambda: journal.attempt_stats()["published"] == 10)
    db = sqlite3.connect(journal_path)
    try:
        marks = ",".join("?" * len(ids))
        attempts = db.execute(
            f"SELECT attempts, last_attempt_wall FROM outbox WHERE msg_id IN ({marks})", ids
        ).fetchall()
    finally:
        db.close()
    assert [a for a, _ in attempts] == [2] * 5 and all(w for _, w in attempts)

    telemetry = TelemetryService(
        TelemetryConfig(),
        journal,
        SystemClock(),
        software_version="t",
        state_dir=tmp_path,
        counters=sync.counters,
    )
    report = telemetry.report(journal.stamp())
    assert report.outbox_sends is not None
    assert (report.outbox_sends.published, report.outbox_sends.resent) == (10, 5)
    assert report.outbox_sends.receipted == 5

    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'[terminal]\nid = "SSK-CNT-0001"\nstate_dir = "{tmp_path / "state"}"\n'
        f'[journal]\npath = "{journal_path}"\n'
    )
    result = CliRunner().invoke(
        root, ["--profile", "test", "--config", str(config), "sync", "status"]
    )
    assert result.exit_code == 0, result.output
    sends = json.loads(result.stdout)["sends"]
    assert sends["published"] == 10 and sends["resent"] == 5 and sends["receipted"] == 5
    assert sends["awaiting_receipt"] == 0 and json.loads(result.stdout)["schema_version"] == 4
