"""The composition root runs the citizen session: `KioskApp.init_session` on the started
devices and the agent, card events from the reader's monitor through the core queue, and a
journey driven through the app's own session runner (as the UI will)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from kiosk.agent import Agent
from kiosk.app import KioskApp
from kiosk.journeys.live import RunnerDriver
from kiosk.journeys.rig import EmulatedHardware, profile_secrets
from kiosk.journeys.runner import JourneyRunner
from kiosk.journeys.spec import load_journey
from kiosk.watchdog import SystemdNotifier
from tests.fixtures.journeys import JourneyStack
from tests.integration.journeys.test_journeys import events_of, wait_for


def test_kiosk_app_runs_a_journey_through_its_session(
    journey_stack: JourneyStack, terminal: EmulatedHardware, tmp_path: Path
) -> None:
    base = terminal.config()
    config = base.model_copy(
        update={
            "terminal": base.terminal.model_copy(
                update={"id": "SSK-APP-0001", "state_dir": str(tmp_path / "app")}
            )
        }
    )
    app = KioskApp(config)
    app.start()
    agent: Agent = app.init_agent(environ={})
    session = app.init_session(agent)
    assert session is not None and not app.failed, app.failed
    loop = threading.Thread(target=app.run, args=(agent, SystemdNotifier(environ={})))
    loop.start()
    driver = RunnerDriver(session)
    try:
        journey = load_journey("query")
        result = JourneyRunner(journey, terminal, driver, None, profile_secrets(journey.card)).run()
        assert result.ok, [p for s in result.steps for p in s.problems]

        # the app's own terminal told the central how the session went
        def from_app() -> list[dict[str, object]]:
            out = [json.loads(e) for e in events_of(journey_stack, "session_stats")]
            return [e for e in out if e.get("terminal_id") == "SSK-APP-0001"]

        wait_for("the app's session_stats at the central", lambda: bool(from_app()))
        assert from_app()[-1]["reason"] == "cancelled"
    finally:
        driver.close()
        agent.request_stop()
        loop.join(10)
        app.stop()
