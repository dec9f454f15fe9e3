"""The idempotent ledger: payments, business-event receipts and activations, each applied exactly
once per idempotency key, whatever the redelivery, the number of workers or the crash.

How exactly-once holds: every effect and the row that records its key commit in ONE database
transaction, and the key row is claimed first (`INSERT ... ON CONFLICT DO NOTHING RETURNING`):
a second delivery, even concurrent on another worker, finds the key and answers what was stored.
On PostgreSQL a concurrent insert of the same key waits for the first transaction and then does
nothing; on SQLite `BEGIN IMMEDIATE` serialises writers. Money rules are enforced here, centrally:
a payment received after its deadline is declined and its key recorded; a utility bill and a
flexible-employment contribution must carry the amount the central computes, and each is paid
once (a bill by its status, a contribution month by `contribution_payments`' primary key:
``bill_already_paid`` / ``already_paid`` for a second key); `payment.status`
of a key never seen voids it, so a late submit with that key can never charge
(kiosk/contract.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable

from central.config import LedgerConfig
from central.contributions import NoContributionDueError, claim_period, contribution_due
from central.errors import RejectedError, StorageError
from central.idnumber import mask_id
from central.storage import Row, Storage
from kiosk.contract import (
    EVENT_SCHEMAS,
    ActivationApproveParams,
    ActivationApproveResult,
    ActivationCancelled,
    ActivationConfirmed,
    ActivationState,
    ActivationStatusResult,
    BusinessEvent,
    ContractError,
    EventReceipt,
    PaymentPurpose,
    PaymentResult,
    PaymentState,
    PaymentSubmitParams,
    ReceiptOutcome,
    decode,
)

__all__ = ["Ledger"]

logger = logging.getLogger("central.ledger")

_INSERT_PAYMENT = (
    "INSERT INTO payments (payment_key, terminal_id, request_id, id_number, purpose, reference,"
    " amount_cents, state, reason, receipt_no, balance_after_cents, received_at)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
)
_VOID = "void"  # internal state of a key voided by a status query; shown as NOT_FOUND


class _DeclinedError(Exception):
    """A business rule declined the payment; the transaction is rolled back and recorded apart."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _receipt_no(key: str) -> str:
    return "R" + hashlib.sha256(key.encode()).hexdigest()[:14].upper()


def _approval_id(key: str) -> str:
    return "AP" + hashlib.sha256(key.encode()).hexdigest()[:14].upper()


class Ledger:
    """Exactly-once business operations over one `Storage` (so: one thread).

    `clock` gives epoch seconds (injected; tests pass a fake). Raises `StorageError` when the
    database fails: the caller answers a transient error and the kiosk retries the same key.
    """

    def __init__(
        self, storage: Storage, config: LedgerConfig, clock: Callable[[], float] = time.time
    ) -> None:
        self._db = storage
        self._cfg = config
        self._clock = clock

    @property
    def config(self) -> LedgerConfig:
        return self._cfg

    # ------------------------------------------------------------------ payments

    def submit_payment(
        self, terminal_id: str, request_id: str, params: PaymentSubmitParams, *, deadline: float
    ) -> PaymentResult:
        """Apply `params.payment_key` at most once: debit the wallet and, for a utility bill,
        mark it paid. A key seen before answers what was stored, whatever the new params."""
        key = params.payment_key
        stored = self._payment_row(key, terminal_id)
        if stored is not None:
            return self._payment_result(stored, submit=True)
        now = self._clock()
        try:
            with self._db.transaction() as db:
                claimed = db.query(
                    _INSERT_PAYMENT + " ON CONFLICT (payment_key) DO NOTHING RETURNING payment_key",
                    (
                        key,
                        terminal_id,
                        request_id,
                        params.id_number,
                        params.purpose.value,
                        params.reference,
                        params.amount_cents,
                        PaymentState.ACCEPTED.value,
                        "",
                        _receipt_no(key),
                        None,
                        now,
                    ),
                )
                if not claimed:
                    raise _DeclinedError("")  # raced by another delivery: answer what it stored
                balance = self._apply_payment(db, params, now=now, deadline=deadline)
                db.execute(
                    "UPDATE payments SET balance_after_cents = ? WHERE payment_key = ?",
                    (balance, key),
                )
            logger.info(
                "payment %s accepted: %s fen from %s at %s",
                key,
                params.amount_cents,
                mask_id(params.id_number),
                terminal_id,
            )
        except _DeclinedError as d:
            if d.reason:
                self._record_decline(key, terminal_id, request_id, params, d.reason, now)
        stored = self._payment_row(key, terminal_id)
        if stored is None:  # cannot happen: the key was recorded one way or the other
            raise StorageError(f"payment {key} vanished")
        return self._payment_result(stored, submit=True)

    def _apply_payment(
        self, db: Storage, p: PaymentSubmitParams, *, now: float, deadline: float
    ) -> int:
        if now > deadline:
            raise _DeclinedError("deadline_passed")
        if deadline > now + self._cfg.max_deadline_ahead_s:
            raise _DeclinedError("deadline_too_far")
        if p.amount_cents > self._cfg.max_payment_cents:
            raise _DeclinedError("amount_too_large")
        person = db.one("SELECT card_number FROM persons WHERE id_number = ?", (p.id_number,))
        if person is None:
            raise _DeclinedError("unknown_person")
        if p.card_number and person[0] and p.card_number != person[0]:
            raise _DeclinedError("card_mismatch")
        if p.purpose is PaymentPurpose.UTILITY_BILL:
            bill = db.one(
                "SELECT amount_cents, status FROM bills WHERE bill_id = ?", (p.reference,)
            )
            if bill is None:
                raise _DeclinedError("unknown_bill")
            if int(bill[0]) != p.amount_cents:
                raise _DeclinedError("amount_mismatch")
            # The WHERE makes a concurrent second payment of the same bill find nothing to update.
            if (
                db.execute(
                    "UPDATE bills SET status = 'paid', paid_key = ?"
                    " WHERE bill_id = ? AND status = 'unpaid'",
                    (p.payment_key, p.reference),
                )
                != 1
            ):
                raise _DeclinedError("bill_already_paid")
        elif p.purpose is PaymentPurpose.CONTRIBUTION:
            # The amount is the central's, never the kiosk's (central/contributions.py).
            try:
                due = contribution_due(
                    db, p.id_number, p.reference, self._cfg.flexible_pension_rate_permille
                )
            except NoContributionDueError as e:
                raise _DeclinedError(e.reason) from None
            if due.amount_cents != p.amount_cents:
                raise _DeclinedError("amount_mismatch")
            # One payment per month, whatever its key: the check above read before a racing
            # twin committed; the primary key decides (rolled back with the rest on decline).
            if not claim_period(db, p.id_number, due, p.payment_key, now):
                raise _DeclinedError("already_paid")
        rows = db.query(
            "UPDATE wallets SET balance_cents = balance_cents - ?"
            " WHERE id_number = ? AND balance_cents >= ? RETURNING balance_cents",
            (p.amount_cents, p.id_number, p.amount_cents),
        )
        if not rows:
            has_wallet = db.one("SELECT 1 FROM wallets WHERE id_number = ?", (p.id_number,))
            raise _DeclinedError("insufficient_funds" if has_wallet else "no_wallet")
        return int(rows[0][0])

    def _record_decline(
        self,
        key: str,
        terminal_id: str,
        request_id: str,
        p: PaymentSubmitParams,
        reason: str,
        now: float,
    ) -> None:
        with self._db.transaction() as db:
            db.execute(
                _INSERT_PAYMENT + " ON CONFLICT (payment_key) DO NOTHING",
                (
                    key,
                    terminal_id,
                    request_id,
                    p.id_number,
                    p.purpose.value,
                    p.reference,
                    p.amount_cents,
                    PaymentState.DECLINED.value,
                    reason,
                    "",
                    None,
                    now,
                ),
            )
        logger.info("payment %s declined: %s (%s)", key, reason, terminal_id)

    def stored_payment(self, terminal_id: str, payment_key: str) -> PaymentResult | None:
        """What was stored for a key of this terminal (None: never seen). `forbidden` for a
        key of another terminal."""
        stored = self._payment_row(payment_key, terminal_id)
        return None if stored is None else self._payment_result(stored, submit=True)

    def decline_payment(
        self, terminal_id: str, request_id: str, params: PaymentSubmitParams, reason: str
    ) -> None:
        """Record a key refused before the ledger (no valid session token): declined for good,
        so a later copy of the same key can never charge."""
        self._record_decline(
            params.payment_key, terminal_id, request_id, params, reason[:200], self._clock()
        )

    def payment_status(self, terminal_id: str, payment_key: str) -> PaymentResult:
        """What the ledger did with a key. A key never seen is voided now (answer NOT_FOUND), so
        a submit still in flight can never be applied after the kiosk concluded "not charged"."""
        stored = self._payment_row(payment_key, terminal_id)
        if stored is None:
            with self._db.transaction() as db:
                db.execute(
                    _INSERT_PAYMENT + " ON CONFLICT (payment_key) DO NOTHING",
                    (
                        payment_key,
                        terminal_id,
                        "",
                        "",
                        "",
                        "",
                        0,
                        _VOID,
                        "voided",
                        "",
                        None,
                        self._clock(),
                    ),
                )
            logger.info("payment %s unknown: voided at the request of %s", payment_key, terminal_id)
            stored = self._payment_row(payment_key, terminal_id)
            assert stored is not None
        return self._payment_result(stored, submit=False)

    def _payment_row(self, key: str, terminal_id: str) -> Row | None:
        """The stored outcome of `key`; a key of another terminal is refused (`forbidden`), so
        no kiosk can read, or claim, someone else's payment by replaying its key."""
        row = self._db.one(
            "SELECT payment_key, state, amount_cents, balance_after_cents, receipt_no, reason,"
            " terminal_id FROM payments WHERE payment_key = ?",
            (key,),
        )
        if row is None:
            return None
        if row[6] != terminal_id:
            logger.warning("payment key %s of %s asked by %s", key, row[6], terminal_id)
            raise RejectedError("payment key belongs to another terminal", code="forbidden")
        return row[:6]

    @staticmethod
    def _payment_result(row: Row, *, submit: bool) -> PaymentResult:
        key, state, amount, balance, receipt_no, reason = row
        if state == _VOID:
            # A submit after the void is declined; a status query keeps saying "never applied".
            state = PaymentState.DECLINED.value if submit else PaymentState.NOT_FOUND.value
        return PaymentResult(
            payment_key=key,
            state=PaymentState(state),
            amount_cents=int(amount) if state == PaymentState.ACCEPTED.value else 0,
            balance_after_cents=None if balance is None else int(balance),
            receipt_no=receipt_no,
            reason=reason,
        )

    # ------------------------------------------------------------------ business events

    def record_event(self, event: BusinessEvent) -> EventReceipt:
        """Apply one business event exactly once (by `msg_id`) and say what happened.

        Schema errors of the event's `data` are permanent rejections; a database failure is
        raised (the caller answers a non-permanent rejection so the kiosk retries)."""
        schema = EVENT_SCHEMAS.get(event.kind)
        data_model = None
        if schema is not None:
            try:
                data_model = decode(schema, event.data)
            except ContractError as e:
                return EventReceipt(
                    msg_id=event.msg_id,
                    outcome=ReceiptOutcome.REJECTED,
                    permanent=True,
                    reason=f"data: {e}"[:200],
                )
        try:
            with self._db.transaction() as db:
                fresh = db.query(
                    "INSERT INTO event_receipts (msg_id, terminal_id, kind, boot_id, seq,"
                    " received_at, data) VALUES (?,?,?,?,?,?,?)"
                    " ON CONFLICT (msg_id) DO NOTHING RETURNING msg_id",
                    (
                        event.msg_id,
                        event.terminal_id,
                        event.kind.value,
                        event.boot_id,
                        event.seq,
                        self._clock(),
                        json.dumps(event.data, ensure_ascii=False, sort_keys=True),
                    ),
                )
                if not fresh:
                    return EventReceipt(
                        msg_id=event.msg_id,
                        outcome=ReceiptOutcome.DUPLICATE,
                        permanent=True,
                        reason="",
                    )
                if isinstance(data_model, ActivationConfirmed):
                    self._confirm_activation(db, event.terminal_id, data_model)
                elif isinstance(data_model, ActivationCancelled):
                    self._cancel_activation(db, event.terminal_id, data_model)
        except _DeclinedError as d:
            return EventReceipt(
                msg_id=event.msg_id,
                outcome=ReceiptOutcome.REJECTED,
                permanent=True,
                reason=d.reason,
            )
        return EventReceipt(
            msg_id=event.msg_id, outcome=ReceiptOutcome.ACCEPTED, permanent=True, reason=""
        )

    # ------------------------------------------------------------------ activations

    def approve_activation(
        self, terminal_id: str, p: ActivationApproveParams
    ) -> ActivationApproveResult:
        """Step 1 of the activation saga, idempotent on `activation_key`."""
        now = self._clock()
        with self._db.transaction() as db:
            row = self._activation_row(db, p.activation_key)
            if row is None:
                person = db.one(
                    "SELECT card_number FROM persons WHERE id_number = ?", (p.id_number,)
                )
                state, reason = ActivationState.APPROVED, ""
                if person is None:
                    state, reason = ActivationState.DECLINED, "unknown_person"
                elif p.card_number and person[0] and p.card_number != person[0]:
                    state, reason = ActivationState.DECLINED, "card_mismatch"
                approval = (
                    _approval_id(p.activation_key) if state is ActivationState.APPROVED else ""
                )
                db.execute(
                    "INSERT INTO activations (activation_key, terminal_id, id_number, card_number,"
                    " state, approval_id, record_sha256, reason, updated_at)"
                    " VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (activation_key) DO NOTHING",
                    (
                        p.activation_key,
                        terminal_id,
                        p.id_number,
                        p.card_number,
                        state.value,
                        approval,
                        "",
                        reason,
                        now,
                    ),
                )
                row = self._activation_row(db, p.activation_key)
                assert row is not None
        _, state_text, approval_id, reason, _owner = row
        return ActivationApproveResult(
            activation_key=p.activation_key,
            state=ActivationState(state_text),
            approval_id=approval_id,
            record_hex="",
            reason=reason,
        )

    def activation_status(self, activation_key: str) -> ActivationStatusResult:
        """The saga's recovery probe: NONE for a key never approved."""
        row = self._activation_row(self._db, activation_key)
        if row is None:
            return ActivationStatusResult(activation_key=activation_key, state=ActivationState.NONE)
        return ActivationStatusResult(
            activation_key=activation_key, state=ActivationState(row[1]), approval_id=row[2]
        )

    @staticmethod
    def _activation_row(db: Storage, key: str) -> Row | None:
        return db.one(
            "SELECT activation_key, state, approval_id, reason, terminal_id FROM activations"
            " WHERE activation_key = ?",
            (key,),
        )

    def _confirm_activation(self, db: Storage, terminal_id: str, c: ActivationConfirmed) -> None:
        row = self._activation_row(db, c.activation_key)
        if row is None:
            raise _DeclinedError("unknown_activation")
        if row[4] != terminal_id:  # only the terminal that asked may confirm or cancel
            raise _DeclinedError("forbidden")
        state = row[1]
        if state == ActivationState.CONFIRMED.value:
            return  # a second confirmation event of the same activation: nothing more to do
        if state != ActivationState.APPROVED.value:
            raise _DeclinedError(f"activation_{state}")
        db.execute(
            "UPDATE activations SET state = ?, record_sha256 = ?, updated_at = ?"
            " WHERE activation_key = ?",
            (ActivationState.CONFIRMED.value, c.record_sha256, self._clock(), c.activation_key),
        )

    def _cancel_activation(self, db: Storage, terminal_id: str, c: ActivationCancelled) -> None:
        row = self._activation_row(db, c.activation_key)
        if row is None:
            # Compensation before the approval arrived: record the key as cancelled so a late
            # approve with it is answered CANCELLED, never approved.
            db.execute(
                "INSERT INTO activations (activation_key, terminal_id, id_number, card_number,"
                " state, approval_id, record_sha256, reason, updated_at)"
                " VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (activation_key) DO NOTHING",
                (
                    c.activation_key,
                    terminal_id,
                    "",
                    "",
                    ActivationState.CANCELLED.value,
                    "",
                    "",
                    c.reason,
                    self._clock(),
                ),
            )
            return
        if row[4] != terminal_id:
            raise _DeclinedError("forbidden")
        db.execute(
            "UPDATE activations SET state = ?, reason = ?, updated_at = ? WHERE activation_key = ?",
            (ActivationState.CANCELLED.value, c.reason, self._clock(), c.activation_key),
        )
