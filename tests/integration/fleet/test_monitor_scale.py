"""Thousands of terminals on the page: counts cover all, the table shows a readable slice, and
search, filter and sort still find any one terminal (real mosquitto, real chromium)."""

from __future__ import annotations

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from central.fleet.monitor import FleetMonitor
from kiosk.contract import Channel, topic
from tests.fixtures.broker import Broker
from tests.fixtures.browser import artifacts_dir
from tests.fixtures.fleet import telemetry_payload, wait_until
from tests.integration.fleet.test_monitor_browser import row_ids

TERMINALS = 3000
ROW_LIMIT = 500  # app.js ROW_LIMIT


def test_three_thousand_terminals(
    broker: Broker, fleet_monitor: FleetMonitor, chrome: Chrome
) -> None:
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="many", protocol=mqtt.MQTTv5)
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    try:
        infos = []
        for i in range(TERMINALS):
            tid = f"k-{i:05d}"
            backlog = 7 if i % 100 == 0 else 0  # every hundredth has a backlog
            infos.append(
                pub.publish(
                    topic(tid, Channel.TELEMETRY),
                    telemetry_payload(tid, outbox_depth=backlog),
                    qos=1,
                )
            )
        for info in infos:
            info.wait_for_publish(10)
        wait_until(lambda: fleet_monitor.state.counts()["total"] == TERMINALS, "all terminals")
    finally:
        pub.disconnect()
        pub.loop_stop()

    wait = WebDriverWait(chrome, 30, poll_frequency=0.2)
    chrome.get(fleet_monitor.url)
    wait.until(lambda d: d.find_element(By.ID, "count-total").text == str(TERMINALS))
    assert chrome.find_element(By.ID, "count-backlog").text == str(TERMINALS // 100)
    wait.until(lambda d: len(row_ids(d)) == ROW_LIMIT)
    assert chrome.find_element(By.ID, "more").is_displayed()
    assert row_ids(chrome)[0] == "k-00000"
    chrome.save_screenshot(str(artifacts_dir() / "fleet-monitor-3000.png"))

    # sort: a second click on the header reverses the order
    header = chrome.find_element(By.CSS_SELECTOR, 'th[data-key="id"]')
    header.click()
    wait.until(lambda d: row_ids(d)[:1] == [f"k-{TERMINALS - 1:05d}"])
    assert header.get_attribute("aria-sort") == "descending"

    # search finds one terminal among thousands
    chrome.find_element(By.ID, "search").send_keys("k-01234")
    wait.until(lambda d: row_ids(d) == ["k-01234"])
    assert not chrome.find_element(By.ID, "more").is_displayed()
    chrome.find_element(By.ID, "search").clear()
    chrome.execute_script("document.getElementById('search').dispatchEvent(new Event('input'))")

    # the backlog filter shows exactly the terminals with a backlog
    chrome.find_element(By.CSS_SELECTOR, '.tile[data-filter="backlog"]').click()
    wait.until(lambda d: len(row_ids(d)) == TERMINALS // 100)
    assert set(row_ids(chrome)) == {f"k-{i:05d}" for i in range(0, TERMINALS, 100)}
