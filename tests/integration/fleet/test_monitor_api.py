"""The monitor through a real mosquitto and its real HTTP API (no browser): presence, stale,
commands and their acks, hostile input, and the web server's refusals."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from central.fleet.monitor import FleetMonitor
from tests.fixtures.broker import Broker
from tests.fixtures.fleet import (
    SIM_LOG_LINES,
    SimTerminal,
    start_fleet_monitor,
    telemetry_payload,
    wait_until,
)


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def post(url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    h = {"Content-Type": "application/json", **(headers or {})}
    req = urllib.request.Request(url, data=body, headers=h, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.fixture
def raw_client(broker: Broker) -> Iterator[mqtt.Client]:
    """A plain MQTT client that can publish anything anywhere (a hostile or broken sender)."""
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="raw", protocol=mqtt.MQTTv5)
    c.connect("127.0.0.1", broker.port)
    c.loop_start()
    yield c
    c.disconnect()
    c.loop_stop()


def terminal(monitor: FleetMonitor, tid: str) -> dict[str, Any] | None:
    return monitor.state.get(tid)


def test_presence_will_stale_and_ping_ack(broker: Broker, fleet_monitor: FleetMonitor) -> None:
    a = SimTerminal(broker.port, "k-001").start()
    b = SimTerminal(broker.port, "k-002").start()
    c = SimTerminal(broker.port, "k-003", outbox_depth=5).start()
    try:
        wait_until(lambda: fleet_monitor.state.counts()["online"] == 3, "three online")
        fleet = get(fleet_monitor.url + "api/fleet")
        assert fleet["broker"] is True and fleet["counts"]["total"] == 3
        assert {t["id"] for t in fleet["terminals"]} == {"k-001", "k-002", "k-003"}

        b.crash()
        wait_until(
            lambda: terminal(fleet_monitor, "k-002")["presence"] == "offline",  # type: ignore[index]
            "the last will",
        )

        # k-001 keeps reporting, k-003 falls silent: only k-003 turns stale.
        def stale_c() -> bool:
            a.send_telemetry()
            return bool(terminal(fleet_monitor, "k-003")["stale"])  # type: ignore[index]

        wait_until(stale_c, "k-003 stale")
        assert terminal(fleet_monitor, "k-001")["stale"] is False  # type: ignore[index]
        assert terminal(fleet_monitor, "k-002")["stale"] is False  # type: ignore[index]
        assert get(fleet_monitor.url + "api/terminals/k-003")["backlog"] == 5

        status, cmd = post(
            fleet_monitor.url + "api/terminals/k-001/commands", b'{"name": "ping", "args": {}}'
        )
        assert status == 202 and cmd["state"] == "sent" and cmd["name"] == "ping"
        done = wait_until(
            lambda: (
                (t := terminal(fleet_monitor, "k-001"))
                and t["command"]["state"] == "succeeded"
                and t["command"]
            ),
            "the ping's ack",
        )
        assert done["command_id"] == cmd["command_id"] and done["detail"] == "pong"
        sent = a.commands[-1]
        assert sent.name == "ping" and sent.expires_at - sent.issued_at == pytest.approx(30.0)
    finally:
        a.stop()
        c.stop()


def test_clean_stop_shows_stopped(broker: Broker, fleet_monitor: FleetMonitor) -> None:
    a = SimTerminal(broker.port, "k-010").start()
    wait_until(lambda: terminal(fleet_monitor, "k-010"), "k-010")
    a.stop()
    wait_until(
        lambda: terminal(fleet_monitor, "k-010")["presence"] == "stopped",  # type: ignore[index]
        "stopped",
    )


def test_retained_presence_is_known_after_a_monitor_restart(broker: Broker) -> None:
    a = SimTerminal(broker.port, "k-020").start()
    a.crash()
    monitor = start_fleet_monitor(broker.port)
    try:
        wait_until(
            lambda: (t := terminal(monitor, "k-020")) and t["presence"] == "offline",
            "retained will",
        )
    finally:
        monitor.stop()


def test_malformed_and_hostile_messages_are_counted_not_fatal(
    broker: Broker, fleet_monitor: FleetMonitor, raw_client: mqtt.Client
) -> None:
    for payload in (b"{oops", b"[]", b'{"v": 1}', b"\x00" * 300_000):
        raw_client.publish("ssk/v1/k-030/telemetry", payload, qos=1).wait_for_publish(5)
    raw_client.publish("ssk/v1/k-031/telemetry", telemetry_payload("k-999"), qos=1)  # spoof
    raw_client.publish("ssk/v1/bad id!/status", b"{}", qos=1).wait_for_publish(5)
    raw_client.publish("ssk/v1/k-032/telemetry", telemetry_payload("k-032"), qos=1)
    wait_until(lambda: terminal(fleet_monitor, "k-032"), "a good message after the bad ones")
    wait_until(lambda: fleet_monitor.state.malformed_total >= 5, "malformed counted")
    bad = terminal(fleet_monitor, "k-030")
    assert bad is not None and bad["malformed"] == 4 and bad["presence"] == "unknown"
    assert terminal(fleet_monitor, "k-999") is None  # the spoofed id never appears
    assert get(fleet_monitor.url + "api/health")["malformed_total"] >= 5


def test_command_refusals(broker: Broker, fleet_monitor: FleetMonitor) -> None:
    a = SimTerminal(broker.port, "k-040").start()
    try:
        wait_until(lambda: terminal(fleet_monitor, "k-040"), "k-040")
        url = fleet_monitor.url + "api/terminals/k-040/commands"
        assert (
            post(fleet_monitor.url + "api/terminals/k-404/commands", b'{"name":"ping"}')[0] == 404
        )
        assert post(url, b'{"name":"format_disk"}')[0] == 400
        assert post(url, b'{"name":"maintenance","args":{}}')[0] == 400
        assert post(url, b'{"name":"set_config","args":{"key":"BAD KEY","value":1}}')[0] == 400
        assert post(url, b'{"name":"ping","args":{"x":1}}')[0] == 400
        assert post(url, b"not json")[0] == 400
        assert post(url, b'{"name":"ping"}', {"Content-Type": "text/plain"})[0] == 415
        assert post(url, b'{"name":"ping"}', {"Origin": "http://evil.example"})[0] == 403
        host = urlsplit(fleet_monitor.url).netloc
        assert post(url, b"{}", {"Origin": f"http://{host}"})[0] == 400  # same origin: on to body
        proxied = {"Origin": "https://ops.example", "X-Forwarded-Host": "ops.example"}
        assert post(url, b"{}", proxied)[0] == 400  # passed the origin check, then refused
        assert a.commands == []  # nothing refused ever reached the terminal
        status, _ = post(url, b'{"name":"maintenance","args":{"enabled":true}}')
        assert status == 202
        wait_until(lambda: a.commands, "maintenance command")
        assert a.commands[0].args == {"enabled": True}

        status, cmd = post(url, b'{"name":"collect_logs","args":{"lines":50}}')
        assert status == 202
        wait_until(
            lambda: terminal(fleet_monitor, "k-040")["command"]["has_result"],  # type: ignore[index]
            "collect_logs result",
        )
        full = get(f"{fleet_monitor.url}api/terminals/k-040/commands/{cmd['command_id']}")
        assert full["state"] == "succeeded" and full["result"] == {"lines": SIM_LOG_LINES}
        assert "result" not in terminal(fleet_monitor, "k-040")["command"]  # type: ignore[index]
    finally:
        a.stop()


def test_command_while_broker_is_down_is_refused(
    broker: Broker, fleet_monitor: FleetMonitor
) -> None:
    a = SimTerminal(broker.port, "k-050").start()
    wait_until(lambda: terminal(fleet_monitor, "k-050"), "k-050")
    a.crash()
    broker.stop()
    wait_until(lambda: not fleet_monitor.mqtt.connected, "monitor sees the broker gone")
    status, body = post(fleet_monitor.url + "api/terminals/k-050/commands", b'{"name":"ping"}')
    assert status == 503 and body["code"] == "fleet.publish_failed"
    assert terminal(fleet_monitor, "k-050")["command"]["state"] == "failed"  # type: ignore[index]
    assert get(fleet_monitor.url + "api/fleet")["broker"] is False


def test_live_stream_sends_a_full_picture_then_changes(
    broker: Broker, fleet_monitor: FleetMonitor
) -> None:
    a = SimTerminal(broker.port, "k-060").start()
    try:
        wait_until(lambda: terminal(fleet_monitor, "k-060"), "k-060")
        with urllib.request.urlopen(fleet_monitor.url + "api/stream", timeout=10) as r:
            assert r.headers["Content-Type"].startswith("text/event-stream")
            first = _next_event(r)
            assert first["full"] is True and [t["id"] for t in first["terminals"]] == ["k-060"]
            a.send_telemetry(outbox_depth=9)
            change = _next_event(r)
            assert change["full"] is False and change["terminals"][0]["backlog"] == 9
    finally:
        a.stop()


def _next_event(stream: Any) -> dict[str, Any]:
    """The next `fleet` event's data, with its SSE id under "_id"."""
    data: dict[str, Any] | None = None
    event_id = ""
    while True:
        line = stream.readline().decode()
        if line.startswith("id: "):
            event_id = line[len("id: ") :].strip()
        elif line.startswith("data: "):
            data = json.loads(line[len("data: ") :])
        elif line == "\n" and data is not None:
            data["_id"] = event_id
            return data


def _open_stream(url: str, last_event_id: str | None = None) -> Any:
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    return urllib.request.urlopen(
        urllib.request.Request(url + "api/stream", headers=headers), timeout=10
    )


def test_live_stream_resumes_from_its_own_ids_only(
    broker: Broker, fleet_monitor: FleetMonitor
) -> None:
    a = SimTerminal(broker.port, "k-070").start()
    b = SimTerminal(broker.port, "k-071").start()
    try:
        # Both births AND both telemetry messages in: a late one would land in the resumed delta.
        wait_until(
            lambda: all(
                (t := terminal(fleet_monitor, tid)) and t["uptime_s"] is not None
                for tid in ("k-070", "k-071")
            ),
            "two terminals with telemetry",
        )
        with _open_stream(fleet_monitor.url) as r:
            last_id = _next_event(r)["_id"]
        a.send_telemetry(outbox_depth=4)
        wait_until(lambda: terminal(fleet_monitor, "k-070")["backlog"] == 4, "backlog")  # type: ignore[index]
        with _open_stream(fleet_monitor.url, last_id) as r:
            resumed = _next_event(r)
        assert resumed["full"] is False and [t["id"] for t in resumed["terminals"]] == ["k-070"]
        # an id from another monitor instance (say, before a restart) gets the full picture
        with _open_stream(fleet_monitor.url, "0badc0de-" + last_id.split("-")[1]) as r:
            other = _next_event(r)
        assert other["full"] is True and len(other["terminals"]) == 2
    finally:
        a.stop()
        b.stop()


def test_page_and_assets_carry_a_strict_content_security_policy(
    fleet_monitor: FleetMonitor,
) -> None:
    for path in ("", "static/app.js", "static/app.css"):
        with urllib.request.urlopen(fleet_monitor.url + path, timeout=5) as r:
            assert "script-src 'self'" in r.headers["Content-Security-Policy"]
            assert r.headers["X-Content-Type-Options"] == "nosniff"
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(fleet_monitor.url + "static/../monitor.py", timeout=5)
    assert e.value.code == 404
