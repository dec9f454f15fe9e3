"""End to end with helper F's real central (`central` fixture: 2 workers on a shared
subscription, SQLite ledger): the exactly-once claims proved by the central's own ledger."""

from __future__ import annotations

import json
import random
import signal
import time
from pathlib import Path

from kiosk.contract import EventKind
from tests.fixtures.broker import Broker
from tests.fixtures.central import CentralHandle
from tests.fixtures.kiosk_process import kiosk, write_config
from tests.integration.central.kiosk_client import Kiosk
from tests.integration.sync.conftest import Factory
from tests.integration.sync.test_drain import wait_until
from tests.integration.sync.test_payments import ID_NUMBER, open_journal


def test_1000_offline_events_exactly_once_in_the_central_ledger(
    make_sync: Factory, central: CentralHandle, broker: Broker
) -> None:
    sync, journal = make_sync("SSK-E2E-0001")
    assert sync.transport.wait_connected(10)  # type: ignore[attr-defined]
    broker.kill()
    assert wait_until(lambda: not sync.connected)
    ids = [journal.enqueue_event(EventKind.AUDIT, {"n": i}) for i in range(1000)]
    sync.wake()
    broker.start()
    assert wait_until(lambda: journal.stats().depth == 0, timeout=90)
    applied = central.event_ids()
    assert len(applied) == len(set(applied)) == 1000 and set(applied) == set(ids)


def test_kill_9_during_payments_against_the_real_ledger(
    tmp_path: Path, broker: Broker, central: CentralHandle
) -> None:
    rng = random.Random(11)
    config = write_config(tmp_path / "k", broker.port)
    before = central.wallet_cents()
    card_side = Kiosk(broker, "SSK-PAY-0001")  # the holder's card opens the central session
    try:
        token = card_side.open_session()
    finally:
        card_side.close()
    for i in range(8):
        proc = kiosk(
            config,
            "pay",
            "submit",
            "--amount",
            str(200 + i),
            "--id-number",
            ID_NUMBER,
            "--token",
            token,
        )
        if i % 4 == 3:
            out, err = proc.communicate(timeout=60)
            assert proc.returncode in (0, 2, 3), err.decode()[-2000:]
            json.loads(out)
        else:
            time.sleep(rng.uniform(0.3, 1.3))
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=30)
    rec = kiosk(config, "pay", "reconcile")
    out, err = rec.communicate(timeout=60)
    assert rec.returncode == 0, err.decode()[-2000:] + out.decode()
    journal = open_journal(tmp_path / "k")
    try:
        rows = {r.payment_key: r for r in journal.payments()}
    finally:
        journal.close()
    assert all(r.state in ("accepted", "declined", "void") for r in rows.values())
    ledger = central.payments()
    charged = {k for k, (state, _, _) in ledger.items() if state == "accepted"}
    assert charged == {k for k, r in rows.items() if r.state == "accepted"}
    assert before - central.wallet_cents() == sum(rows[k].amount_cents for k in charged)
