"""Inquiry: contribution records per insurance (paged), accumulated accounts, benefits received,
and a per-year series to chart. Card + PIN (the central's rule, docs/services.md)."""

from __future__ import annotations

from kiosk.contract import (
    AccountsParams,
    AccountsResult,
    BenefitsParams,
    BenefitsResult,
    ContributionsParams,
    ContributionsResult,
    InsuranceKind,
    PersonParams,
    PersonSummary,
    RpcMethod,
    YearlyParams,
    YearlySeries,
)
from kiosk.services.central_session import CentralSession
from kiosk.services.errors import call
from kiosk.sync.rpc import RpcClient

__all__ = ["InquiryService"]


class InquiryService:
    """Read-only queries of the session's holder. Blocking: off the UI thread.

    Errors: kiosk/services/errors.py (`ForbiddenError`, `NotFoundError`, `UnreachableError`,
    `UnknownOutcomeError`)."""

    def __init__(self, rpc: RpcClient) -> None:
        self._rpc = rpc

    def person(self, session: CentralSession) -> PersonSummary:
        """Identity, status, insurances, card activation and wallet balance."""
        return call(
            self._rpc,
            RpcMethod.PERSON_SUMMARY,
            PersonParams(id_number=session.id_number, card_number=session.card_number),
            PersonSummary,
            token=session.token,
        )

    def contributions(
        self,
        session: CentralSession,
        insurance: InsuranceKind,
        from_period: str,
        to_period: str,
        *,
        page: int = 1,
        page_size: int = 12,
    ) -> ContributionsResult:
        """One page of monthly records of one insurance (oldest first); `pages` says how many."""
        return call(
            self._rpc,
            RpcMethod.CONTRIBUTIONS,
            ContributionsParams(
                id_number=session.id_number,
                insurance=insurance,
                from_period=from_period,
                to_period=to_period,
                page=page,
                page_size=page_size,
            ),
            ContributionsResult,
            token=session.token,
        )

    def accounts(self, session: CentralSession) -> AccountsResult:
        """The accumulated pension and medical accounts."""
        return call(
            self._rpc,
            RpcMethod.ACCOUNTS,
            AccountsParams(id_number=session.id_number),
            AccountsResult,
            token=session.token,
        )

    def benefits(self, session: CentralSession, from_period: str, to_period: str) -> BenefitsResult:
        """Benefits received in the periods (bank account masked by the central)."""
        return call(
            self._rpc,
            RpcMethod.BENEFITS,
            BenefitsParams(
                id_number=session.id_number, from_period=from_period, to_period=to_period
            ),
            BenefitsResult,
            token=session.token,
        )

    def yearly(
        self, session: CentralSession, insurance: InsuranceKind, from_year: int, to_year: int
    ) -> YearlySeries:
        """A per-year series (months paid, average base, amounts) for the chart."""
        return call(
            self._rpc,
            RpcMethod.CONTRIBUTIONS_YEARLY,
            YearlyParams(
                id_number=session.id_number,
                insurance=insurance,
                from_year=from_year,
                to_year=to_year,
            ),
            YearlySeries,
            token=session.token,
        )
