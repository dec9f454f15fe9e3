"""The card layer's error hierarchy: one root (`CardError`) with a stable `code` and the raw
status word or PC/SC hresult kept for diagnosis."""

from __future__ import annotations

from drivers.vocabulary import ErrorCode

__all__ = [
    "AuthenticationFailedError",
    "CardDataError",
    "CardError",
    "CardProtocolError",
    "CardRemovedError",
    "CardTimeoutError",
    "KeyBlockedError",
    "NoCardError",
    "NotSscCardError",
    "PinBlockedError",
    "PinEntryCancelledError",
    "PinNotEnabledError",
    "PinPadUnavailableError",
    "PinWrongError",
    "ReaderError",
    "ReaderMissingError",
    "SecurityStatusError",
    "StatusWordError",
]


class CardError(Exception):
    """Root of every card-layer error.

    `code` is the stable `ErrorCode` the UI translates; `message` is a human sentence; `sw1`/`sw2`
    (card status word) or `hresult` (PC/SC) keep the raw code. `str()` shows both.
    """

    code: ErrorCode = ErrorCode.CARD_UNREADABLE

    def __init__(
        self,
        message: str,
        *,
        sw1: int | None = None,
        sw2: int | None = None,
        hresult: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.sw1 = sw1
        self.sw2 = sw2
        self.hresult = hresult

    @property
    def sw(self) -> int | None:
        """The status word as one int (0x6982), or None when the card did not answer one."""
        if self.sw1 is None or self.sw2 is None:
            return None
        return (self.sw1 << 8) | self.sw2

    def __str__(self) -> str:
        raw = []
        if self.sw is not None:
            raw.append(f"SW {self.sw:04X}")
        if self.hresult is not None:
            raw.append(f"hresult 0x{self.hresult & 0xFFFFFFFF:08X}")
        return f"{self.message} ({', '.join(raw)})" if raw else self.message


class ReaderError(CardError):
    """The reader or the PC/SC service failed (pcscd down, reader unplugged, driver error)."""

    code = ErrorCode.READER_ERROR


class ReaderMissingError(ReaderError):
    """No reader, or none matching the configured name."""

    code = ErrorCode.READER_MISSING


class CardRemovedError(CardError):
    """The card left the reader (before or during a command); nothing read is kept."""

    code = ErrorCode.CARD_REMOVED


class NoCardError(CardRemovedError):
    """There is no card in the reader."""


class CardTimeoutError(CardError):
    """A wait ran out: no card inserted in time, or the card did not answer a command."""

    code = ErrorCode.CARD_TIMEOUT


class CardProtocolError(CardError):
    """The card's answer breaks the transmission protocol (endless 61xx/6Cxx, short answer)."""

    code = ErrorCode.CARD_PROTOCOL


class CardDataError(CardError):
    """A record holds impossible data (bad BCD date, wrong length, undecodable GBK name)."""

    code = ErrorCode.CARD_DATA_INVALID


class NotSscCardError(CardError):
    """The card has no social security (SSSE) application."""

    code = ErrorCode.CARD_NOT_SSC


class PinPadUnavailableError(ReaderError):
    """PIN pad entry was asked for, but the reader has no PC/SC part 10 secure PIN entry."""


class PinEntryCancelledError(CardError):
    """The citizen cancelled PIN entry on the reader's PIN pad (reader answer 6401)."""

    code = ErrorCode.PIN_ENTRY_CANCELLED


class StatusWordError(CardError):
    """The card answered a status word other than success; `sw1`/`sw2` hold it."""

    code = ErrorCode.CARD_STATUS

    def __init__(self, message: str, sw1: int, sw2: int) -> None:
        super().__init__(message, sw1=sw1, sw2=sw2)


class SecurityStatusError(StatusWordError):
    """6982: the security state is not satisfied (PIN or external authentication missing)."""

    code = ErrorCode.CARD_STATUS


class PinWrongError(StatusWordError):
    """63Cx after VERIFY/CHANGE PIN: wrong PIN, `tries_left` attempts remain."""

    code = ErrorCode.PIN_WRONG

    def __init__(self, message: str, sw1: int, sw2: int) -> None:
        super().__init__(message, sw1, sw2)
        self.tries_left = sw2 & 0x0F


class PinBlockedError(StatusWordError):
    """6983 after VERIFY/CHANGE PIN: the PIN is blocked."""

    code = ErrorCode.PIN_BLOCKED


class PinNotEnabledError(StatusWordError):
    """6984 after VERIFY: the card's PIN has not been enabled yet."""

    code = ErrorCode.PIN_NOT_ENABLED


class AuthenticationFailedError(StatusWordError):
    """63Cx after EXTERNAL AUTHENTICATE: wrong cryptogram; `tries_left` tries of the key remain."""

    code = ErrorCode.CARD_AUTH_FAILED

    def __init__(self, message: str, sw1: int, sw2: int) -> None:
        super().__init__(message, sw1, sw2)
        self.tries_left = sw2 & 0x0F


class KeyBlockedError(StatusWordError):
    """6983 outside PIN commands: the authentication key is blocked."""

    code = ErrorCode.CARD_AUTH_FAILED
