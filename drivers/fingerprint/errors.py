"""Typed errors of the fingerprint layer, each with a stable `ErrorCode` and the raw module code."""

from __future__ import annotations

from drivers.fingerprint.codec import confirm_meaning
from drivers.vocabulary import ErrorCode

__all__ = [
    "CaptureTimeoutError",
    "FingerprintDisconnectedError",
    "FingerprintError",
    "FingerprintLinkError",
    "FingerprintModuleError",
    "FingerprintProtocolError",
    "FingerprintTimeoutError",
    "PasswordError",
    "PoorImageError",
]


class FingerprintError(Exception):
    """Root of the fingerprint errors. `code` is stable (ui translates it); `raw` is the module's
    confirmation code when there is one."""

    code: ErrorCode = ErrorCode.FINGERPRINT_MODULE

    def __init__(self, message: str, *, raw: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.raw = raw

    def __str__(self) -> str:
        if self.raw is None:
            return self.message
        return f"{self.message} (confirmation code 0x{self.raw:02X})"


class FingerprintLinkError(FingerprintError):
    """The serial link failed: no port, no answer, or frames that never check out."""

    code = ErrorCode.FINGERPRINT_LINK


class FingerprintDisconnectedError(FingerprintLinkError):
    """The port vanished (USB-serial adapter unplugged) and did not come back in time."""


class FingerprintTimeoutError(FingerprintLinkError):
    """The module stayed silent (or answered only garbage) after every retry."""


class FingerprintProtocolError(FingerprintLinkError):
    """Frames arrived but kept failing their checksum, or a reply had the wrong shape."""


class FingerprintModuleError(FingerprintError):
    """The module answered with an error confirmation code."""

    code = ErrorCode.FINGERPRINT_MODULE

    def __init__(self, instruction: str, raw: int) -> None:
        super().__init__(f"{instruction} failed: {confirm_meaning(raw)}", raw=raw)
        self.instruction = instruction


class PasswordError(FingerprintModuleError):
    """The module refused the configured password (0x13) or demands one (0x21)."""


class CaptureTimeoutError(FingerprintError):
    """No finger was placed (or lifted) within the capture time."""

    code = ErrorCode.FINGER_TIMEOUT


class PoorImageError(FingerprintModuleError):
    """The image could not be turned into features (too dry, wet, disorderly, too few points)."""

    code = ErrorCode.FINGER_POOR_IMAGE
