"""Payments through `kiosk pay` subprocesses: kill -9 at random points loses and duplicates
nothing; every unknown payment is settled by reconciliation, never re-sent."""

from __future__ import annotations

import json
import queue
import random
import signal
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from kiosk.clock import SystemClock
from kiosk.config import load_config
from kiosk.contract import Channel, topic
from kiosk.journal import DEMO_KEY, Journal, Sealer
from tests.fixtures.broker import Broker
from tests.fixtures.kiosk_process import kiosk, write_config
from tests.fixtures.sync_central import MiniCentral
from tests.integration.sync.conftest import Factory

ID_NUMBER = "11010519491231002X"


def open_journal(folder: Path) -> Journal:
    cfg = load_config(profile="test", environ={}).config
    return Journal(
        folder / "state" / "journal.sqlite3",
        config=cfg.journal,
        sealer=Sealer(DEMO_KEY),
        clock=SystemClock(),
        terminal_id="SSK-PAY-0001",
        boot_id="inspector",
    )


def test_a_payment_is_charged_once_and_answered(
    tmp_path: Path, broker: Broker, mini_central: MiniCentral
) -> None:
    config = write_config(tmp_path / "k", broker.port)
    proc = kiosk(config, "pay", "submit", "--amount", "1234", "--id-number", ID_NUMBER)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    outcome = json.loads(out)
    assert outcome["state"] == "accepted" and outcome["receipt_no"]
    assert mini_central.charges[outcome["payment_key"]] == 1


def test_a_lost_answer_leaves_the_payment_unknown_until_reconciled(
    tmp_path: Path, broker: Broker, mini_central: MiniCentral
) -> None:
    mini_central.drop_payment_answers = 1  # charged, but the kiosk never hears it
    config = write_config(tmp_path / "k", broker.port)
    proc = kiosk(config, "pay", "submit", "--amount", "500", "--id-number", ID_NUMBER)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err.decode()
    key = json.loads(out)["payment_key"]
    assert json.loads(out)["state"] == "unknown"
    rec = kiosk(config, "pay", "reconcile")
    out, err = rec.communicate(timeout=60)
    assert rec.returncode == 0, err.decode()
    journal = open_journal(tmp_path / "k")
    try:
        row = journal.payment_get(key)
        assert row is not None and row.state == "accepted"
    finally:
        journal.close()
    assert mini_central.charges[key] == 1  # asked about, never re-sent
    assert mini_central.rpc_methods["payment.submit"] == 1


def test_kill_9_at_random_points_during_payments_loses_and_duplicates_nothing(
    tmp_path: Path, broker: Broker, mini_central: MiniCentral
) -> None:
    rng = random.Random(5)
    config = write_config(tmp_path / "k", broker.port)
    rounds = 12
    for i in range(rounds):
        proc = kiosk(config, "pay", "submit", "--amount", str(100 + i), "--id-number", ID_NUMBER)
        if i % 3 == 2:
            proc.communicate(timeout=60)  # some run to the end
        else:
            # Startup takes ~0.5 s; kill anywhere from import to after the answer.
            time.sleep(rng.uniform(0.3, 1.2))
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=30)
    rec = kiosk(config, "pay", "reconcile")
    out, err = rec.communicate(timeout=60)
    assert rec.returncode == 0, err.decode() + out.decode()

    journal = open_journal(tmp_path / "k")
    try:
        rows = journal.payments()
    finally:
        journal.close()
    states = {r.payment_key: r.state for r in rows}
    assert all(s in ("accepted", "declined", "void") for s in states.values()), states
    # The ledger proves it: charged exactly the payments the kiosk believes accepted, once.
    charged = {k for k, n in mini_central.charges.items() if n}
    assert charged == {k for k, s in states.items() if s == "accepted"}
    assert all(n == 1 for n in mini_central.charges.values())
    assert set(mini_central.payments) <= set(states)  # nothing charged the kiosk forgot
    amounts = {r.payment_key: r.amount_cents for r in rows}
    assert mini_central.wallet_cents == 10_000_000 - sum(amounts[k] for k in charged)


def retained_status(port: int, terminal_id: str) -> dict[str, Any]:
    """The retained presence of `terminal_id`, as a fresh subscriber sees it."""
    got: queue.Queue[bytes] = queue.Queue()
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id="test-presence-reader", protocol=mqtt.MQTTv5
    )
    client.on_message = lambda _c, _u, msg: got.put(bytes(msg.payload))
    client.on_connect = lambda c, *_: c.subscribe(topic(terminal_id, Channel.STATUS), qos=1)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        data: dict[str, Any] = json.loads(got.get(timeout=15))
        return data
    finally:
        client.disconnect()
        client.loop_stop()


def test_the_payment_client_leaves_a_running_agent_connected_and_online(
    tmp_path: Path, broker: Broker, mini_central: MiniCentral, make_sync: Factory
) -> None:
    agent, _ = make_sync("SSK-PAY-0001")
    assert agent.transport.wait_connected(10)  # type: ignore[attr-defined]
    assert retained_status(broker.port, "SSK-PAY-0001")["state"] == "online"
    config = write_config(tmp_path / "k", broker.port)
    proc = kiosk(config, "pay", "submit", "--amount", "700", "--id-number", ID_NUMBER)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    assert json.loads(out)["state"] == "accepted"
    # Its own client id: the broker did not hand it the agent's connection, and it published
    # no presence of its own (no `stopped` over the agent's `online`).
    assert agent.transport.connects == 1 and agent.transport.disconnects == 0  # type: ignore[attr-defined]
    assert agent.connected
    status = retained_status(broker.port, "SSK-PAY-0001")
    assert status["state"] == "online" and status["software_version"] == "test"
