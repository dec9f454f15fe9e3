"""e-SSC QR login: the citizen shows the electronic social security card's QR code to the camera
instead of inserting the card (docs/essc-login.md).

The code is opaque: the kiosk passes its text unchanged to the central system, which checks it
(signature, expiry, one-time use, terminal binding, revocation) and opens a session that stands
in for card + PIN, minus what only the card can do (card writes, PIN change, face and
fingerprint steps). The kiosk never stores the code; logs carry only its hash.
"""

from __future__ import annotations

import logging

from drivers.camera.qr import payload_hash
from kiosk.contract import EsscLoginParams, RpcMethod, SessionTokenResult
from kiosk.services.central_session import CentralSession, session_from_result
from kiosk.services.errors import ForbiddenError, call
from kiosk.sync.rpc import RpcClient

__all__ = ["EsscLoginClient"]

_log = logging.getLogger("kiosk.services.essc")


class EsscLoginClient:
    """Redeems an e-SSC code for a central session. Blocking: off the UI thread.

    Errors: `ForbiddenError` (expired, used, another terminal's, forged), `CardLostError`
    (the holder's card is reported lost: the e-SSC is revoked with it), `UnreachableError`."""

    def __init__(self, rpc: RpcClient) -> None:
        self._rpc = rpc

    def login(self, code: str) -> CentralSession:
        if not 8 <= len(code) <= 1024:
            raise ForbiddenError("this is not an e-SSC code")
        _log.info("e-SSC login with code %s", payload_hash(code))
        result = call(
            self._rpc, RpcMethod.ESSC_LOGIN, EsscLoginParams(token=code), SessionTokenResult
        )
        return session_from_result(result)
