"""Fleet telemetry ingest: 10,000 simulated terminals into the central consumer, through mosquitto.

10,000 terminals' topics (`ssk/v1/<id>/telemetry`) over 20 MQTT connections in 2 publisher
processes; one report per terminal per 10 s, played 3x faster (~3,000 msg/s offered, QoS 1),
into the real central workers (2 workers in the `$share/central` group, contract validation,
coalesced last-seen rows on SQLite): the ingest path the fleet monitor also relies on.
After a ramp, the steady window compares what the central ingested with what was offered in the
same window (the baseline, measured in the same run). The central's CPU time is measured on this
process (the publishers run in their own processes).

Figure lines, then the headline LAST: `ratio=<sustained/offered> target>=0.98`.
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import sys
import tempfile
import time
import uuid
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from central.config import (  # noqa: E402
    BrokerConfig,
    CentralConfig,
    RunConfig,
    StorageConfig,
    WorkersConfig,
)
from central.service import CentralService  # noqa: E402
from kiosk.contract import CONTRACT_VERSION, Channel, topic  # noqa: E402
from tests.fixtures.broker import start_broker  # noqa: E402

TERMINALS = 10_000
CONNECTIONS = 20
PROCESSES = 2
PERIOD_S = 10.0  # one report per terminal per 10 s ...
SPEEDUP = 3.0  # ... played 3x faster
RAMP_S = 6.0
WINDOW_S = 28.0
OFFERED = TERMINALS / PERIOD_S * SPEEDUP  # msg/s


def _payload(terminal_id: str, seq: int, boot: str) -> bytes:
    return json.dumps(
        {
            "v": CONTRACT_VERSION,
            "msg_id": str(uuid.uuid4()),
            "terminal_id": terminal_id,
            "boot_id": boot,
            "seq": seq,
            "mono": seq * 10.0,
            "wall": time.time(),
            "clock_synced": True,
            "software_version": "1.4.2",
            "uptime_s": seq * 10.0,
            "devices": {"card_reader": "online", "camera": "online", "fingerprint": "online"},
            "outbox_depth": seq % 3,
            "outbox_oldest_age_s": 0.0,
            "sessions": seq // 7,
            "disk_free_bytes": 12_000_000_000,
            "disk_total_bytes": 32_000_000_000,
        },
        separators=(",", ":"),
    ).encode()


def publisher(
    index: int,
    port: int,
    terminals: list[str],
    conns: int,
    rate: float,
    stop_at: float,
    sent: Synchronized,  # type: ignore[type-arg]
) -> None:
    """One process: `conns` connections sharing `terminals`, paced to `rate` msg/s."""
    clients = []
    for c in range(conns):
        cl = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"fleet-{index}-{c}",
            protocol=mqtt.MQTTv5,
        )
        cl.max_inflight_messages_set(1000)
        cl.connect("127.0.0.1", port, keepalive=60)
        cl.loop_start()
        clients.append(cl)
    topics = [topic(t, Channel.TELEMETRY) for t in terminals]
    boot = uuid.uuid4().hex[:12]
    start = time.monotonic()
    done = 0
    seq = 0
    while time.monotonic() < stop_at:
        due = int((time.monotonic() - start) * rate)
        while done < due:
            i = done % len(terminals)
            if i == 0:
                seq += 1
            clients[i % conns].publish(topics[i], _payload(terminals[i], seq, boot), qos=1)
            done += 1
            if done % 50 == 0:
                with sent.get_lock():
                    sent.value += 50
        time.sleep(0.005)
    for cl in clients:
        cl.loop_stop()
        cl.disconnect()


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    work = Path(tempfile.mkdtemp(prefix="fleet-ingest-"))
    broker = start_broker(work / "broker")
    config = CentralConfig(
        storage=StorageConfig(url=f"sqlite:///{work / 'central.db'}"),
        broker=BrokerConfig(
            port=broker.port, client_id_prefix="bench-central", session_expiry_s=60
        ),
        workers=WorkersConfig(count=2, telemetry_flush_s=1.0),
        run=RunConfig(fleet_monitor=False),
    )
    service = CentralService(config)
    service.start()
    procs: list[mp.Process] = []
    try:
        ids = [f"SSK-{n:06d}" for n in range(TERMINALS)]
        per_proc = TERMINALS // PROCESSES
        sent = mp.Value("q", 0)
        stop_at = time.monotonic() + RAMP_S + WINDOW_S + 1.0
        for p in range(PROCESSES):
            proc = mp.Process(
                target=publisher,
                args=(
                    p,
                    broker.port,
                    ids[p * per_proc : (p + 1) * per_proc],
                    CONNECTIONS // PROCESSES,
                    OFFERED / PROCESSES,
                    stop_at,
                    sent,
                ),
            )
            proc.start()
            procs.append(proc)
        time.sleep(RAMP_S)
        # steady window: offered = published by the fleet, sustained = ingested by the central
        sent0, got0 = sent.value, service.stats().telemetry
        cpu0, t0 = time.process_time(), time.monotonic()
        time.sleep(WINDOW_S)
        sent1, got1 = sent.value, service.stats().telemetry
        cpu1, t1 = time.process_time(), time.monotonic()
        for proc in procs:
            proc.join(timeout=20)
        elapsed = t1 - t0
        offered = (sent1 - sent0) / elapsed
        sustained = (got1 - got0) / elapsed
        cpu_s = cpu1 - cpu0
        # CPU per 1,000 terminals per minute at the REAL rate (1 report / 10 s / terminal): the
        # measured rate is SPEEDUP times that.
        per_k_min = cpu_s / (elapsed / 60.0) / (TERMINALS / 1000) / SPEEDUP
        print(f"figure=terminals value={TERMINALS} target>=10000")
        print(f"figure=publisher_connections value={CONNECTIONS} target<=20")
        print(f"figure=offered_msg_per_s value={offered:.0f} target>={OFFERED * 0.95:.0f}")
        print(f"figure=sustained_msg_per_s value={sustained:.0f} target>={offered * 0.98:.0f}")
        print(f"figure=central_cpu_utilisation value={cpu_s / elapsed:.2f} target<1.0")
        print(f"figure=cpu_s_per_1000_terminals_per_min value={per_k_min:.3f} target<1.0")
        print(f"figure=rejected_inbound value={sum(service.stats().rejected.values())} target<1")
        print(f"ratio={sustained / offered:.3f} target>=0.98")
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        service.stop()
        broker.stop()


if __name__ == "__main__":
    main()
