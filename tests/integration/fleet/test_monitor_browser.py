"""The fleet monitor page in a real headless chromium: terminals appear live, a crash shows
offline, a silent one is flagged stale, a flapping one flagged, a ping's ack is shown, hostile
strings stay text. Leaves a screenshot in artifacts/fleet-monitor.png."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from central.fleet.monitor import FleetMonitor
from kiosk.contract import Channel, topic
from tests.fixtures.broker import Broker
from tests.fixtures.browser import artifacts_dir
from tests.fixtures.fleet import SIM_LOG_LINES, SimTerminal, status_payload

WAIT_S = 20.0
HOSTILE = '<img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script>'


def cell(driver: WebDriver, tid: str, cls: str) -> str:
    """The visible text of one cell of one terminal's row ("" while the row is absent)."""
    text = driver.execute_script(
        "const c = document.querySelector(`tr[data-id='${arguments[0]}'] td.${arguments[1]}`);"
        "return c ? c.innerText : '';",
        tid,
        cls,
    )
    return str(text)


def row_ids(driver: WebDriver) -> list[str]:
    """The terminal ids of the table's rows, read in one go (rows are re-rendered live)."""
    ids = driver.execute_script(
        "return [...document.querySelectorAll('#fleet tbody tr')].map(r => r.dataset.id)"
    )
    return list(ids)


@pytest.fixture
def heartbeat(broker: Broker) -> Iterator[list[SimTerminal]]:
    """Terminals appended here send telemetry every 0.3 s until the test ends (not stale)."""
    live: list[SimTerminal] = []
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(0.3):
            for t in list(live):
                with contextlib.suppress(RuntimeError, ValueError):  # stopped at test end
                    t.send_telemetry()

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    yield live
    stop.set()
    thread.join(5)


def test_operator_sees_the_fleet_live_and_pings_a_terminal(
    broker: Broker,
    fleet_monitor: FleetMonitor,
    chrome: Chrome,
    heartbeat: list[SimTerminal],
) -> None:
    wait = WebDriverWait(chrome, WAIT_S, poll_frequency=0.1)
    chrome.get(fleet_monitor.url)
    wait.until(lambda d: "broker connected" in d.find_element(By.ID, "broker").text)
    title = chrome.title

    healthy = SimTerminal(broker.port, "hall-a-001").start()
    doomed = SimTerminal(broker.port, "hall-a-002").start()
    silent = SimTerminal(
        broker.port,
        "hall-b-007",
        outbox_depth=12,
        outbox_oldest_age_s=340.0,
        devices={"card_reader": "online", "camera": "no_device"},
    ).start()
    hostile = SimTerminal(
        broker.port,
        "hall-c-013",
        software_version=HOSTILE,
        devices={HOSTILE: "hardware_error"},
    ).start()
    sims = [healthy, doomed, silent, hostile]
    heartbeat.extend([healthy, hostile])
    flapper = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="flapper", protocol=mqtt.MQTTv5)
    flapper.connect("127.0.0.1", broker.port)
    flapper.loop_start()
    try:
        # terminals appear live, without reloading the page
        wait.until(
            lambda d: all(cell(d, s.terminal_id, "c-presence").startswith("online") for s in sims)
        )
        # a flapping terminal: six presence changes in the window (threshold 3), ends online
        for i in range(7):
            state = "online" if i % 2 == 0 else "offline"
            flapper.publish(
                topic("hall-d-021", Channel.STATUS),
                status_payload("hall-d-021", state, "boot-f"),
                qos=1,
                retain=True,
            ).wait_for_publish(5)
        heartbeat.append(_Beat(flapper, "hall-d-021"))  # type: ignore[arg-type]
        wait.until(lambda d: "flapping" in cell(d, "hall-d-021", "c-flags"))

        doomed.crash()  # no DISCONNECT: the broker publishes its retained will
        wait.until(lambda d: cell(d, "hall-a-002", "c-presence").startswith("offline"))
        # Only the silent one turns stale. Waited for as one condition: on a loaded machine a
        # heartbeat may come late and flag a live terminal for a moment; that is not the point.
        wait.until(
            lambda d: (
                "stale" in cell(d, "hall-b-007", "c-flags")
                and "stale" not in cell(d, "hall-a-001", "c-flags")
                and d.find_element(By.ID, "count-stale").text == "1"
            )
        )
        assert "stale" not in cell(chrome, "hall-a-002", "c-flags")  # offline is never stale
        assert cell(chrome, "hall-b-007", "c-health").startswith("degraded")
        assert "camera: no_device" in cell(chrome, "hall-b-007", "c-health")
        assert cell(chrome, "hall-b-007", "c-backlog").startswith("12")

        # counts at the top follow
        wait.until(lambda d: d.find_element(By.ID, "count-offline").text == "1")
        assert chrome.find_element(By.ID, "count-flapping").text == "1"
        assert chrome.find_element(By.ID, "count-total").text == "5"

        # a remote command and its acknowledgement
        chrome.find_element(By.CSS_SELECTOR, 'tr[data-id="hall-a-001"] button.btn-ping').click()
        wait.until(lambda d: "succeeded" in cell(d, "hall-a-001", "c-command"))
        assert cell(chrome, "hall-a-001", "c-command").startswith("ping")
        assert "pong" in cell(chrome, "hall-a-001", "c-command")
        assert healthy.commands and healthy.commands[-1].name == "ping"

        # hostile strings are shown as text, never become markup or run
        version = chrome.find_element(By.CSS_SELECTOR, "tr[data-id='hall-c-013'] td.c-version")
        assert version.get_attribute("title") == HOSTILE  # the full text, as text
        assert cell(chrome, "hall-c-013", "c-version") == HOSTILE[:23] + "…"
        assert chrome.find_elements(By.CSS_SELECTOR, "#fleet tbody img, #fleet tbody script") == []
        assert chrome.title == title

        # filtering by a count tile narrows the table
        chrome.find_element(By.CSS_SELECTOR, '.tile[data-filter="stale"]').click()
        wait.until(lambda d: row_ids(d) == ["hall-b-007"])
        chrome.find_element(By.CSS_SELECTOR, '.tile[data-filter="all"]').click()
        wait.until(lambda d: len(row_ids(d)) == 5)

        chrome.save_screenshot(str(artifacts_dir() / "fleet-monitor.png"))
        # a command from the "more…" list; its result is fetched on request, as JSON text
        Select(
            chrome.find_element(By.CSS_SELECTOR, 'tr[data-id="hall-a-001"] select.cmd-select')
        ).select_by_visible_text("collect logs")
        wait.until(lambda d: "collect_logs succeeded" in cell(d, "hall-a-001", "c-command"))
        link = chrome.find_element(By.CSS_SELECTOR, 'tr[data-id="hall-a-001"] a.cmd-result')
        chrome.get(str(link.get_attribute("href")))
        assert json.loads(chrome.find_element(By.TAG_NAME, "body").text)["result"] == {
            "lines": SIM_LOG_LINES
        }

        errors = [e for e in chrome.get_log("browser") if e["level"] == "SEVERE"]  # type: ignore[no-untyped-call]
        assert errors == [], errors
    finally:
        heartbeat.clear()
        for s in (healthy, silent, hostile):
            s.stop()
        flapper.disconnect()
        flapper.loop_stop()


class _Beat:
    """Telemetry for the flapping terminal, sent through the raw client (heartbeat duck type)."""

    def __init__(self, client: mqtt.Client, terminal_id: str) -> None:
        self.client, self.terminal_id = client, terminal_id

    def send_telemetry(self) -> None:
        from tests.fixtures.fleet import telemetry_payload

        self.client.publish(
            topic(self.terminal_id, Channel.TELEMETRY),
            telemetry_payload(self.terminal_id, "boot-f"),
            qos=1,
        )
