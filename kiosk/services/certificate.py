"""Insured certificate (参保证明): the central issues a signed document with the holder masked,
the insured periods and a verification code; a code can be verified later by anyone."""

from __future__ import annotations

from kiosk.contract import (
    CertificateParams,
    CertificateVerifyParams,
    CertificateVerifyResult,
    InsuranceKind,
    InsuredCertificate,
    RpcMethod,
    new_msg_id,
)
from kiosk.services.central_session import CentralSession
from kiosk.services.errors import call
from kiosk.sync.rpc import RpcClient

__all__ = ["CertificateService"]


class CertificateService:
    """Issue (card + PIN) and verify (no session) insured certificates."""

    def __init__(self, rpc: RpcClient) -> None:
        self._rpc = rpc

    def issue(
        self,
        session: CentralSession,
        *,
        insurances: list[InsuranceKind] | None = None,
        request_key: str | None = None,
    ) -> InsuredCertificate:
        """The holder's certificate; the same `request_key` gives the same certificate back."""
        return call(
            self._rpc,
            RpcMethod.CERTIFICATE_ISSUE,
            CertificateParams(
                request_key=request_key or new_msg_id(),
                id_number=session.id_number,
                insurances=list(insurances or []),
            ),
            InsuredCertificate,
            token=session.token,
        )

    def verify(self, verification_code: str) -> CertificateVerifyResult:
        """Whether a code names a certificate the central issued (and its signature checks)."""
        return call(
            self._rpc,
            RpcMethod.CERTIFICATE_VERIFY,
            CertificateVerifyParams(verification_code=verification_code.strip().upper()),
            CertificateVerifyResult,
        )
