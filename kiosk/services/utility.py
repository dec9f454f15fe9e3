"""Utility payment: the bill of a water, power or gas account, paid from the holder's electronic
wallet through the payment service (journal first, one key, exactly once end to end)."""

from __future__ import annotations

from kiosk.contract import (
    BillsParams,
    BillsResult,
    PaymentPurpose,
    RpcMethod,
    UtilityBill,
    UtilityKind,
)
from kiosk.services.central_session import CentralSession
from kiosk.services.errors import DeclinedError, call
from kiosk.services.payment import PaymentOutcome, PaymentService
from kiosk.sync.rpc import RpcClient

__all__ = ["UtilityService"]


class UtilityService:
    """Bills (card + PIN) and their payment (card + PIN, online only)."""

    def __init__(self, rpc: RpcClient, payments: PaymentService) -> None:
        self._rpc = rpc
        self._payments = payments

    def bills(
        self, session: CentralSession, utility: UtilityKind, account_number: str
    ) -> list[UtilityBill]:
        """The unpaid bills of one account (`NotFoundError` for an unknown account)."""
        result = call(
            self._rpc,
            RpcMethod.BILLS,
            BillsParams(utility=utility, account_number=account_number, unpaid_only=True),
            BillsResult,
            token=session.token,
        )
        return list(result.bills)

    def pay(
        self, session: CentralSession, bill: UtilityBill, *, payment_key: str | None = None
    ) -> PaymentOutcome:
        """Pay one bill once. The outcome's state is accepted / declined / unknown (then the
        payment service reconciles; never pay again with a new key). A paid bill raises
        `DeclinedError` before anything is sent."""
        if bill.paid:
            raise DeclinedError("the bill is already paid", remote_code="bill_already_paid")
        return self._payments.submit(
            id_number=session.id_number,
            card_number=session.card_number,
            purpose=PaymentPurpose.UTILITY_BILL,
            reference=bill.bill_id,
            amount_cents=bill.amount_cents,
            payment_key=payment_key,
            token=session.token,
        )
