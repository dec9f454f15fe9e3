"""The ledger on both backends (SQLite and a real PostgreSQL): every key applied exactly once."""

from __future__ import annotations

import threading
import uuid

import pytest

from central.config import LedgerConfig, SeedConfig
from central.contributions import NoContributionDueError, contribution_due
from central.errors import RejectedError, StorageError
from central.ledger import Ledger
from central.storage import Storage
from kiosk.contract import (
    CONTRACT_VERSION,
    ActivationApproveParams,
    ActivationState,
    BusinessEvent,
    EventKind,
    PaymentPurpose,
    PaymentState,
    PaymentSubmitParams,
    ReceiptOutcome,
)
from tests.fixtures.central import TEST_HOLDER_ID

NOW = 1_790_000_000.0
TERMINAL = "SSK-T-0001"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def _ledger(db: Storage, clock: Clock | None = None) -> Ledger:
    return Ledger(
        db, LedgerConfig(max_payment_cents=500_000, max_deadline_ahead_s=600), clock or Clock()
    )


def _bill(db: Storage) -> tuple[str, int]:
    row = db.one(
        "SELECT bill_id, amount_cents FROM bills WHERE holder_id = ? AND status = 'unpaid'"
        " ORDER BY bill_id",
        (TEST_HOLDER_ID,),
    )
    assert row is not None
    return row[0], int(row[1])


def _wallet(db: Storage, id_number: str = TEST_HOLDER_ID) -> int:
    row = db.one("SELECT balance_cents FROM wallets WHERE id_number = ?", (id_number,))
    assert row is not None
    return int(row[0])


def _pay(bill: str, amount: int, key: str | None = None) -> PaymentSubmitParams:
    return PaymentSubmitParams(
        payment_key=key or str(uuid.uuid4()),
        id_number=TEST_HOLDER_ID,
        card_number="",
        purpose=PaymentPurpose.UTILITY_BILL,
        reference=bill,
        amount_cents=amount,
    )


def test_payment_applied_once_whatever_the_retries(central_db: tuple[Storage, SeedConfig]) -> None:
    db, _ = central_db
    ledger = _ledger(db)
    bill, amount = _bill(db)
    before = _wallet(db)
    params = _pay(bill, amount)
    results = [
        ledger.submit_payment(TERMINAL, f"req-{i}", params, deadline=NOW + 30) for i in range(5)
    ]
    assert {r.state for r in results} == {PaymentState.ACCEPTED}
    assert len({r.model_dump_json() for r in results}) == 1
    assert results[0].balance_after_cents == before - amount
    assert _wallet(db) == before - amount
    assert db.one("SELECT status, paid_key FROM bills WHERE bill_id = ?", (bill,)) == (
        "paid",
        params.payment_key,
    )
    status = ledger.payment_status(TERMINAL, params.payment_key)
    assert status.state is PaymentState.ACCEPTED and status.receipt_no == results[0].receipt_no


def test_payment_after_its_deadline_is_declined_and_recorded(
    central_db: tuple[Storage, SeedConfig],
) -> None:
    db, _ = central_db
    clock = Clock()
    ledger = _ledger(db, clock)
    bill, amount = _bill(db)
    before = _wallet(db)
    params = _pay(bill, amount)
    late = ledger.submit_payment(TERMINAL, "r", params, deadline=NOW - 0.001)
    assert late.state is PaymentState.DECLINED and late.reason == "deadline_passed"
    # the same key can never be charged later, even with a fresh deadline
    again = ledger.submit_payment(TERMINAL, "r2", params, deadline=NOW + 30)
    assert again.state is PaymentState.DECLINED
    assert _wallet(db) == before
    assert ledger.payment_status(TERMINAL, params.payment_key).state is PaymentState.DECLINED


def test_status_of_an_unknown_key_voids_it(central_db: tuple[Storage, SeedConfig]) -> None:
    db, _ = central_db
    ledger = _ledger(db)
    bill, amount = _bill(db)
    before = _wallet(db)
    params = _pay(bill, amount)
    assert ledger.payment_status(TERMINAL, params.payment_key).state is PaymentState.NOT_FOUND
    late = ledger.submit_payment(TERMINAL, "r", params, deadline=NOW + 30)
    assert late.state is PaymentState.DECLINED and late.reason == "voided"
    assert _wallet(db) == before
    assert ledger.payment_status(TERMINAL, params.payment_key).state is PaymentState.NOT_FOUND


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"amount_cents": 1}, "amount_mismatch"),
        ({"reference": "nope-000000"}, "unknown_bill"),
        ({"id_number": "110101199001011237"}, "unknown_person"),
        ({"card_number": "WRONG0000"}, "card_mismatch"),
        ({"amount_cents": 900_000}, "amount_too_large"),
    ],
)
def test_business_rules_decline_without_charging(
    central_db: tuple[Storage, SeedConfig], change: dict[str, object], reason: str
) -> None:
    db, _ = central_db
    ledger = _ledger(db)
    bill, amount = _bill(db)
    before = _wallet(db)
    params = _pay(bill, amount).model_copy(update=change)
    result = ledger.submit_payment(TERMINAL, "r", params, deadline=NOW + 30)
    assert (result.state, result.reason) == (PaymentState.DECLINED, reason)
    assert _wallet(db) == before
    assert db.one("SELECT status FROM bills WHERE bill_id = ?", (bill,)) == ("unpaid",)


def test_a_bill_is_paid_once_and_funds_are_checked(central_db: tuple[Storage, SeedConfig]) -> None:
    db, _ = central_db
    ledger = _ledger(db)
    bill, amount = _bill(db)
    first = ledger.submit_payment(TERMINAL, "a", _pay(bill, amount), deadline=NOW + 30)
    second = ledger.submit_payment(TERMINAL, "b", _pay(bill, amount), deadline=NOW + 30)
    assert first.state is PaymentState.ACCEPTED
    assert (second.state, second.reason) == (PaymentState.DECLINED, "bill_already_paid")
    # a flexible-employment contribution (the central's amount) larger than the wallet
    payer = _contributor(db)
    due = contribution_due(db, payer, "202611", 200).amount_cents
    db.execute("UPDATE wallets SET balance_cents = ? WHERE id_number = ?", (due - 1, payer))
    poor = PaymentSubmitParams(
        payment_key=str(uuid.uuid4()),
        id_number=payer,
        card_number="",
        purpose=PaymentPurpose.CONTRIBUTION,
        reference="202611",
        amount_cents=due,
    )
    result = ledger.submit_payment(TERMINAL, "c", poor, deadline=NOW + 30)
    assert (result.state, result.reason) == (PaymentState.DECLINED, "insufficient_funds")
    assert _wallet(db, payer) == due - 1


def _contributor(db: Storage) -> str:
    row = db.one(
        "SELECT id_number FROM contributions WHERE insurance = 'pension' ORDER BY id_number"
    )
    assert row is not None
    return str(row[0])


def test_a_contribution_pays_the_central_amount_only(
    central_db: tuple[Storage, SeedConfig],
) -> None:
    """The amount of a flexible-employment contribution is the central's: a kiosk sending
    another one (tampered) is declined with nothing charged; the right one is charged once."""
    db, _ = central_db
    ledger = _ledger(db)
    payer = _contributor(db)
    due = contribution_due(db, payer, "202611", 200)
    base = db.one(
        "SELECT base_cents FROM contributions WHERE id_number = ? AND insurance = 'pension'"
        " AND period <= '202611' ORDER BY period DESC",
        (payer,),
    )
    assert base is not None and due.amount_cents == (int(base[0]) * 200 + 500) // 1000 > 0
    db.execute(
        "UPDATE wallets SET balance_cents = ? WHERE id_number = ?", (due.amount_cents * 3, payer)
    )
    before = _wallet(db, payer)

    def pay(amount: int, reference: str = "202611") -> tuple[PaymentState, str]:
        params = PaymentSubmitParams(
            payment_key=str(uuid.uuid4()),
            id_number=payer,
            purpose=PaymentPurpose.CONTRIBUTION,
            reference=reference,
            amount_cents=amount,
        )
        result = ledger.submit_payment(TERMINAL, "r", params, deadline=NOW + 30)
        return result.state, result.reason

    assert pay(due.amount_cents - 1) == (PaymentState.DECLINED, "amount_mismatch")
    assert pay(1) == (PaymentState.DECLINED, "amount_mismatch")
    assert pay(due.amount_cents, "2026-11") == (PaymentState.DECLINED, "invalid_period")
    assert _wallet(db, payer) == before
    assert pay(due.amount_cents) == (PaymentState.ACCEPTED, "")
    assert _wallet(db, payer) == before - due.amount_cents
    # a retired holder without a pension base: nothing can be due
    assert pay_for_holder(ledger) == (PaymentState.DECLINED, "no_contribution_base")


def pay_for_holder(ledger: Ledger) -> tuple[PaymentState, str]:
    params = PaymentSubmitParams(
        payment_key=str(uuid.uuid4()),
        id_number=TEST_HOLDER_ID,
        purpose=PaymentPurpose.CONTRIBUTION,
        reference="202611",
        amount_cents=100,
    )
    result = ledger.submit_payment(TERMINAL, "h", params, deadline=NOW + 30)
    return result.state, result.reason


def test_concurrent_deliveries_of_one_key_charge_once(
    central_db: tuple[Storage, SeedConfig],
) -> None:
    """Two workers (own connections, own threads) get the same payment at the same time."""
    db, _ = central_db
    bill, amount = _bill(db)
    before = _wallet(db)
    params = _pay(bill, amount)
    results: list[PaymentState] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        with Storage(db.url) as own:
            ledger = _ledger(own)
            barrier.wait()
            for _ in range(5):
                results.append(
                    ledger.submit_payment(TERMINAL, "r", params, deadline=NOW + 30).state
                )

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [PaymentState.ACCEPTED] * 20
    assert _wallet(db) == before - amount
    assert db.one("SELECT COUNT(*) FROM payments") == (1,)


def _contribution(payer: str, amount: int, period: str = "202611") -> PaymentSubmitParams:
    return PaymentSubmitParams(
        payment_key=str(uuid.uuid4()),
        id_number=payer,
        purpose=PaymentPurpose.CONTRIBUTION,
        reference=period,
        amount_cents=amount,
    )


def test_a_contribution_month_is_paid_once_whatever_the_key(
    central_db: tuple[Storage, SeedConfig],
) -> None:
    """The same key replayed answers its first outcome; another key for the same person and
    month is declined ``already_paid`` with nothing charged, and the quote says so too."""
    db, _ = central_db
    ledger = _ledger(db)
    payer = _contributor(db)
    due = contribution_due(db, payer, "202611", 200).amount_cents
    db.execute("UPDATE wallets SET balance_cents = ? WHERE id_number = ?", (due - 1, payer))
    # A payment that was declined (no money) does not hold the month.
    first = _contribution(payer, due)
    poor = ledger.submit_payment(TERMINAL, "a", first, deadline=NOW + 30)
    assert (poor.state, poor.reason) == (PaymentState.DECLINED, "insufficient_funds")
    db.execute("UPDATE wallets SET balance_cents = ? WHERE id_number = ?", (due * 5, payer))
    paid = ledger.submit_payment(
        TERMINAL,
        "b",
        _contribution(payer, due).model_copy(update={"payment_key": "flex-month-1"}),
        deadline=NOW + 30,
    )
    assert paid.state is PaymentState.ACCEPTED and paid.amount_cents == due
    replay = ledger.submit_payment(
        TERMINAL,
        "c",
        _contribution(payer, due).model_copy(update={"payment_key": "flex-month-1"}),
        deadline=NOW + 30,
    )
    assert replay == paid  # idempotent replay: not a duplicate
    twice = ledger.submit_payment(TERMINAL, "d", _contribution(payer, due), deadline=NOW + 30)
    assert (twice.state, twice.reason, twice.amount_cents) == (
        PaymentState.DECLINED,
        "already_paid",
        0,
    )
    assert _wallet(db, payer) == due * 5 - due
    with pytest.raises(NoContributionDueError) as quoted:
        contribution_due(db, payer, "202611", 200)
    assert quoted.value.reason == "already_paid"
    assert db.query(
        "SELECT period, payment_key FROM contribution_payments WHERE id_number = ?", (payer,)
    ) == [("202611", "flex-month-1")]
    # ... and the person's record shows the month paid (the inquiry, the chart and the
    # certificate read it), all of it theirs; the declined try left nothing.
    assert db.query(
        "SELECT personal_cents, employer_cents, paid FROM contributions WHERE id_number = ?"
        " AND insurance = 'pension' AND period = '202611'",
        (payer,),
    ) == [(due, 0, 1)]
    # Another month is still due; a month the record already shows paid is not.
    nxt = contribution_due(db, payer, "202612", 200).amount_cents
    other = ledger.submit_payment(
        TERMINAL, "e", _contribution(payer, nxt, "202612"), deadline=NOW + 30
    )
    assert other.state is PaymentState.ACCEPTED
    recorded = db.one(
        "SELECT period FROM contributions WHERE id_number = ? AND insurance = 'pension'"
        " AND paid = 1 ORDER BY period DESC",
        (payer,),
    )
    assert recorded is not None
    old = ledger.submit_payment(
        TERMINAL, "f", _contribution(payer, due, str(recorded[0])), deadline=NOW + 30
    )
    assert (old.state, old.reason) == (PaymentState.DECLINED, "already_paid")
    assert _wallet(db, payer) == due * 5 - due - nxt


def test_concurrent_payments_of_one_month_with_two_keys_charge_once(
    central_db: tuple[Storage, SeedConfig],
) -> None:
    """Four workers (own connections, own threads) each pay the same month with their own key
    at the same time: one is charged, the others are declined ``already_paid``."""
    db, _ = central_db
    payer = _contributor(db)
    due = contribution_due(db, payer, "202611", 200).amount_cents
    db.execute("UPDATE wallets SET balance_cents = ? WHERE id_number = ?", (due * 10, payer))
    results: list[tuple[PaymentState, str]] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        with Storage(db.url) as own:
            ledger = _ledger(own)
            params = _contribution(payer, due)
            barrier.wait()
            result = ledger.submit_payment(TERMINAL, "r", params, deadline=NOW + 30)
            results.append((result.state, result.reason))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == sorted(
        [(PaymentState.ACCEPTED, "")] + [(PaymentState.DECLINED, "already_paid")] * 3
    )
    assert _wallet(db, payer) == due * 10 - due
    assert db.one(
        "SELECT COUNT(*) FROM payments WHERE purpose = 'contribution' AND state = 'accepted'"
    ) == (1,)


def _event(kind: EventKind, data: dict[str, object], msg_id: str | None = None) -> BusinessEvent:
    return BusinessEvent(
        v=CONTRACT_VERSION,
        msg_id=msg_id or str(uuid.uuid4()),
        terminal_id=TERMINAL,
        boot_id="b1",
        seq=1,
        mono=0.0,
        wall=NOW,
        clock_synced=True,
        kind=kind,
        data=data,
    )


def test_events_are_applied_once(central_db: tuple[Storage, SeedConfig]) -> None:
    db, _ = central_db
    ledger = _ledger(db)
    ev = _event(EventKind.CONSENT, {"purpose": "photo"})
    assert ledger.record_event(ev).outcome is ReceiptOutcome.ACCEPTED
    assert ledger.record_event(ev).outcome is ReceiptOutcome.DUPLICATE
    assert db.one("SELECT COUNT(*) FROM event_receipts") == (1,)
    bad = _event(EventKind.ACTIVATION_CONFIRMED, {"activation_key": "k"})
    receipt = ledger.record_event(bad)
    assert receipt.outcome is ReceiptOutcome.REJECTED and receipt.permanent


def test_activation_saga_states(central_db: tuple[Storage, SeedConfig]) -> None:
    db, _ = central_db
    ledger = _ledger(db)
    key = str(uuid.uuid4())
    assert ledger.activation_status(key).state is ActivationState.NONE
    approve = ActivationApproveParams(
        activation_key=key, id_number=TEST_HOLDER_ID, card_number="T00000001"
    )
    first = ledger.approve_activation(TERMINAL, approve)
    assert first.state is ActivationState.APPROVED and first.approval_id
    assert ledger.approve_activation(TERMINAL, approve) == first
    confirm = _event(
        EventKind.ACTIVATION_CONFIRMED,
        {"activation_key": key, "approval_id": first.approval_id, "record_sha256": "0" * 64},
    )
    assert ledger.record_event(confirm).outcome is ReceiptOutcome.ACCEPTED
    assert ledger.activation_status(key).state is ActivationState.CONFIRMED
    # a confirmation of an activation never approved is refused for good
    stray = _event(
        EventKind.ACTIVATION_CONFIRMED,
        {"activation_key": "never-approved", "approval_id": "x", "record_sha256": "0" * 64},
    )
    r = ledger.record_event(stray)
    assert r.outcome is ReceiptOutcome.REJECTED and r.reason == "unknown_activation"
    # compensation before the approval: a late approve is answered CANCELLED
    early = str(uuid.uuid4())
    cancel = _event(EventKind.ACTIVATION_CANCELLED, {"activation_key": early, "reason": "crash"})
    assert ledger.record_event(cancel).outcome is ReceiptOutcome.ACCEPTED
    late = ledger.approve_activation(TERMINAL, approve.model_copy(update={"activation_key": early}))
    assert late.state is ActivationState.CANCELLED
    declined = ledger.approve_activation(
        TERMINAL,
        ActivationApproveParams(
            activation_key=str(uuid.uuid4()), id_number=TEST_HOLDER_ID, card_number="OTHER"
        ),
    )
    assert (declined.state, declined.reason) == (ActivationState.DECLINED, "card_mismatch")


def test_a_key_of_another_terminal_is_refused(central_db: tuple[Storage, SeedConfig]) -> None:
    db, _ = central_db
    ledger = _ledger(db)
    bill, amount = _bill(db)
    params = _pay(bill, amount)
    assert ledger.submit_payment(TERMINAL, "r", params, deadline=NOW + 30).state is (
        PaymentState.ACCEPTED
    )
    with pytest.raises(RejectedError) as e:
        ledger.payment_status("SSK-OTHER-9", params.payment_key)
    assert e.value.code == "forbidden"
    with pytest.raises(RejectedError):
        ledger.submit_payment("SSK-OTHER-9", "r", params, deadline=NOW + 30)


def test_only_the_asking_terminal_confirms_or_cancels(
    central_db: tuple[Storage, SeedConfig],
) -> None:
    db, _ = central_db
    ledger = _ledger(db)
    key = str(uuid.uuid4())
    approve = ActivationApproveParams(
        activation_key=key, id_number=TEST_HOLDER_ID, card_number="T00000001"
    )
    assert ledger.approve_activation(TERMINAL, approve).state is ActivationState.APPROVED
    hostile = _event(EventKind.ACTIVATION_CANCELLED, {"activation_key": key, "reason": "x"})
    hostile = hostile.model_copy(update={"terminal_id": "SSK-OTHER-9"})
    r = ledger.record_event(hostile)
    assert (r.outcome, r.reason) == (ReceiptOutcome.REJECTED, "forbidden")
    assert ledger.activation_status(key).state is ActivationState.APPROVED


def test_postgresql_connection_loss_is_transient(postgres_url: str) -> None:
    """The server kills our connection: the call in hand fails (StorageError, the kiosk will
    retry the key), the next one reconnects."""
    import psycopg

    with Storage(postgres_url) as db:
        db.create_schema()
        pid = db.one("SELECT pg_backend_pid()")
        assert pid is not None
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid[0],))
        with pytest.raises(StorageError):
            db.one("SELECT 1")
        assert db.one("SELECT 1") == (1,)
        # lost inside a transaction: an error, no silent reconnect
        with pytest.raises(StorageError), db.transaction():
            pid = db.one("SELECT pg_backend_pid()")
            assert pid is not None
            with psycopg.connect(postgres_url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid[0],))
            db.execute("INSERT INTO wallets VALUES ('x', 1)")
        assert db.one("SELECT COUNT(*) FROM wallets") == (0,)
