"""The central process composes the fleet monitor: one service, workers + the operator page."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

from central.config import CentralConfig, RunConfig
from central.fleet.config import FleetConfig
from central.service import CentralService
from kiosk.contract import CONTRACT_VERSION, Channel, PresenceState
from tests.fixtures.broker import Broker
from tests.fixtures.central import start_test_central
from tests.integration.central.kiosk_client import Kiosk


def _get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=5) as r:
        body: dict[str, Any] = json.loads(r.read())
        return body


def test_run_serves_the_fleet_monitor(tmp_path: Path, broker: Broker) -> None:
    handle = start_test_central(tmp_path, broker, workers=1)
    handle.service.stop()  # restart the same config with the monitor on
    config: CentralConfig = handle.config.model_copy(
        update={"run": RunConfig(fleet_monitor=True), "fleet": FleetConfig(http_port=0)}
    )
    service = CentralService(config)
    service.start()
    kiosk = Kiosk(broker, "SSK-MON-0001")
    try:
        assert service.monitor is not None
        url = service.monitor.url
        assert _get(url + "api/health")
        kiosk.publish(
            Channel.STATUS, {**kiosk.envelope(), "state": PresenceState.ONLINE.value}, retain=True
        )
        kiosk.publish(
            Channel.TELEMETRY,
            {**kiosk.envelope(), "v": CONTRACT_VERSION, "software_version": "9.9", "uptime_s": 1.0},
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            fleet = json.dumps(_get(url + "api/fleet"))
            if "SSK-MON-0001" in fleet and service.stats().telemetry == 1:
                break
            time.sleep(0.1)
        assert "SSK-MON-0001" in fleet  # the page knows the terminal ...
        assert service.stats().telemetry == 1  # ... and the workers ingested its report
    finally:
        kiosk.close()
        service.stop()


def test_a_staff_alert_acknowledged_on_the_monitor_is_stored_beside_its_event(
    tmp_path: Path, broker: Broker
) -> None:
    handle = start_test_central(tmp_path, broker, workers=1)
    handle.service.stop()
    config: CentralConfig = handle.config.model_copy(
        update={"run": RunConfig(fleet_monitor=True), "fleet": FleetConfig(http_port=0)}
    )
    service = CentralService(config)
    service.start()
    kiosk = Kiosk(broker, "SSK-MON-0002")
    try:
        assert service.monitor is not None
        url = service.monitor.url
        alert = {"alert_id": "alert-0000000001", "reason": "card_left", "step": "take_card"}
        kiosk.publish(Channel.EVENTS, {**kiosk.envelope(), "kind": "staff_alert", "data": alert})
        assert kiosk.wait_receipts(1)[0]["outcome"] == "accepted"  # the workers applied it
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not _get(url + "api/desk")["alerts"]:
            time.sleep(0.1)
        req = urllib.request.Request(
            url + "api/alerts/alert-0000000001/ack",
            data=json.dumps({"by": "Li"}).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=5) as r:
            assert json.loads(r.read())["acked_by"] == "Li"
        rows = handle.query("SELECT alert_id, terminal_id, reason, acked_by FROM staff_alert_acks")
        assert rows == [("alert-0000000001", "SSK-MON-0002", "card_left", "Li")]
        events = handle.query("SELECT kind FROM event_receipts")
        assert events == [("staff_alert",)]
    finally:
        kiosk.close()
        service.stop()
