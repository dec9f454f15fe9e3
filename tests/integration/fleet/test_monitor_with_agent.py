"""The monitor against the REAL kiosk agent (kiosk.agent.Agent, its SyncService and telemetry):
presence, telemetry and a ping's ack all flow through the shared contract, end to end."""

from __future__ import annotations

from pathlib import Path

from central.fleet.monitor import FleetMonitor
from kiosk.agent import Agent
from kiosk.config import load_config
from kiosk.config.terminal import Mode
from tests.fixtures.broker import Broker
from tests.fixtures.fleet import start_fleet_monitor, wait_until


def make_agent(port: int, terminal_id: str, state: Path, telemetry_s: float | None = None) -> Agent:
    cfg = load_config(profile="test", environ={}).config
    telemetry = cfg.telemetry
    if telemetry_s is not None:
        telemetry = telemetry.model_copy(update={"interval_s": telemetry_s})
    cfg = cfg.model_copy(
        update={
            "telemetry": telemetry,
            "mqtt": cfg.mqtt.model_copy(update={"port": port}),
            "terminal": cfg.terminal.model_copy(
                update={"id": terminal_id, "state_dir": str(state), "mode": Mode.DEMO}
            ),
        }
    )
    return Agent(
        cfg,
        environ={},
        health=lambda: {"card_reader": "online", "camera": "no_device", "printer": "online"},
        details=lambda: {"printer": "paper_near_end"},
    )


def test_real_agent_appears_answers_ping_and_stops(
    broker: Broker, fleet_monitor: FleetMonitor, tmp_path: Path
) -> None:
    agent = make_agent(broker.port, "SSK-E2E-0001", tmp_path / "agent")
    agent.start()
    try:
        seen = wait_until(
            lambda: (
                (t := fleet_monitor.state.get("SSK-E2E-0001"))
                and t["presence"] == "online"
                and t["uptime_s"] is not None
                and t
            ),
            "the agent's birth and telemetry",
        )
        assert seen["health"] == "degraded" and seen["devices"]["camera"] == "no_device"
        # the printer still prints, and the desk sees that its roll is running out
        assert seen["devices"]["printer"] == "online"
        assert seen["device_details"] == {"printer": "paper_near_end"}
        assert seen["version"] and seen["backlog"] == 0
        fleet_monitor.send_command("SSK-E2E-0001", "ping", {})
        done = wait_until(
            lambda: (
                (c := fleet_monitor.state.get("SSK-E2E-0001")["command"])  # type: ignore[index]
                and c["state"] in ("succeeded", "failed", "rejected")
                and c
            ),
            "the agent's ack",
        )
        assert done["state"] == "succeeded", done
        sent = fleet_monitor.send_command("SSK-E2E-0001", "collect_logs", {"lines": 20})
        wait_until(
            lambda: (
                (c := fleet_monitor.state.command("SSK-E2E-0001", sent["command_id"]))
                and c["state"] == "succeeded"
                and c
            ),
            "the agent's log tail",
        )
        logs = fleet_monitor.state.command("SSK-E2E-0001", sent["command_id"])
        assert logs is not None and isinstance(logs["result"]["lines"], list)
    finally:
        agent.stop()
    wait_until(
        lambda: fleet_monitor.state.get("SSK-E2E-0001")["presence"] == "stopped",  # type: ignore[index]
        "the agent's clean stop",
    )


def test_monitor_started_after_the_agent_asks_for_a_rebirth(broker: Broker, tmp_path: Path) -> None:
    # Telemetry once an hour: what the late monitor sees comes from its rebirth request.
    agent = make_agent(broker.port, "SSK-E2E-0002", tmp_path / "agent", telemetry_s=3600.0)
    agent.start()
    try:
        watcher = start_fleet_monitor(broker.port)  # only to know the agent is online
        try:
            wait_until(
                lambda: (t := watcher.state.get("SSK-E2E-0002")) and t["presence"] == "online",
                "the agent's birth",
            )
        finally:
            watcher.stop()
        monitor = start_fleet_monitor(broker.port)
        try:
            seen = wait_until(
                lambda: (
                    (t := monitor.state.get("SSK-E2E-0002"))
                    and t["uptime_s"] is not None
                    and t["command"]
                    and t["command"]["state"] == "succeeded"
                    and t
                ),
                "telemetry and the acknowledged rebirth after the monitor's start",
            )
            assert seen["command"]["name"] == "rebirth" and seen["presence"] == "online"
        finally:
            monitor.stop()
    finally:
        agent.stop()
