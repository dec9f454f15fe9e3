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

    def submit(
        self,
        *,
        id_number: str,
        card_number: str,
        purpose: PaymentPurpose,
        reference: str,
        amount_cents: int,
        payment_key: str | None = None,
    ) -> PaymentOutcome:
        """Pay once. Returns accepted / declined / unknown; raises nothing for a sync failure.

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

    def reconcile(self) -> list[PaymentOutcome]:
        """Ask the central about every open payment; returns the ones settled now.

        Safe at any time: a key the central never saw is voided by the question itself.
        """
        settled: list[PaymentOutcome] = []
        for row in self._journal.payments(OPEN_STATES):
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

    def open_count(self) -> int:
        """Payments whose outcome is not known yet (telemetry `unknown_payments`)."""
        return len(self._journal.payments(OPEN_STATES))

    def get(self, payment_key: str) -> PaymentOutcome | None:
        """One payment as the journal knows it."""
        row = self._journal.payment_get(payment_key)
        return None if row is None else PaymentOutcome.from_row(row)
