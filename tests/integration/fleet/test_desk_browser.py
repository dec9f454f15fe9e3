"""Staff alerts and journey statistics on the fleet monitor page, in a real headless chromium:
an alert published by a (simulated) kiosk appears live with terminal, hall and step, the
operator acknowledges it on the page (an HTTP POST, recorded with who and when), redeliveries
count once, and journeys per service with their failure reasons are shown. Nothing personal
reaches the page: a business event of another kind is dropped by the monitor unread."""

from __future__ import annotations

import json
import urllib.request
import uuid
from typing import Any

from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from central.fleet.monitor import FleetMonitor
from kiosk.contract import BusinessEvent, Channel, EventKind, encode
from tests.fixtures.broker import Broker
from tests.fixtures.browser import artifacts_dir
from tests.fixtures.fleet import SimTerminal

WAIT_S = 20.0
HOSTILE = "<img src=x onerror=\"document.title='pwned'\">"
ID_NUMBER = "11010519491231002X"


def _event(sim: SimTerminal, kind: EventKind, data: dict[str, Any], msg_id: str = "") -> bytes:
    return encode(
        BusinessEvent(
            msg_id=msg_id or str(uuid.uuid4()),
            terminal_id=sim.terminal_id,
            boot_id=sim.boot_id,
            seq=1,
            wall=1_790_000_000.0,
            kind=kind,
            data=data,
        )
    )


def _alert(
    sim: SimTerminal, reason: str, step: str, hall: str = "第一服务大厅"
) -> tuple[str, bytes]:
    alert_id = str(uuid.uuid4())
    data = {"alert_id": alert_id, "reason": reason, "step": step, "hall": hall, "site": "东城区"}
    return alert_id, _event(sim, EventKind.STAFF_ALERT, data)


def _journey(sim: SimTerminal, service: str, outcome: str, reason: str = "") -> bytes:
    data = {"service": service, "outcome": outcome, "reason": reason, "duration_s": 42.0}
    return _event(sim, EventKind.SESSION_STATS, data)


def _alert_text(driver: Chrome, alert_id: str) -> str:
    return str(
        driver.execute_script(
            "const li = document.querySelector(`li[data-alert='${arguments[0]}']`);"
            "return li ? li.innerText : '';",
            alert_id,
        )
    )


def _journey_row(driver: Chrome, terminal: str, service: str) -> list[str]:
    return list(
        driver.execute_script(
            "const tr = document.querySelector("
            "`#journeys tr[data-terminal='${arguments[0]}'][data-service='${arguments[1]}']`);"
            "return tr ? [...tr.children].map(td => td.innerText) : [];",
            terminal,
            service,
        )
    )


def test_staff_alerts_appear_live_and_are_acknowledged_on_the_page(
    broker: Broker, fleet_monitor: FleetMonitor, chrome: Chrome
) -> None:
    wait = WebDriverWait(chrome, WAIT_S, poll_frequency=0.1)
    chrome.get(fleet_monitor.url)
    wait.until(lambda d: "broker connected" in d.find_element(By.ID, "broker").text)
    title = chrome.title
    hall_a = SimTerminal(broker.port, "hall-a-101").start()
    hall_b = SimTerminal(broker.port, "hall-b-202").start()
    try:
        left_id, left = _alert(hall_a, "card_left", "take_card")
        call_id, call = _alert(hall_b, "call_staff", HOSTILE, hall=HOSTILE)
        hall_a.publish(Channel.EVENTS, left)
        hall_a.publish(Channel.EVENTS, left)  # the outbox resends until receipted: one alert
        hall_b.publish(Channel.EVENTS, call)
        # A business event of another kind, with personal data: never shown, never kept.
        hall_a.publish(Channel.EVENTS, _event(hall_a, EventKind.APPLICATION, {"id": ID_NUMBER}))
        wait.until(lambda d: "card left in the reader" in _alert_text(d, left_id))
        text = _alert_text(chrome, left_id)
        assert "hall-a-101" in text and "第一服务大厅" in text and "at take_card" in text
        wait.until(lambda d: "citizen calls for staff" in _alert_text(d, call_id))
        assert "at <img src=x onerror=" in _alert_text(chrome, call_id)  # text, not markup
        assert chrome.title == title
        assert chrome.find_element(By.ID, "alerts-open").text == "2 open"
        assert len(chrome.find_elements(By.CSS_SELECTOR, "#alerts li")) == 2

        chrome.find_element(By.ID, "operator").send_keys("王值班")
        chrome.find_element(By.CSS_SELECTOR, f"li[data-alert='{left_id}'] .btn-ack").click()
        wait.until(lambda d: "acknowledged by 王值班" in _alert_text(d, left_id))
        wait.until(lambda d: d.find_element(By.ID, "alerts-open").text == "1 open")
        with urllib.request.urlopen(fleet_monitor.url + "api/desk", timeout=10) as resp:
            desk = json.loads(resp.read())
        acked = next(a for a in desk["alerts"] if a["alert_id"] == left_id)
        assert acked["acked_by"] == "王值班" and acked["acked"] is not None and not acked["open"]
        assert desk["alerts"][0]["alert_id"] == call_id  # open alerts first
        assert ID_NUMBER not in json.dumps(desk) and ID_NUMBER not in chrome.page_source

        # Journeys per service and failure reasons, a redelivery counted once.
        done = _journey(hall_a, "inquiry", "completed")
        for payload in (
            done,
            done,
            _journey(hall_a, "inquiry", "completed"),
            _journey(hall_a, "utility_payment", "failed", "insufficient_funds"),
            _journey(hall_a, "utility_payment", "abandoned", "timeout"),
            _journey(hall_a, "utility_payment", "completed"),
        ):
            hall_a.publish(Channel.EVENTS, payload)
        wait.until(
            lambda d: _journey_row(d, "hall-a-101", "utility_payment")[2:5] == ["1", "1", "1"]
        )
        assert _journey_row(chrome, "hall-a-101", "inquiry")[2:5] == ["2", "0", "0"]
        reasons = (
            _journey_row(chrome, "hall-a-101", "inquiry")[5]
            + _journey_row(chrome, "hall-a-101", "utility_payment")[5]
        )
        assert "insufficient_funds ×1" in reasons and "timeout ×1" in reasons
        chrome.save_screenshot(str(artifacts_dir() / "fleet-desk.png"))
    finally:
        hall_a.stop()
        hall_b.stop()


def test_an_ack_is_refused_cross_site_and_for_an_unknown_alert(
    broker: Broker, fleet_monitor: FleetMonitor
) -> None:
    def post(path: str, body: bytes, **headers: str) -> int:
        req = urllib.request.Request(
            fleet_monitor.url + path.lstrip("/"),
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", **headers},
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as e:
            return int(e.code)

    assert post("/api/alerts/0123456789abcdef/ack", b'{"by": "x"}') == 404
    assert post("/api/alerts/0123456789abcdef/ack", b"[]") == 400
    assert post("/api/alerts/0123456789abcdef/ack", b"{}", Origin="http://evil.example") == 403
