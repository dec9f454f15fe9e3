"""The monitor against the REAL kiosk agent (kiosk.agent.Agent, its SyncService and telemetry):
presence, telemetry and a ping's ack all flow through the shared contract, end to end."""

from __future__ import annotations

from pathlib import Path

from central.fleet.monitor import FleetMonitor
from kiosk.agent import Agent
from kiosk.config import load_config
from kiosk.config.terminal import Mode
from tests.fixtures.broker import Broker
from tests.fixtures.fleet import wait_until


def make_agent(port: int, terminal_id: str, state: Path) -> Agent:
    cfg = load_config(profile="test", environ={}).config
    cfg = cfg.model_copy(
        update={
            "mqtt": cfg.mqtt.model_copy(update={"port": port}),
            "terminal": cfg.terminal.model_copy(
                update={"id": terminal_id, "state_dir": str(state), "mode": Mode.DEMO}
            ),
        }
    )
    return Agent(cfg, environ={}, health=lambda: {"card_reader": "online", "camera": "no_device"})


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
