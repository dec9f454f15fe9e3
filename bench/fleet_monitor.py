"""Fleet monitor ingest: does the monitor keep up with what the broker delivers?

10,000 simulated terminals, 3 telemetry messages each (30,000 QoS 1 messages over 4 publisher
connections) through a real mosquitto. Baseline: a bare paho subscriber that only counts, in
the same run and the same way. Headline: monitor rate / bare rate (1.0 = the monitor costs
nothing the publisher can see). Figures: the page's first full snapshot for 10,000 terminals
(delta + JSON), and the live stream's idle check (what each viewer costs every push interval).
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from central.fleet.monitor import FleetMonitor  # noqa: E402
from kiosk.contract import Channel, topic, topic_filter  # noqa: E402
from tests.fixtures.broker import start_broker  # noqa: E402
from tests.fixtures.fleet import telemetry_payload  # noqa: E402

TERMINALS = 10_000
ROUNDS = 3
PUBLISHERS = 4


def payloads() -> list[tuple[str, bytes]]:
    out = []
    for r in range(ROUNDS):
        for i in range(TERMINALS):
            tid = f"k-{i:05d}"
            out.append((topic(tid, Channel.TELEMETRY), telemetry_payload(tid, f"b{r}")))
    return out


def publish_all(port: int, messages: list[tuple[str, bytes]]) -> float:
    """Publish everything over PUBLISHERS connections; returns the start time (monotonic)."""
    clients = []
    for n in range(PUBLISHERS):
        c = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{n}", protocol=mqtt.MQTTv5
        )
        c.max_inflight_messages_set(1000)
        c.connect("127.0.0.1", port)
        c.loop_start()
        clients.append(c)
    start = time.monotonic()

    def run(n: int) -> None:
        infos = [clients[n].publish(t, p, qos=1) for t, p in messages[n::PUBLISHERS]]
        for info in infos:
            info.wait_for_publish(60)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(PUBLISHERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in clients:
        c.disconnect()
        c.loop_stop()
    return start


def wait_count(count: Any, total: int, timeout: float = 50.0) -> float:
    deadline = time.monotonic() + timeout
    while count() < total:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {count()} of {total} messages arrived")
        time.sleep(0.005)
    return time.monotonic()


def bare_rate(port: int, messages: list[tuple[str, bytes]]) -> float:
    received = [0]
    ready = threading.Event()
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-bare", protocol=mqtt.MQTTv5)

    def on_message(*_: Any) -> None:
        received[0] += 1

    sub.on_message = on_message
    sub.on_subscribe = lambda *_: ready.set()
    sub.connect("127.0.0.1", port)
    sub.loop_start()
    sub.subscribe(topic_filter(Channel.TELEMETRY), qos=1)
    ready.wait(10)
    start = publish_all(port, messages)
    end = wait_count(lambda: received[0], len(messages))
    sub.disconnect()
    sub.loop_stop()
    return len(messages) / (end - start)


def monitor_rate(port: int, messages: list[tuple[str, bytes]]) -> tuple[float, FleetMonitor]:
    monitor = FleetMonitor(
        "127.0.0.1", port, "127.0.0.1", 0, stale_after_s=90, flap_window_s=600, flap_threshold=4
    )
    monitor.start()
    if not monitor.mqtt.wait_connected(10):
        raise SystemExit("monitor did not connect")
    time.sleep(0.3)  # let the SUBACK land before publishing
    start = publish_all(port, messages)
    end = wait_count(lambda: monitor.state.messages_applied, len(messages))
    return len(messages) / (end - start), monitor


def main() -> None:
    messages = payloads()
    with tempfile.TemporaryDirectory() as tmp:
        broker = start_broker(Path(tmp) / "broker")
        try:
            bare = bare_rate(broker.port, messages)
            rate, monitor = monitor_rate(broker.port, messages)
            try:
                t = time.perf_counter()
                snapshot = monitor.state.delta()
                body = json.dumps(snapshot)
                full_ms = (time.perf_counter() - t) * 1000
                t = time.perf_counter()
                for _ in range(20):
                    monitor.state.delta(monitor.state.revision)
                idle_ms = (time.perf_counter() - t) * 1000 / 20
            finally:
                monitor.stop()
        finally:
            broker.stop()
    print(f"figure=bare_subscriber_msgs_per_s value={bare:.0f}")
    print(f"figure=monitor_msgs_per_s value={rate:.0f} target>3000")
    print(
        f"figure=full_snapshot_10k_ms value={full_ms:.0f} target<1000 "
        f"(size {len(body) / 1e6:.1f} MB)"
    )
    print(f"figure=stream_idle_check_10k_ms value={idle_ms:.1f} target<50")
    print(f"ratio={rate / bare:.2f} target>=0.8")


if __name__ == "__main__":
    main()
