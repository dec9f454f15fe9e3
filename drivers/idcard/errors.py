"""Typed errors of the ID card reader, each with a stable `ErrorCode` (ui translates it)."""

from __future__ import annotations

from drivers.vocabulary import ErrorCode

__all__ = [
    "IdCardDataError",
    "IdCardDisconnectedError",
    "IdCardError",
    "IdCardFrameError",
    "IdCardLinkError",
    "IdCardModuleError",
    "IdCardNoCardError",
    "IdCardRemovedError",
    "IdCardTimeoutError",
]


class IdCardError(Exception):
    """Root of the ID card reader's errors; `sw3` is the module's status byte when there is one."""

    code: ErrorCode = ErrorCode.IDCARD_MODULE

    def __init__(self, message: str, *, sw3: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.sw3 = sw3

    def __str__(self) -> str:
        return self.message if self.sw3 is None else f"{self.message} (SW3 0x{self.sw3:02X})"


class IdCardFrameError(IdCardError):
    """Bytes that are not a well-formed frame (bad length, bad XOR, impossible layout)."""

    code = ErrorCode.IDCARD_LINK


class IdCardDataError(IdCardError):
    """The card's text is impossible (bad check digit, no real date, unknown card type...)."""

    code = ErrorCode.IDCARD_DATA_INVALID


class IdCardLinkError(IdCardError):
    """The serial link failed: no port, no answer, or frames that never check out."""

    code = ErrorCode.IDCARD_LINK


class IdCardTimeoutError(IdCardLinkError):
    """The module stayed silent (or answered only garbage) after every retry."""


class IdCardDisconnectedError(IdCardLinkError):
    """The port vanished (adapter unplugged) and did not come back in time."""


class IdCardModuleError(IdCardError):
    """The module answered with an error status (SW3)."""

    code = ErrorCode.IDCARD_MODULE


class IdCardNoCardError(IdCardModuleError):
    """No card on the reader (SW3 0x80 to find, 0x81 to select)."""

    code = ErrorCode.IDCARD_NO_CARD


class IdCardRemovedError(IdCardModuleError):
    """The card was moved away in the middle of a read: nothing partial is returned."""

    code = ErrorCode.IDCARD_NO_CARD
