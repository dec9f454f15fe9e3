"""Benchmark: the machine time of a query journey and a payment journey (config/journeys/,
scripted input at zero delay, emulated latencies at their defaults) beside the raw device round
trips and RPCs the same journeys need, measured in the same run.

Everything is real: the card emulator behind pcscd + vpcd (its own pcscd, under the machine's
lock /tmp/ssk-pcscd.lock), mosquitto on a free port, the central in this process, the kiosk
agent (journal, MQTT) and the session runner on the real ports. Machine time: from the moment
the session reads the inserted card to the take-card screen (the citizen's think time is zero;
pcscd's insertion poll is left out). Baseline: the time spent inside pyscard's own transmit and
connect calls during the journeys (every APDU to the card and the PSAM), plus each RPC the
journeys made replayed as a bare paho request/response (same method, parameters and token) on
the same broker and central. Prints `figure=` lines, then `ratio=` last.
"""

from __future__ import annotations

import socket
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402
from paho.mqtt.packettypes import PacketTypes  # noqa: E402
from paho.mqtt.properties import Properties  # noqa: E402

from central.seed import seed_database  # noqa: E402
from central.service import CentralService  # noqa: E402
from central.storage import Storage  # noqa: E402
from kiosk.config import KioskConfig, load_config  # noqa: E402
from kiosk.contract import Channel, RpcMethod, RpcRequest, encode, topic  # noqa: E402
from kiosk.journeys.headless import headless_kiosk  # noqa: E402
from kiosk.journeys.live import run_journey  # noqa: E402
from kiosk.journeys.runner import JourneyResult  # noqa: E402
from kiosk.journeys.spec import load_journey  # noqa: E402
from kiosk.sync.rpc import RpcClient  # noqa: E402
from tests.fixtures.broker import start_broker  # noqa: E402
from tests.fixtures.journeys import central_config_for  # noqa: E402

TERMINAL = "SSK-BENCH-0001"
ROUNDS = 3  # each journey, after one warm-up run
PAYMENT_ACCOUNT = "319202140048"  # the water account payment.toml types (ssc3's holder)


class IoMeter:
    """Times every PC/SC call the kiosk makes (pyscard's SCard* functions: context, readers,
    status, connect, transactions, transmit; the card monitor's blocking wait excluded) and
    records every RPC, each with its start time, so only those inside a journey's machine
    window count."""

    def __init__(self) -> None:
        self.device: list[tuple[float, float]] = []  # (start, seconds)
        self.rpcs: list[tuple[float, str, dict[str, Any], str]] = []
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self.device.clear()
            self.rpcs.clear()

    def within(
        self, start: float, end: float
    ) -> tuple[float, int, list[tuple[str, dict[str, Any], str]]]:
        """(device seconds, device calls, RPCs) between `start` and `end` (monotonic)."""
        with self._lock:
            dev = [d for t, d in self.device if start <= t <= end]
            rpcs = [(m, p, tok) for t, m, p, tok in self.rpcs if start <= t <= end]
        return sum(dev), len(dev), rpcs

    def _timed(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.monotonic()
            try:
                return fn(*args, **kwargs)
            finally:
                if not threading.current_thread().name.startswith("monitor-"):
                    with self._lock:
                        self.device.append((t0, time.monotonic() - t0))

        return wrapper

    @contextmanager
    def installed(self) -> Iterator[None]:
        patched: list[tuple[Any, str, Any]] = []
        wrappers: dict[int, Callable[..., Any]] = {}
        for module in [m for n, m in list(sys.modules.items()) if _pcsc_user(n)]:
            for attr in dir(module):
                fn = getattr(module, attr, None)
                if attr.startswith("SCard") and callable(fn) and attr != "SCardGetErrorMessage":
                    wrapped = wrappers.setdefault(id(fn), self._timed(fn))
                    patched.append((module, attr, fn))
                    setattr(module, attr, wrapped)
        call = RpcClient.call

        def recorded_call(rpc: RpcClient, method: Any, params: Any, *a: Any, **kw: Any) -> Any:
            with self._lock:
                self.rpcs.append(
                    (
                        time.monotonic(),
                        method.value,
                        params.model_dump(mode="json"),
                        kw.get("token", ""),
                    )
                )
            return call(rpc, method, params, *a, **kw)

        RpcClient.call = recorded_call  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            RpcClient.call = call  # type: ignore[method-assign]
            for module, attr, fn in patched:
                setattr(module, attr, fn)


def _pcsc_user(name: str) -> bool:
    return name.startswith(("smartcard", "drivers.card")) or name == "tests.fixtures.pcscd"


class RawRpc:
    """Bare paho MQTT 5 request/response on the kiosk's topics (no kiosk code)."""

    def __init__(self, port: int) -> None:
        self._answers: dict[bytes, threading.Event] = {}
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"bench-raw-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        self._client.on_message = self._on_message
        self._client.connect("127.0.0.1", port)
        # Nagle off, as the kiosk's transport and the test broker have it (delayed ACKs would
        # add ~40 ms a hop to the baseline).
        sock = self._client.socket()
        if isinstance(sock, socket.socket):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._client.loop_start()
        ready = threading.Event()
        self._client.subscribe(topic(TERMINAL, Channel.RPC_RESPONSE), qos=1)
        self._client.on_subscribe = lambda *_: ready.set()
        ready.wait(5)
        time.sleep(0.2)

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        cid = getattr(msg.properties, "CorrelationData", None)
        done = self._answers.get(bytes(cid)) if cid else None
        if done is not None:
            done.set()

    def round_trip(self, method: str, params: dict[str, Any], token: str) -> float:
        rid = uuid.uuid4().hex
        now = time.time()
        body = encode(
            RpcRequest(
                msg_id=rid,
                terminal_id=TERMINAL,
                boot_id="bench",
                seq=0,
                mono=time.monotonic(),
                wall=now,
                method=RpcMethod(method),
                params=params,
                deadline=now + 5,
                session_token=token,
            )
        )
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.ResponseTopic = topic(TERMINAL, Channel.RPC_RESPONSE)
        props.CorrelationData = rid.encode()
        done = threading.Event()
        self._answers[rid.encode()] = done
        t0 = time.perf_counter()
        self._client.publish(topic(TERMINAL, Channel.RPC_REQUEST), body, qos=1, properties=props)
        if not done.wait(5):
            raise TimeoutError(f"no answer to {method}")
        return time.perf_counter() - t0

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


def unpay(url: str) -> None:
    """Bench data: the payment journey's water bill is unpaid again before each round."""
    with Storage(url) as db, db.transaction() as tx:
        tx.execute(
            "UPDATE bills SET status = 'unpaid', paid_key = NULL"
            " WHERE account_number = ? AND bill_id = (SELECT MAX(bill_id) FROM bills"
            " WHERE account_number = ?)",
            (PAYMENT_ACCOUNT, PAYMENT_ACCOUNT),
        )


def window(result: JourneyResult) -> tuple[float, float]:
    """From the card read starting to the take-card screen (monotonic; think time zero)."""
    views = [v for s in result.steps for v in s.views]
    start = next(v.seen_at for v in views if v.screen == "reading_card")
    end = next(v.seen_at for v in views if v.screen == "take_card")
    return start, end


def kiosk_config(workdir: Path, port: int) -> KioskConfig:
    config = load_config(None, profile=None, environ={}).config
    return config.model_copy(
        update={
            "terminal": config.terminal.model_copy(
                update={"id": TERMINAL, "state_dir": str(workdir / "kiosk")}
            ),
            "mqtt": config.mqtt.model_copy(update={"port": port}),
        }
    )


def main() -> int:
    meter = IoMeter()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        broker = start_broker(work / "broker")
        central_cfg = central_config_for(work, broker)
        with Storage(central_cfg.storage.url) as db:
            seed_database(db, central_cfg.seed)
        central = CentralService(central_cfg)
        central.start()
        try:
            with (
                meter.installed(),
                headless_kiosk(
                    kiosk_config(work, broker.port), work, say=lambda t: print(t, file=sys.stderr)
                ) as kiosk,
            ):
                if not kiosk.wait_online(20):
                    print("the kiosk did not reach the broker", file=sys.stderr)
                    return 2
                figures = {}
                for name in ("query", "payment"):
                    journey = load_journey(name)
                    unpay(central_cfg.storage.url)
                    run_journey(journey, kiosk.hardware, kiosk.backend)  # warm-up
                    machine = device = 0.0
                    calls = 0
                    replay: list[tuple[str, dict[str, Any], str]] = []
                    for _ in range(ROUNDS):
                        unpay(central_cfg.storage.url)
                        meter.clear()
                        result = run_journey(journey, kiosk.hardware, kiosk.backend)
                        if not result.ok:
                            problems = [p for st in result.steps for p in st.problems]
                            print(
                                f"journey {name} failed: {problems + result.problems}",
                                file=sys.stderr,
                            )
                            return 2
                        start, end = window(result)
                        dev_s, dev_n, rpcs = meter.within(start, end)
                        machine += end - start
                        device += dev_s
                        calls += dev_n
                        replay += rpcs
                    raw = RawRpc(broker.port)
                    try:
                        rpc_s = sum(raw.round_trip(*r) for r in replay)
                    finally:
                        raw.close()
                    figures[name] = (machine / ROUNDS, (device + rpc_s) / ROUNDS)
                    print(f"figure={name}_machine_ms value={machine / ROUNDS * 1000:.1f}")
                    print(f"figure={name}_device_round_trips value={calls / ROUNDS:.0f}")
                    print(f"figure={name}_device_ms value={device / ROUNDS * 1000:.1f}")
                    print(f"figure={name}_rpcs value={len(replay) / ROUNDS:.0f}")
                    print(f"figure={name}_raw_rpc_ms value={rpc_s / ROUNDS * 1000:.1f}")
        finally:
            central.stop()
            broker.stop()
    total_machine = sum(m for m, _ in figures.values())
    total_raw = sum(r for _, r in figures.values())
    for name, (m, r) in figures.items():
        print(f"figure={name}_ratio value={m / r:.3f} target<=1.5")
    print(f"ratio={total_machine / total_raw:.3f} target<=1.5")
    return 0


if __name__ == "__main__":
    sys.exit(main())
