"""The holder's fingerprint check: the reference template comes from the central system over
RPC (`fingerprint.reference`), straight into the scanner's RAM, and is wiped after the check.

Nothing of it touches the kiosk's disk: the template is decoded into a `bytearray`, handed to
`FingerprintDriver.verify` (which loads it into char buffer 2 and blanks both buffers after the
match), and zeroed in a `finally`. The central checks the template's integrity by SHA-256; so
does the kiosk before sending it to the module. (The base64 text of the RPC answer is an
immutable `str` the garbage collector frees; Python cannot zero it.)

    result = verify_holder_fingerprint(rpc, scanner, holder.id_number, on_prompt=show)
    if result.matched: ...

The technician commands `kiosk fingerprint enroll --out` / `verify --template` work with files
on purpose (bench tests of a module); the citizen's journey uses only this module.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
from dataclasses import dataclass

from drivers.fingerprint.driver import FingerprintDriver, PromptCallback
from drivers.fingerprint.results import FingerprintMatch
from drivers.personal import Masked, wipe_bytes
from kiosk.contract import (
    FingerprintEnrollParams,
    FingerprintEnrollResult,
    FingerprintParams,
    FingerprintResult,
    RpcMethod,
)
from kiosk.sync.errors import RpcRejectedError
from kiosk.sync.rpc import RpcClient

__all__ = [
    "FingerprintReference",
    "FingerprintReferenceError",
    "NoFingerprintReferenceError",
    "enroll_fingerprint",
    "fetch_fingerprint_reference",
    "verify_holder_fingerprint",
]


class FingerprintReferenceError(Exception):
    """The central's reference template is unusable (bad encoding, failed integrity check)."""

    code = "fingerprint.reference_invalid"


class NoFingerprintReferenceError(FingerprintReferenceError):
    """The central holds no fingerprint template for this person (not enrolled)."""

    code = "fingerprint.reference_missing"


@dataclass(slots=True)
class FingerprintReference:
    """A reference template in memory; `wipe()` zeroes it (done by `verify_holder_fingerprint`)."""

    template: bytearray
    finger: int  # 0-9, ISO finger position - 1

    def wipe(self) -> None:
        wipe_bytes(self.template)
        self.template.clear()

    def __repr__(self) -> str:
        return f"FingerprintReference(<{len(self.template)} bytes>, finger={self.finger})"


def fetch_fingerprint_reference(
    rpc: RpcClient,
    id_number: Masked,
    *,
    finger: int = -1,
    timeout: float | None = None,
    token: str = "",
) -> FingerprintReference:
    """Ask the central for the person's reference template (`finger` -1: the enrolled one).

    Raises `NoFingerprintReferenceError` (not enrolled), `FingerprintReferenceError` (corrupt
    answer), and the RPC client's `OfflineError`, `RpcTimeoutError`, `RpcRejectedError`
    (``forbidden`` without the session token of the holder's present card: `token`, from
    kiosk/services/central_session.py)."""
    params = FingerprintParams(id_number=id_number.reveal(), finger=finger)
    try:
        result = rpc.call(
            RpcMethod.FINGERPRINT_REFERENCE, params, FingerprintResult, timeout=timeout, token=token
        )
    except RpcRejectedError as e:
        if e.remote_code == "not_found":
            raise NoFingerprintReferenceError(
                f"no fingerprint enrolled for {id_number} at the central system"
            ) from None
        raise
    try:
        template = bytearray(binascii.a2b_base64(result.template_b64, strict_mode=True))
    except (binascii.Error, ValueError):
        raise FingerprintReferenceError("the reference template is not valid base64") from None
    if not template or not hmac.compare_digest(hashlib.sha256(template).hexdigest(), result.sha256):
        wipe_bytes(template)
        raise FingerprintReferenceError("the reference template failed its integrity check")
    return FingerprintReference(template, result.finger)


def verify_holder_fingerprint(
    rpc: RpcClient,
    scanner: FingerprintDriver,
    id_number: Masked,
    *,
    finger: int = -1,
    rpc_timeout: float | None = None,
    capture_timeout: float | None = None,
    on_prompt: PromptCallback | None = None,
    token: str = "",
) -> FingerprintMatch:
    """1:1 check of the live finger against the person's reference from the central system.

    Fetches the reference (see `fetch_fingerprint_reference` for its errors), verifies on the
    scanner (`FingerprintDriver.verify`: `CaptureTimeoutError`, `PoorImageError`, link and
    module errors), and wipes the template whatever happens. No file is read or written."""
    reference = fetch_fingerprint_reference(
        rpc, id_number, finger=finger, timeout=rpc_timeout, token=token
    )
    try:
        return scanner.verify(reference.template, timeout=capture_timeout, on_prompt=on_prompt)
    finally:
        reference.wipe()


def enroll_fingerprint(
    rpc: RpcClient,
    template: bytes | bytearray,
    *,
    id_number: str,
    card_number: str,
    enrol_key: str,
    token: str,
    finger: int = 1,
    timeout: float | None = None,
) -> FingerprintEnrollResult:
    """Hand a template enrolled on site to the central as the holder's new reference, once per
    `enrol_key` (a retry after a timeout repeats the same key). The caller wipes `template`;
    only the returned digest reference is kept. `token` must carry card, PIN, face and
    fingerprint (docs/central-trust.md). Raises the RPC client's errors."""
    params = FingerprintEnrollParams(
        enrol_key=enrol_key,
        id_number=id_number,
        card_number=card_number,
        finger=finger,
        template_b64=binascii.b2a_base64(template, newline=False).decode("ascii"),
    )
    result = rpc.call(
        RpcMethod.FINGERPRINT_ENROLL, params, FingerprintEnrollResult, timeout=timeout, token=token
    )
    if not hmac.compare_digest(hashlib.sha256(template).hexdigest(), result.sha256):
        # Another template was recorded under this key before: not the one just enrolled.
        raise FingerprintReferenceError("the central recorded another template for this key")
    return result
