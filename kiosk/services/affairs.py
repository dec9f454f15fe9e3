"""Affairs: employment certificate request, unemployment registration, vocational training
(catalogue and sign-up), flexible-employment contribution payment, and the temporary loss
report of the card with its cancellation. Every action is applied once per key at the central:
the caller creates the key once (and journals it) and repeats the SAME key after a timeout."""

from __future__ import annotations

from typing import Literal

from kiosk.contract import (
    AffairResult,
    AffairState,
    ContributionQuote,
    ContributionQuoteParams,
    EmploymentCertificateParams,
    LossParams,
    LossResult,
    PaymentPurpose,
    RpcMethod,
    TrainingCatalogue,
    TrainingCatalogueParams,
    TrainingCourse,
    TrainingSignupParams,
    UnemploymentRegisterParams,
    new_msg_id,
)
from kiosk.services.central_session import CentralSession
from kiosk.services.errors import DeclinedError, call
from kiosk.services.payment import PaymentOutcome, PaymentService
from kiosk.sync.rpc import RpcClient

__all__ = ["AffairsService", "UnemploymentReason"]

UnemploymentReason = Literal["contract_ended", "dismissed", "resigned", "employer_closed", "other"]


def _accepted(result: AffairResult) -> AffairResult:
    """The result when accepted; `DeclinedError` (``remote_code`` = the central's reason, e.g.
    ``already_registered``, ``course_full``) when the central declined it."""
    if result.state is AffairState.DECLINED:
        raise DeclinedError(f"{result.kind}: {result.reason}", remote_code=result.reason)
    return result


class AffairsService:
    """Applications, registrations, training, contributions and loss reports (card + PIN).

    Every method raises kiosk/services/errors.py errors; a declined application raises
    `DeclinedError` whose `remote_code` is the central's reason."""

    def __init__(self, rpc: RpcClient, payments: PaymentService) -> None:
        self._rpc = rpc
        self._payments = payments

    def employment_certificate(
        self,
        session: CentralSession,
        *,
        purpose: str,
        delivery: Literal["pickup", "mail"] = "pickup",
        request_key: str | None = None,
    ) -> AffairResult:
        """Request an employment certificate."""
        result = call(
            self._rpc,
            RpcMethod.EMPLOYMENT_CERTIFICATE,
            EmploymentCertificateParams(
                request_key=request_key or new_msg_id(),
                id_number=session.id_number,
                purpose=purpose,
                delivery=delivery,
            ),
            AffairResult,
            token=session.token,
        )
        return _accepted(result)

    def register_unemployment(
        self,
        session: CentralSession,
        *,
        last_employer: str,
        separation_date: str,
        reason: UnemploymentReason,
        contact_phone: str,
        request_key: str | None = None,
    ) -> AffairResult:
        """Register as unemployed (`DeclinedError` when already registered)."""
        result = call(
            self._rpc,
            RpcMethod.UNEMPLOYMENT_REGISTER,
            UnemploymentRegisterParams(
                request_key=request_key or new_msg_id(),
                id_number=session.id_number,
                last_employer=last_employer,
                separation_date=separation_date,
                reason=reason,
                contact_phone=contact_phone,
            ),
            AffairResult,
            token=session.token,
        )
        return _accepted(result)

    def training_catalogue(
        self, session: CentralSession, *, category: str = ""
    ) -> list[TrainingCourse]:
        """The courses the central offers now (optionally of one category)."""
        result = call(
            self._rpc,
            RpcMethod.TRAINING_CATALOGUE,
            TrainingCatalogueParams(category=category),
            TrainingCatalogue,
            token=session.token,
        )
        return list(result.courses)

    def training_signup(
        self, session: CentralSession, course_id: str, *, request_key: str | None = None
    ) -> AffairResult:
        """Take one seat of a course (`DeclinedError`: full, or already signed up)."""
        result = call(
            self._rpc,
            RpcMethod.TRAINING_SIGNUP,
            TrainingSignupParams(
                request_key=request_key or new_msg_id(),
                id_number=session.id_number,
                course_id=course_id,
            ),
            AffairResult,
            token=session.token,
        )
        return _accepted(result)

    def contribution_quote(self, session: CentralSession, period: str) -> ContributionQuote:
        """What the flexible-employment contribution for `period` (YYYYMM) costs: computed by
        the central from the person's record (`DeclinedError` ``no_contribution_base`` when
        there is nothing to pay on). The kiosk never computes an amount itself."""
        return call(
            self._rpc,
            RpcMethod.CONTRIBUTION_QUOTE,
            ContributionQuoteParams(id_number=session.id_number, period=period),
            ContributionQuote,
            token=session.token,
        )

    def pay_flexible_contribution(
        self,
        session: CentralSession,
        *,
        period: str,
        amount_cents: int,
        payment_key: str | None = None,
    ) -> PaymentOutcome:
        """Pay a flexible-employment contribution for `period` (YYYYMM) from the wallet, once
        (through the payment service: journal first, reconciled, never re-sent).
        `amount_cents` must be the central's quote (`contribution_quote`): the ledger declines
        any other amount (``amount_mismatch``) and charges nothing."""
        return self._payments.submit(
            id_number=session.id_number,
            card_number=session.card_number,
            purpose=PaymentPurpose.CONTRIBUTION,
            reference=period,
            amount_cents=amount_cents,
            payment_key=payment_key,
            token=session.token,
        )

    def report_loss(self, session: CentralSession, *, request_key: str | None = None) -> LossResult:
        """Temporary loss report of the session's card: from now on every kiosk refuses it."""
        return self._loss(RpcMethod.LOSS_REPORT, session, request_key)

    def cancel_loss(self, session: CentralSession, *, request_key: str | None = None) -> LossResult:
        """Cancel a temporary loss report (a session opened with purpose ``loss_cancel``)."""
        return self._loss(RpcMethod.LOSS_CANCEL, session, request_key)

    def _loss(
        self, method: RpcMethod, session: CentralSession, request_key: str | None
    ) -> LossResult:
        return call(
            self._rpc,
            method,
            LossParams(
                request_key=request_key or new_msg_id(),
                id_number=session.id_number,
                card_number=session.card_number,
            ),
            LossResult,
            token=session.token,
        )
