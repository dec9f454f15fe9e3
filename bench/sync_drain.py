"""Benchmark: journal outbox drain rate versus a raw paho QoS 1 publish loop, same broker, same run.

Starts its own mosquitto on a free loopback port. A consumer in its own process (the central
runs on another machine in production) reads both streams on shared subscriptions and
receipts the business events, as the central does. Drain: N business events
already in the durable journal (WAL, synchronous=FULL), drained by `OutboxDrainer` with the
rate bound set far above what the broker can take; the rate counts until every row is
published and acknowledged (PUBACK). Raw: the same N payloads published by a bare paho client
with the same in-flight window, until every PUBACK. Also the RPC round trip on loopback against
a responder. Prints `figure=` lines, then the headline `ratio=` line last.
"""

from __future__ import annotations

import multiprocessing
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402
from paho.mqtt.packettypes import PacketTypes  # noqa: E402
from paho.mqtt.properties import Properties  # noqa: E402

from kiosk.clock import SystemClock  # noqa: E402
from kiosk.config import load_config  # noqa: E402
from kiosk.contract import (  # noqa: E402
    Channel,
    EventKind,
    EventReceipt,
    PersonParams,
    PersonSummary,
    ReceiptOutcome,
    RpcMethod,
    RpcRequest,
    RpcResponse,
    decode,
    encode,
    parse_topic,
    shared_filter,
    topic,
)
from kiosk.journal import DEMO_KEY, Journal, Lane, Sealer  # noqa: E402
from kiosk.sync import SyncService  # noqa: E402

N = 5000
ROUNDS = 5
RPC_CALLS = 300
INFLIGHT = 100
TID = "SSK-BENCH-0001"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_broker(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    conf = folder / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\nuser root\n"
        f"max_queued_messages 100000\nmax_inflight_messages {INFLIGHT}\nset_tcp_nodelay true\n"
    )
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    proc = subprocess.Popen([binary, "-c", str(conf)], stderr=subprocess.DEVNULL)

    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return proc, port
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("mosquitto did not start")


def _nodelay(client: mqtt.Client, userdata: Any, sock: Any) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def client(port: int, name: str) -> mqtt.Client:
    c = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2, client_id=name, protocol=mqtt.MQTTv5
    )
    c.max_inflight_messages_set(INFLIGHT)
    # Nagle off, as the kiosk transport does (see PahoTransport._on_socket_open).
    c.on_socket_open = _nodelay
    c.connect("127.0.0.1", port)
    c.loop_start()
    while not c.is_connected():
        time.sleep(0.01)
    return c


class Central:
    """Consumer: receipts events, answers RPCs, counts the raw stream."""

    def __init__(self, port: int) -> None:
        self.raw = 0
        self.c = client(port, "bench-central")
        self.c.on_message = self.on_message
        subs = [shared_filter(Channel.EVENTS), shared_filter(Channel.RPC_REQUEST), "bench/raw/#"]
        self.c.subscribe([(s, 1) for s in subs])
        time.sleep(0.2)

    def on_message(self, c: mqtt.Client, u: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.topic.startswith("bench/raw"):
            self.raw += 1
            return
        parsed = parse_topic(msg.topic)
        assert parsed is not None
        tid, channel = parsed
        if channel is Channel.EVENTS:
            msg_id = msg.payload[msg.payload.index(b'"msg_id":"') + 10 :][:36].decode()
            r = EventReceipt(msg_id=msg_id, outcome=ReceiptOutcome.ACCEPTED)
            c.publish(topic(tid, Channel.EVENT_RECEIPT), encode(r), qos=1)
        elif channel is Channel.RPC_REQUEST:
            req = decode(RpcRequest, msg.payload)
            out = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            out.CorrelationData = msg.properties.CorrelationData  # type: ignore[union-attr]
            resp = RpcResponse(
                request_id=req.msg_id,
                ok=True,
                result={"id_number": req.params["id_number"], "name": "bench"},
            )
            c.publish(
                msg.properties.ResponseTopic,  # type: ignore[union-attr]
                encode(resp),
                qos=1,
                properties=out,
            )


def run_central(port: int, ready: Any, stop: Any) -> None:
    """The central in its own process (as on a real deployment: another machine)."""
    central = Central(port)
    ready.set()
    stop.wait()
    central.c.loop_stop()
    central.c.disconnect()


def raw_rate(port: int, payload: bytes) -> float:
    c = client(port, "bench-raw")
    start = time.perf_counter()
    infos = [c.publish("bench/raw/x", payload, qos=1) for _ in range(N)]
    for info in infos:
        info.wait_for_publish(30)
    elapsed = time.perf_counter() - start
    c.loop_stop()
    c.disconnect()
    return N / elapsed


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="sync-bench-"))
    broker, port = start_broker(folder)
    try:
        ctx = multiprocessing.get_context("fork")
        ready, stop = ctx.Event(), ctx.Event()
        central_proc = ctx.Process(target=run_central, args=(port, ready, stop), daemon=True)
        central_proc.start()
        if not ready.wait(15):
            raise RuntimeError("bench central did not start")
        base = load_config(profile="test", environ={}).config
        mqtt_cfg = base.mqtt.model_copy(
            update={
                "port": port,
                "drain_rate_per_s": 1_000_000.0,  # far above what the broker can take
                "drain_burst": 100_000,
                "max_inflight": INFLIGHT,
                "receipt_timeout_s": 600.0,
            }
        )
        # Rounds interleave raw and drain so that both see the same machine load; medians.
        raws, drains, receipteds, enqueues = [], [], [], []
        sync: SyncService | None = None
        journal: Journal | None = None
        for r in range(ROUNDS):
            if sync is not None and journal is not None:
                sync.stop()
                journal.close()
            journal = Journal(
                folder / f"journal-{r}.sqlite3",
                config=base.journal,
                sealer=Sealer(DEMO_KEY),
                clock=SystemClock(),
                terminal_id=TID,
                boot_id=uuid.uuid4().hex,
            )
            # Durable enqueue (one fsync'ed transaction per event, as a kiosk writes them),
            # made before the sync starts: the backlog of an outage.
            t0 = time.perf_counter()
            for i in range(N):
                journal.enqueue_event(EventKind.AUDIT, {"i": i, "what": "bench"})
            enqueues.append(N / (time.perf_counter() - t0))
            sample = journal.pending(Lane.BUSINESS, 0, 1)[0].payload
            raws.append(raw_rate(port, sample))

            sync = SyncService(mqtt_cfg, journal, SystemClock(), software_version="bench")
            t0 = time.perf_counter()
            sync.start()
            assert sync.transport.wait_connected(10)  # type: ignore[attr-defined]
            drainer = sync.drainer
            # Poll gently: this thread competes for the GIL with the drain and network threads.
            while drainer.published < N:
                time.sleep(0.005)
            while any(not f.handle.is_published() for f in list(drainer._flights)):
                time.sleep(0.001)
            drains.append(N / (time.perf_counter() - t0))
            while journal.stats().depth:
                time.sleep(0.005)
            receipteds.append(N / (time.perf_counter() - t0))
        assert sync is not None and journal is not None
        raw = statistics.median(raws)
        drain = statistics.median(drains)
        receipted = statistics.median(receipteds)
        enqueue_rate = statistics.median(enqueues)

        lat: list[float] = []
        params = PersonParams(id_number="11010519491231002X")
        for _ in range(RPC_CALLS):
            s = time.perf_counter()
            sync.rpc.call(RpcMethod.PERSON_SUMMARY, params, PersonSummary)
            lat.append((time.perf_counter() - s) * 1000)
        lat.sort()
        p50 = statistics.median(lat)
        p99 = lat[int(len(lat) * 0.99) - 1]

        sync.stop()
        journal.close()
        stop.set()
        central_proc.join(10)
        print(f"figure=journal_enqueue_msgs_per_s value={enqueue_rate:.0f}")
        print(f"figure=raw_paho_qos1_msgs_per_s value={raw:.0f}")
        print(f"figure=drain_puback_msgs_per_s value={drain:.0f}")
        print(f"figure=drain_receipted_msgs_per_s value={receipted:.0f}")
        ratios = [d / w for d, w in zip(drains, raws, strict=True)]
        print(f"figure=drain_ratio_min_of_{ROUNDS}_rounds value={min(ratios):.2f}")
        print(f"figure=rpc_p50_ms value={p50:.2f}")
        print(f"figure=rpc_p99_ms value={p99:.2f} target<20")
        print(f"ratio={drain / raw:.2f} target>=0.5")
    finally:
        broker.terminate()
        broker.wait(5)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
