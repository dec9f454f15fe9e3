"""Broker restarts with the packaged timings: rows re-sent at the central's birth, the terminal's
session (and the commands queued in it) restored, retained commands refused once.

All through a real mosquitto with persistence, restarted for real (SIGTERM: it saves its
state and publishes the wills of the clients still connected, as in production)."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from central.storage import Storage
from kiosk.clock import SystemClock
from kiosk.config import load_config
from kiosk.contract import CENTRAL_STATUS_TOPIC, AckStatus, Channel, Command, EventKind, topic
from kiosk.journal import DEMO_KEY, Journal, Sealer
from kiosk.sync import SyncService
from kiosk.sync.backoff import Backoff
from tests.fixtures.broker import Broker
from tests.fixtures.central import write_test_profile
from tests.fixtures.sync_central import MiniCentral
from tests.integration.sync.conftest import Factory
from tests.integration.sync.test_drain import wait_until
from tests.integration.sync.test_session import Control

CENTRAL = [sys.executable, "-c", "from central.cli import run; run()"]
ROWS = 40
BACK_WITHIN_S = 15.0
"""All rows applied this long after the central's birth (the receipt timeout it replaces is
60 s): a generous correctness bound, not a speed figure."""


class CentralWatcher:
    """Records the `online` births the central publishes on its status topic (retained ones
    included: `birth()` skips those seen before)."""

    def __init__(self, port: int) -> None:
        self.births: queue.Queue[str] = queue.Queue()
        subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"test-birth-{uuid.uuid4().hex[:6]}",
            protocol=mqtt.MQTTv5,
        )
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *_: c.subscribe(CENTRAL_STATUS_TOPIC, qos=1)
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert subscribed.wait(10)

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        body = json.loads(msg.payload)
        if body.get("state") == "online":
            self.births.put(str(body["msg_id"]))

    def birth(self, timeout: float, *, not_in: frozenset[str] = frozenset()) -> str:
        """The msg_id of the next `online` birth not in `not_in`."""
        deadline = time.monotonic() + timeout
        while True:
            msg_id = self.births.get(timeout=max(0.01, deadline - time.monotonic()))
            if msg_id not in not_in:
                return msg_id

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def central_process(tmp_path: Path, broker: Broker) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`kiosk-central run` with the packaged timings of config/central.toml (only where it
    stores, which broker port, a small seed); yields (process, storage url)."""
    seed = write_test_profile(tmp_path / "seed")
    url = f"sqlite:///{tmp_path / 'central.db'}"
    cfg = tmp_path / "central.toml"
    cfg.write_text(
        f'[storage]\nurl = "{url}"\n[broker]\nport = {broker.port}\n'
        f'client_id_prefix = "restart-{tmp_path.name[-6:]}"\n'
        f'[seed]\npersons = 20\nmonths = 3\nprofiles_glob = "{seed / "profiles" / "*.json"}"\n'
        f'fingers_dir = "{seed / "fingers"}"\n[run]\nfleet_monitor = false\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CENTRAL", "KIOSK"))}
    proc = subprocess.Popen(
        [*CENTRAL, "--config", str(cfg), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**env, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        assert "kiosk-central running" in proc.stdout.readline()
        yield proc, url
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def applied(url: str) -> set[str]:
    with Storage(url) as db:
        return {str(r[0]) for r in db.query("SELECT msg_id FROM event_receipts")}


def test_after_a_broker_restart_every_row_is_applied_soon_after_the_centrals_return(
    tmp_path: Path,
    broker: Broker,
    central_process: tuple[subprocess.Popen[str], str],
) -> None:
    proc, url = central_process
    # The packaged [mqtt] timings (receipt_timeout_s = 60, reconnect bounds...). The random
    # first reconnect delay is drawn at its lower bound: the kiosk that comes back before the
    # central, whose rows mosquitto drops (no member of the shared group is connected yet).
    config = load_config(environ={}).config
    mqtt_cfg = config.mqtt.model_copy(update={"port": broker.port})
    assert mqtt_cfg.receipt_timeout_s == 60.0
    journal = Journal(
        tmp_path / "kiosk.sqlite3",
        config=config.journal,
        sealer=Sealer(DEMO_KEY),
        clock=SystemClock(),
        terminal_id="SSK-RST-0001",
        boot_id=uuid.uuid4().hex,
    )
    backoff = Backoff(
        mqtt_cfg.backoff_base_s,
        mqtt_cfg.backoff_cap_s,
        mqtt_cfg.first_delay_max_s,
        mqtt_cfg.stable_after_s,
        rand=lambda low, high: low,
    )
    sync = SyncService(mqtt_cfg, journal, SystemClock(), software_version="t", backoff=backoff)
    sync.start()
    watchers: list[CentralWatcher] = []
    try:
        assert sync.transport.wait_connected(20)  # type: ignore[attr-defined]
        watchers.append(CentralWatcher(broker.port))
        before = watchers[0].birth(20)  # the central is up
        os.kill(proc.pid, signal.SIGSTOP)  # the central stalls across the broker restart
        broker.restart()
        watchers.append(CentralWatcher(broker.port))
        assert wait_until(lambda: sync.connected, timeout=30)
        ids = {journal.enqueue_event(EventKind.AUDIT, {"n": i}) for i in range(ROWS)}
        sync.wake()
        # Published into a group none of whose members is back: dropped by mosquitto.
        assert wait_until(lambda: sync.drainer.published >= ROWS, timeout=30)
        # Acknowledged by the broker: routed (to nobody) before the central returns.
        assert wait_until(lambda: sync.drainer.unacknowledged == 0, timeout=30)
        os.kill(proc.pid, signal.SIGCONT)
        # The central's return: worker 0 is subscribed again when it publishes its birth.
        watchers[1].birth(30, not_in=frozenset({before}))
        assert wait_until(lambda: ids <= applied(url), timeout=BACK_WITHIN_S), (
            f"{len(ids - applied(url))} of {ROWS} rows still unapplied {BACK_WITHIN_S} s "
            "after the central's return"
        )
        assert wait_until(lambda: journal.stats().depth == 0, timeout=BACK_WITHIN_S)
        counters = sync.counters()
        assert counters["resent"] >= ROWS and counters["resend_passes"] >= 1
        assert journal.attempt_stats()["resent"] >= ROWS
    finally:
        for watcher in watchers:
            watcher.close()
        sync.stop()
        journal.close()


def command(name: str, args: dict[str, Any] | None = None) -> Command:
    now = time.time()
    return Command(
        command_id=str(uuid.uuid4()),
        name=name,
        args=args or {},
        issued_at=now,
        expires_at=now + 300,
    )


def send_acknowledged(central: MiniCentral, terminal_id: str, cmd: Command) -> None:
    """Publish a command (QoS 1, with expiry, not retained) and wait for the broker's PUBACK:
    from then on the broker holds it, whatever happens to the sender."""
    assert central.client is not None
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    props.MessageExpiryInterval = 300
    info = central.client.publish(
        topic(terminal_id, Channel.CMD), cmd.model_dump_json(), qos=1, properties=props
    )
    info.wait_for_publish(5)
    assert info.is_published()


def test_a_command_queued_for_a_new_terminal_across_a_broker_restart_arrives(
    tmp_path: Path, broker: Broker, make_sync: Factory, mini_central: MiniCentral
) -> None:
    journal_path = tmp_path / "new-terminal.sqlite3"
    sync, journal = make_sync("SSK-NEW-0001", journal_path=journal_path, control=Control())
    assert sync.transport.wait_connected(10)  # type: ignore[attr-defined]  # its very first
    sync.stop()
    journal.close()
    send_acknowledged(mini_central, "SSK-NEW-0001", command("maintenance", {"enabled": True}))
    mini_central.stop()
    broker.restart()  # persistence: the terminal's session must survive it
    mini_central.start()
    send_acknowledged(mini_central, "SSK-NEW-0001", command("rebirth"))
    control = Control()
    again, _ = make_sync("SSK-NEW-0001", journal_path=journal_path, control=control)
    assert again.transport.wait_connected(10)  # type: ignore[attr-defined]
    assert wait_until(lambda: len(control.calls) == 2, timeout=15), control.calls
    assert control.calls == [("maintenance", True), ("rebirth", None)]  # both, in order


def publish_retained(central: MiniCentral, terminal_id: str, cmd: Command) -> None:
    assert central.client is not None
    info = central.client.publish(
        topic(terminal_id, Channel.CMD), cmd.model_dump_json(), qos=1, retain=True
    )
    info.wait_for_publish(5)


def acks_of(central: MiniCentral, command_id: str) -> list[tuple[str, str]]:
    with central.lock:
        return [(a.status.value, a.detail) for a in central.acks if a.command_id == command_id]


def test_a_retained_command_is_refused_live_and_after_restarts_with_one_ack(
    tmp_path: Path, broker: Broker, make_sync: Factory, mini_central: MiniCentral
) -> None:
    journal_path = tmp_path / "retained.sqlite3"
    control = Control()
    sync, journal = make_sync("SSK-RET-0001", journal_path=journal_path, control=control)
    assert sync.transport.wait_connected(10)  # type: ignore[attr-defined]
    retained = command("maintenance", {"enabled": True})
    publish_retained(mini_central, "SSK-RET-0001", retained)  # delivered live
    assert wait_until(lambda: acks_of(mini_central, retained.command_id), timeout=10)
    [(status, reason)] = acks_of(mini_central, retained.command_id)
    assert status == AckStatus.REJECTED.value and reason.startswith("retained")
    # The retained message stays on the broker: restart the broker, then the kiosk process,
    # and after each a normal command proves the kiosk is listening again.
    mini_central.stop()
    broker.restart()
    mini_central.start()
    assert wait_until(lambda: sync.connected, timeout=20)
    probes = [command("ping")]
    mini_central.send_command("SSK-RET-0001", probes[0])

    def probes_answered() -> bool:
        return all(("succeeded", "") in acks_of(mini_central, p.command_id) for p in probes)

    assert wait_until(probes_answered, timeout=15)
    sync.stop()
    journal.close()
    sync2, _ = make_sync("SSK-RET-0001", journal_path=journal_path, control=control)
    assert sync2.transport.wait_connected(10)  # type: ignore[attr-defined]
    probes.append(command("ping"))
    mini_central.send_command("SSK-RET-0001", probes[1])
    assert wait_until(probes_answered, timeout=15)
    assert len(acks_of(mini_central, retained.command_id)) == 1  # one ack, no storm
    assert ("maintenance", True) not in control.calls  # never run
    assert journal_path.exists()


def test_a_retained_command_waiting_in_the_session_is_refused_once(
    tmp_path: Path, broker: Broker, make_sync: Factory, mini_central: MiniCentral
) -> None:
    """Published retained while the terminal is offline: queued in its session and delivered
    at reconnect (retain flag as published), refused with one ack, even when redelivered."""
    journal_path = tmp_path / "queued.sqlite3"
    control = Control()
    sync, journal = make_sync("SSK-RET-0002", journal_path=journal_path, control=control)
    assert sync.transport.wait_connected(10)  # type: ignore[attr-defined]
    sync.stop()
    journal.close()
    retained = command("maintenance", {"enabled": True})
    publish_retained(mini_central, "SSK-RET-0002", retained)
    got = threading.Event()
    for attempt in range(2):
        again, j = make_sync("SSK-RET-0002", journal_path=journal_path, control=control)
        assert again.transport.wait_connected(10)  # type: ignore[attr-defined]
        probe = command("ping")
        mini_central.send_command("SSK-RET-0002", probe)
        assert wait_until(lambda p=probe: bool(acks_of(mini_central, p.command_id)), timeout=15)
        if attempt == 0:
            assert wait_until(lambda: bool(acks_of(mini_central, retained.command_id)), 10)
            got.set()
        again.stop()
        j.close()
    assert got.is_set()
    assert len(acks_of(mini_central, retained.command_id)) == 1
    assert ("maintenance", True) not in control.calls
