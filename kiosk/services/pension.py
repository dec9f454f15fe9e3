"""Pension qualification (领取养老金资格认证, "survival"): card + face with liveness against the
central's reference photo; the central records the year's qualification once per key."""

from __future__ import annotations

from kiosk.contract import PensionQualification, PensionQualifyParams, RpcMethod, new_msg_id
from kiosk.services.central_session import CentralSession
from kiosk.services.errors import call
from kiosk.sync.rpc import RpcClient

__all__ = ["PensionService"]


class PensionService:
    """Records the qualification of a session elevated with a face proof."""

    def __init__(self, rpc: RpcClient) -> None:
        self._rpc = rpc

    def qualify(
        self, session: CentralSession, year: int, *, request_key: str | None = None
    ) -> PensionQualification:
        """Record `year`'s qualification (`ForbiddenError` without the face credential;
        `DeclinedError` for a person who draws no pension)."""
        return call(
            self._rpc,
            RpcMethod.PENSION_QUALIFY,
            PensionQualifyParams(
                request_key=request_key or new_msg_id(), id_number=session.id_number, year=year
            ),
            PensionQualification,
            token=session.token,
        )
