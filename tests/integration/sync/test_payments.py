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
import pytest
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


def run_kiosk(config: Path, *args: str, timeout: float = 60) -> tuple[int, dict[str, Any], str]:
    """Run `kiosk ARGS` to its end: (exit code, JSON printed or {}, stderr)."""
    proc = kiosk(config, *args)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, json.loads(out) if out.strip() else {}, err.decode()


PAY = ("pay", "submit", "--id-number", ID_NUMBER)


@pytest.mark.parametrize("committed", [True, False], ids=["charged", "not-charged"])
def test_a_transient_error_answer_is_unknown_and_reconciled_never_declined(
    tmp_path: Path, broker: Broker, mini_central: MiniCentral, committed: bool
) -> None:
    # The central answers `internal` (permanent=False): its storage may have committed first.
    mini_central.transient_payment_errors = 1
    mini_central.transient_charges = committed
    config = write_config(tmp_path / "k", broker.port)
    code, outcome, err = run_kiosk(config, *PAY, "--amount", "800")
    assert code == 3, err
    assert outcome["state"] == "unknown" and "internal" in outcome["reason"]
    key = outcome["payment_key"]
    code, left, err = run_kiosk(config, "pay", "reconcile")
    assert code == 0 and left == {"open": 0}, err
    journal = open_journal(tmp_path / "k")
    try:
        row = journal.payment_get(key)
    finally:
        journal.close()
    assert row is not None
    # What the ledger did is what the kiosk now believes: charged once, or voided for good.
    assert row.state == ("accepted" if committed else "void")
    assert mini_central.charges[key] == (1 if committed else 0)
    assert mini_central.rpc_methods["payment.submit"] == 1  # asked about, never re-sent


def test_submitting_a_key_the_journal_holds_reports_its_outcome_and_never_resends(
    tmp_path: Path, broker: Broker, mini_central: MiniCentral
) -> None:
    config = write_config(tmp_path / "k", broker.port)
    key = "K-known-00000001"
    code, first, err = run_kiosk(config, *PAY, "--amount", "450", "--key", key)
    assert code == 0 and first["state"] == "accepted", err
    code, again, err = run_kiosk(config, *PAY, "--amount", "450", "--key", key)
    assert code == 0, err
    assert "Traceback" not in err
    assert again == first  # the same payment, the same receipt
    assert mini_central.charges[key] == 1 and mini_central.rpc_methods["payment.submit"] == 1
    # The key names another payment: refused, nothing sent, no traceback.
    code, out, err = run_kiosk(config, *PAY, "--amount", "999", "--key", key)
    assert code == 4 and out == {}
    assert key in err and "amount" in err and "Traceback" not in err
    assert mini_central.rpc_methods["payment.submit"] == 1
    # An open key (its answer was lost) is reconciled, not sent again.
    mini_central.drop_payment_answers = 1
    lost = "K-lost-000000001"
    code, out, err = run_kiosk(config, *PAY, "--amount", "300", "--key", lost)
    assert code == 3 and out["state"] == "unknown", err
    code, out, err = run_kiosk(config, *PAY, "--amount", "300", "--key", lost)
    assert code == 0 and out["state"] == "accepted" and out["receipt_no"], err
    assert mini_central.charges[lost] == 1
    assert mini_central.rpc_methods["payment.submit"] == 2  # one per key, ever


def test_with_the_broker_down_the_payment_client_refuses_at_once(
    tmp_path: Path, broker: Broker
) -> None:
    config = write_config(tmp_path / "k", broker.port)
    broker.stop()  # nothing listens on the port any more
    # Allowed to wait 120 s for the broker, it must not: the refused connection says offline.
    # The 40 s bound is a correctness bound (wait or not), far from any speed figure.
    code, outcome, err = run_kiosk(config, *PAY, "--amount", "100", "--wait", "120", timeout=40)
    assert code == 2, err
    assert outcome["state"] == "declined" and outcome["reason"] == "offline"
    assert "not connected to the broker" in err and "nothing will be sent" in err
    assert "Connection refused" in err and "Traceback" not in err
    journal = open_journal(tmp_path / "k")
    try:
        row = journal.payment_get(outcome["payment_key"])
    finally:
        journal.close()
    assert row is not None and row.state == "declined"
