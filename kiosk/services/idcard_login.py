"""The resident ID card login: the card as the SAM module read it, the live check's statement and
its aligned face crop go to the central, which matches the crop with its own reference photo
and, where its policy allows, opens a records-lookup session (docs/idcard-reader.md).

The kiosk does not match the face (it has no reference for a citizen without the card); it
never stores the crop, and logs only the masked ID number.
"""

from __future__ import annotations

import base64
import logging

from drivers.idcard.layouts import IdCardHolder
from kiosk.contract import IdCardLoginParams, LivenessStatement, RpcMethod, SessionTokenResult
from kiosk.services.central_session import CentralSession, session_from_result
from kiosk.services.errors import call
from kiosk.sync.rpc import RpcClient

__all__ = ["IdCardLoginClient"]

_log = logging.getLogger("kiosk.services.idcard_login")


class IdCardLoginClient:
    """Opens an ID card session at the central. Blocking: off the UI thread.

    Errors: `ForbiddenError` (policy off, deceased, no liveness), `ServiceError` with the
    central's code (``idcard.face_mismatch``, ``idcard.not_recognised``, ``idcard.expired``,
    ``idcard.rate_limited``), `UnreachableError`."""

    def __init__(self, rpc: RpcClient) -> None:
        self._rpc = rpc

    def login(
        self, holder: IdCardHolder, statement: LivenessStatement, chip_jpeg: bytes | bytearray
    ) -> CentralSession:
        params = IdCardLoginParams(
            id_number=holder.id_number.reveal(),
            name=holder.name.reveal(),
            card_type=holder.kind.value,
            valid_until=holder.valid_until.isoformat() if holder.valid_until else "",
            liveness=statement,
            face_jpeg_b64=base64.b64encode(chip_jpeg).decode("ascii"),
        )
        _log.info("ID card login of %s", holder.id_number)  # Masked in the log
        result = call(self._rpc, RpcMethod.IDCARD_LOGIN, params, SessionTokenResult)
        return session_from_result(result)
