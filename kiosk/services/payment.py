"""The payment client: money moves online only, charged at most once, never re-sent blindly.

A payment is recorded in the journal (state ``sending``) before the RPC goes out, with its
idempotency key and the deadline the central enforces. The answer sets ``accepted`` or
``declined``; no answer sets ``unknown``. Unknown (and ``sending`` rows left by a crash) are
reconciled by asking ``payment.status`` about the key, at the next connection or after a
restart, never by sending the payment again: the central voids a key it has never seen when
asked, so a late copy of the request cannot charge afterwards (contract module docstring).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from kiosk.clock import Clock
from kiosk.contract import (
    PaymentPurpose,
    PaymentResult,
    PaymentState,
    PaymentStatusParams,
    PaymentSubmitParams,
    RpcMethod,
    new_msg_id,
)
from kiosk.journal.store import Journal, PaymentRow
from kiosk.sync.errors import OfflineError, RpcRejectedError, RpcTimeoutError, SyncError
from kiosk.sync.rpc import RpcClient

__all__ = ["OPEN_STATES", "PaymentOutcome", "PaymentService"]

log = logging.getLogger("kiosk.services.payment")

OPEN_STATES = ("sending", "unknown")
"""Journal states whose outcome is not known yet (reconciled, never re-sent)."""
RECONCILE_MARGIN_S = 0.2  # past the deadline before asking (clock granularity, queueing)


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    """What the citizen (or technician) is told. `state`: accepted, declined, void, unknown."""

    payment_key: str
    state: str
    amount_cents: int
    receipt_no: str = ""
    balance_after_cents: int | None = None
    reason: str = ""

    @classmethod
    def from_row(cls, row: PaymentRow) -> PaymentOutcome:
        r = row.result
        return cls(
            payment_key=row.payment_key,
            state=row.state,
            amount_cents=row.amount_cents,
            receipt_no=str(r.get("receipt_no", "")),
            balance_after_cents=r.get("balance_after_cents"),
            reason=str(r.get("reason", "")),
        )


class PaymentService:
    """Submits and reconciles payments. Blocking calls: run them off the UI thread."""

    def __init__(
        self, journal: Journal, rpc: RpcClient, clock: Clock, *, deadline_s: float
    ) -> None:
        self._journal = journal
        self._rpc = rpc
        self._clock = clock
        self.deadline_s = deadline_s
        # Keys whose submit is in flight in this process: reconciliation must leave them alone
        # (asking about a key voids it at the central, which would refuse the payment itself).
        self._in_flight: set[str] = set()
        self._lock = threading.Lock()

    def submit(
        self,
        *,
        id_number: str,
        card_number: str,
        purpose: PaymentPurpose,
        reference: str,
        amount_cents: int,
        payment_key: str | None = None,
        token: str = "",
    ) -> PaymentOutcome:
        """Pay once. Returns accepted / declined / unknown; raises nothing for a sync failure.
        `token`: the central session token (kiosk/services/central_session.py); without a valid
        one the central declines (reason ``forbidden``) and nothing is charged.

        `OfflineError` before sending: declined (reason ``offline``), nothing was sent.
        """
        key = payment_key or new_msg_id()
        params = PaymentSubmitParams(
            payment_key=key,
            id_number=id_number,
            card_number=card_number,
            purpose=purpose,
            reference=reference,
            amount_cents=amount_cents,
        )
        deadline = self._clock.wall() + self.deadline_s
        with self._lock:
            self._in_flight.add(key)
        try:
            return self._submit(key, params, deadline, token)
        finally:
            with self._lock:
                self._in_flight.discard(key)

    def _submit(
        self, key: str, params: PaymentSubmitParams, deadline: float, token: str = ""
    ) -> PaymentOutcome:
        id_number, card_number = params.id_number, params.card_number
        purpose, reference, amount_cents = params.purpose, params.reference, params.amount_cents
        # Durable BEFORE the wire: a crash from here on leaves a row to reconcile.
        self._journal.payment_create(
            key,
            purpose=purpose.value,
            reference=reference,
            amount_cents=amount_cents,
            request={"id_number": id_number, "card_number": card_number},
            deadline=deadline,
        )
        try:
            result = self._rpc.call(
                RpcMethod.PAYMENT_SUBMIT,
                params,
                PaymentResult,
                # Wait until the central's deadline: after it the central refuses anyway.
                timeout=self.deadline_s,
                deadline=deadline,
                token=token,
            )
        except OfflineError:
            self._journal.payment_update(key, "declined", {"reason": "offline"})
        except RpcTimeoutError:
            log.warning("payment %s: no answer before the deadline, outcome unknown", key)
            self._journal.payment_update(key, "unknown", {"reason": "no answer"})
        except RpcRejectedError as e:
            # The central answered: not charged (deadline passed, invalid, declined).
            self._journal.payment_update(key, "declined", {"reason": e.remote_code})
        else:
            self._record(key, result)
        row = self._journal.payment_get(key)
        assert row is not None
        return PaymentOutcome.from_row(row)

    def _record(self, key: str, result: PaymentResult) -> str:
        state = {
            PaymentState.ACCEPTED: "accepted",
            PaymentState.DECLINED: "declined",
            PaymentState.NOT_FOUND: "void",
        }.get(result.state, "unknown")
        self._journal.payment_update(key, state, result.model_dump(mode="json"))
        return state

    def reconcile(self, *, wait: bool = True) -> list[PaymentOutcome]:
        """Ask the central about every open payment; returns the ones settled now.

        Only after a payment's deadline: until then its request may still be on its way (from
        this or another process, e.g. `kiosk pay` beside the agent), and asking would void it.
        `wait`: sleep until the open deadlines have passed (at most `deadline_s`), else skip
        the ones not due yet. The question is safe at any time for money: a key the central
        never saw is voided by the question itself, so it can never charge afterwards.
        """
        settled: list[PaymentOutcome] = []
        rows = [r for r in self._journal.payments(OPEN_STATES) if not self._is_in_flight(r)]
        if wait and rows:
            latest = max(r.deadline for r in rows)
            pause = min(self.deadline_s, latest - self._clock.wall())
            if pause > 0:
                self._clock.sleep(pause + RECONCILE_MARGIN_S)
        now = self._clock.wall()
        for row in rows:
            if row.deadline > now:
                continue
            try:
                result = self._rpc.call(
                    RpcMethod.PAYMENT_STATUS,
                    PaymentStatusParams(payment_key=row.payment_key),
                    PaymentResult,
                )
            except SyncError as e:
                log.info("payment %s still open: %s", row.payment_key, e)
                continue
            state = self._record(row.payment_key, result)
            log.info("payment %s reconciled: %s", row.payment_key, state)
            new = self._journal.payment_get(row.payment_key)
            assert new is not None
            settled.append(PaymentOutcome.from_row(new))
        return settled

    def _is_in_flight(self, row: PaymentRow) -> bool:
        with self._lock:
            return row.payment_key in self._in_flight

    def open_count(self) -> int:
        """Payments whose outcome is not known yet (telemetry `unknown_payments`)."""
        return len(self._journal.payments(OPEN_STATES))

    def get(self, payment_key: str) -> PaymentOutcome | None:
        """One payment as the journal knows it."""
        row = self._journal.payment_get(payment_key)
        return None if row is None else PaymentOutcome.from_row(row)
