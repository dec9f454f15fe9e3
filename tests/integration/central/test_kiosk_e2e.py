"""The real kiosk payment client (`kiosk pay`, helper E's sync) against the real central.

kill -9 of the kiosk at random points during payments: the central ledger proves that nothing
is charged twice and that, after reconciliation, the kiosk and the ledger agree on every key.
"""

from __future__ import annotations

import json
import random
import signal
import time
from pathlib import Path

from central.contributions import contribution_due
from tests.fixtures.broker import Broker
from tests.fixtures.central import TEST_HOLDER_ID, CentralHandle
from tests.fixtures.kiosk_process import kiosk, write_config
from tests.fixtures.soft_card import SoftCard
from tests.integration.central.kiosk_client import Kiosk, wait_central_online


def _session_token(broker: Broker, terminal: str, card: SoftCard | None = None) -> str:
    """A session of the test holder's (or `card`'s, software) card on `terminal`, by the trust
    protocol."""
    card_side = Kiosk(broker, terminal)
    try:
        return card_side.open_session(card)
    finally:
        card_side.close()


def _contributor(central: CentralHandle) -> tuple[str, SoftCard, int]:
    """A person with a pension base (the test holder is retired), the card, and the
    flexible-employment contribution due for 202611 (the central's amount)."""
    with central.db() as db:
        row = db.one(
            "SELECT c.id_number, k.card_id, k.card_number FROM contributions c"
            " JOIN cards k ON k.id_number = c.id_number AND k.state = 'active'"
            " WHERE c.insurance = 'pension' ORDER BY c.id_number"
        )
        assert row is not None
        rate = central.config.ledger.flexible_pension_rate_permille
        due = contribution_due(db, str(row[0]), "202611", rate).amount_cents
        with db.transaction() as tx:
            tx.execute(
                "UPDATE wallets SET balance_cents = ? WHERE id_number = ?", (due * 20, row[0])
            )
    return str(row[0]), SoftCard(bytes.fromhex(str(row[1])), str(row[2])), due


def test_bill_paid_through_the_kiosk_client(
    tmp_path: Path, broker: Broker, central: CentralHandle
) -> None:
    wait_central_online(broker)
    config = write_config(tmp_path / "k", broker.port, "SSK-E2E-0001")
    bill_id, amount = central.unpaid_bill("gas")
    before = central.wallet_cents()
    args = [
        "pay",
        "submit",
        "--amount",
        str(amount),
        "--id-number",
        TEST_HOLDER_ID,
        "--reference",
        bill_id,
        "--token",
        _session_token(broker, "SSK-E2E-0001"),
    ]
    proc = kiosk(config, *args)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    outcome = json.loads(out)
    assert outcome["state"] == "accepted" and outcome["receipt_no"]
    assert central.payments()[outcome["payment_key"]] == ("accepted", amount, "")
    assert central.wallet_cents() == before - amount
    # the same bill again, a new key: declined by the ledger, exit code 2
    again = kiosk(config, *args)
    out, err = again.communicate(timeout=60)
    assert again.returncode == 2, err.decode()
    assert json.loads(out)["state"] == "declined"
    assert central.wallet_cents() == before - amount


def test_kill_9_during_payments_charges_nothing_twice(
    tmp_path: Path, broker: Broker, central: CentralHandle
) -> None:
    wait_central_online(broker)
    rng = random.Random(11)
    config = write_config(tmp_path / "k", broker.port, "SSK-E2E-0001")
    payer, card, due = _contributor(central)
    before = central.wallet_cents(payer)
    token = _session_token(broker, "SSK-E2E-0001", card)
    for i in range(8):
        proc = kiosk(
            config,
            "pay",
            "submit",
            "--amount",
            str(due),
            "--id-number",
            payer,
            "--purpose",
            "contribution",
            "--reference",
            "202611",
            "--token",
            token,
        )
        if i % 3 == 2:
            proc.communicate(timeout=60)
        else:
            time.sleep(rng.uniform(0.3, 1.2))  # anywhere from start-up to after the answer
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=30)
    rec = kiosk(config, "pay", "reconcile")
    out, err = rec.communicate(timeout=60)
    assert rec.returncode == 0, err.decode() + out.decode()
    listing = kiosk(config, "pay", "list")
    out, err = listing.communicate(timeout=60)
    assert listing.returncode == 0, err.decode()
    kiosk_view = {r["key"]: (r["state"], r["amount_cents"]) for r in json.loads(out)}
    assert all(s in ("accepted", "declined", "void") for s, _ in kiosk_view.values()), kiosk_view
    ledger = central.payments()  # one row per key: a key cannot be charged twice
    charged = {k for k, (state, _, _) in ledger.items() if state == "accepted"}
    assert charged, "the payments that ran to the end are charged (their token is valid)"
    assert charged == {k for k, (s, _) in kiosk_view.items() if s == "accepted"}
    assert set(ledger) <= set(kiosk_view)  # nothing the kiosk forgot
    assert central.wallet_cents(payer) == before - sum(ledger[k][1] for k in charged)


def test_the_kiosk_agent_reports_to_the_central(
    tmp_path: Path, broker: Broker, central: CentralHandle
) -> None:
    """`kiosk agent` (telemetry every second in the test profile) lands in the central's
    terminals table through the shared-subscription ingest."""
    wait_central_online(broker)
    config = write_config(tmp_path / "k", broker.port, "SSK-E2E-0001")
    agent = kiosk(config, "agent")
    try:
        deadline = time.monotonic() + 30
        rows: list[tuple[object, ...]] = []
        while time.monotonic() < deadline and not rows:
            rows = central.query("SELECT terminal_id, telemetry FROM terminals")
            time.sleep(0.2)
        assert rows, agent.stderr.read1().decode() if agent.poll() is not None else "no row"  # type: ignore[union-attr]
        assert rows[0][0] == "SSK-E2E-0001"
        assert json.loads(str(rows[0][1]))["software_version"]
        assert central.service.stats().rejected == {}
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.communicate(timeout=30)
