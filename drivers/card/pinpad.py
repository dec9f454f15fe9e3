"""Secure PIN entry on the reader's PIN pad (PC/SC part 10 VERIFY_PIN_DIRECT /
MODIFY_PIN_DIRECT): feature detection, the PIN_VERIFY/PIN_MODIFY structures (built here, pure)
and the mapping of the reader's answers. The PIN never reaches Python on this path."""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable
from typing import Any

from smartcard.Exceptions import SmartcardException
from smartcard.pcsc.PCSCPart10 import (
    FEATURE_MODIFY_PIN_DIRECT,
    FEATURE_VERIFY_PIN_DIRECT,
    getFeatureRequest,
    hasFeature,
)

from drivers.card.apdu import ResponseApdu
from drivers.card.errors import (
    CardTimeoutError,
    PinEntryCancelledError,
    ReaderError,
)
from drivers.card.settings import CardSettings

__all__ = ["ReaderPinPad", "build_modify_structure", "build_verify_structure"]

_log = logging.getLogger("drivers.card.pinpad")

# bmFormatString: bit 7 = position in bytes, bits 6-3 = PIN offset 0 in the APDU data,
# bit 2 = left justified, bits 1-0 = 01 BCD (the card wants packed BCD, docs/card.md §3).
_FORMAT_BCD = 0x81
_VALIDATE_KEY = 0x02  # bEntryValidationCondition: the OK key ends the entry


def _pin_bytes(pin_length: int) -> int:
    return (pin_length + 1) // 2


def build_verify_structure(settings: CardSettings) -> bytes:
    """PIN_VERIFY_STRUCTURE (PC/SC part 10 v2.02 §2.5.2) for `00 20 00 00 Lc <BCD PIN>`.

    The reader fills the `FF` placeholder bytes with the digits typed on its keypad.
    """
    n = _pin_bytes(settings.pin_length)
    apdu = bytes((0x00, 0x20, 0x00, 0x00, n)) + b"\xff" * n
    return (
        struct.pack(
            "<BBBBBHBBHB3sI",
            settings.pin_pad_timeout_s,  # bTimerOut
            settings.pin_pad_timeout_s,  # bTimerOut2
            _FORMAT_BCD,  # bmFormatString
            n,  # bmPINBlockString: no length field, block of n bytes
            0x00,  # bmPINLengthFormat
            (settings.pin_length << 8) | settings.pin_length,  # wPINMaxExtraDigit: min, max
            _VALIDATE_KEY,  # bEntryValidationCondition
            0x01,  # bNumberMessage
            settings.pin_pad_lang_id,  # wLangId
            0x00,  # bMsgIndex
            b"\x00\x00\x00",  # bTeoPrologue
            len(apdu),  # ulDataLength
        )
        + apdu
    )


def build_modify_structure(settings: CardSettings) -> bytes:
    """PIN_MODIFY_STRUCTURE (PC/SC part 10 v2.02 §2.5.3) for CHANGE PIN
    `80 5E 01 00 Lc old ‖ FF ‖ new`: old PIN at offset 0, new PIN after the FF separator,
    the new PIN entered twice."""
    n = _pin_bytes(settings.pin_length)
    body = b"\xff" * n + b"\xff" + b"\xff" * n
    apdu = bytes((0x80, 0x5E, 0x01, 0x00, len(body))) + body
    return (
        struct.pack(
            "<BBBBBBBHBBBHBBB3sI",
            settings.pin_pad_timeout_s,  # bTimerOut
            settings.pin_pad_timeout_s,  # bTimerOut2
            _FORMAT_BCD,  # bmFormatString
            n,  # bmPINBlockString
            0x00,  # bmPINLengthFormat
            0x00,  # bInsertionOffsetOld
            n + 1,  # bInsertionOffsetNew: after the old PIN and the FF separator
            (settings.pin_length << 8) | settings.pin_length,  # wPINMaxExtraDigit
            0x03,  # bConfirmPIN: enter the current PIN, confirm the new one
            _VALIDATE_KEY,  # bEntryValidationCondition
            0x03,  # bNumberMessage
            settings.pin_pad_lang_id,  # wLangId
            0x00,  # bMsgIndex1: "enter current PIN"
            0x01,  # bMsgIndex2: "enter new PIN"
            0x02,  # bMsgIndex3: "confirm new PIN"
            b"\x00\x00\x00",  # bTeoPrologue
            len(apdu),  # ulDataLength
        )
        + apdu
    )


def _reader_answer(raw: bytes) -> ResponseApdu:
    if len(raw) < 2:
        raise ReaderError("the PIN pad gave no status word")
    resp = ResponseApdu.from_bytes(raw)
    # Reader-side status words of secure PIN entry (PC/SC part 10 §2.5.2, CCID 6.2.5).
    if resp.sw == 0x6400:
        raise CardTimeoutError("PIN entry on the reader timed out", sw1=0x64, sw2=0x00)
    if resp.sw in (0x6401, 0x6402, 0x6403):
        reason = {0x6401: "cancelled", 0x6402: "the two new PINs differ", 0x6403: "wrong length"}
        raise PinEntryCancelledError(
            f"PIN entry on the reader failed: {reason[resp.sw]}", sw1=resp.sw1, sw2=resp.sw2
        )
    if resp.sw == 0x6B80:
        raise ReaderError("the PIN pad refused the entry parameters", sw1=0x6B, sw2=0x80)
    return resp


class ReaderPinPad:
    """The reader's secure PIN pad. Detect it with `detect()`; `verify()` and `modify()` return
    the card's answer to VERIFY / CHANGE PIN for the caller to check (status.Context.VERIFY).

    `control` sends SCardControl (PcscChannel.control adds the deadline). Blocks while the
    citizen types; called on the session's thread.
    """

    def __init__(
        self,
        control: Callable[[int, bytes], bytes],
        *,
        verify_code: int,
        modify_code: int | None,
        settings: CardSettings,
    ) -> None:
        self._control = control
        self.verify_code = verify_code
        self.modify_code = modify_code
        self._settings = settings

    @classmethod
    def detect(
        cls,
        connection: Any,
        settings: CardSettings,
        control: Callable[[int, bytes], bytes] | None = None,
    ) -> ReaderPinPad | None:
        """Ask the reader for its part 10 features (CM_IOCTL_GET_FEATURE_REQUEST); a PIN pad
        when it offers VERIFY_PIN_DIRECT, else None (also when the reader refuses the query, as
        vpcd does)."""
        try:
            features = getFeatureRequest(connection)
        except SmartcardException as e:
            _log.debug("feature request refused: %s", e.__class__.__name__)
            return None
        verify_code = hasFeature(features, FEATURE_VERIFY_PIN_DIRECT)
        if verify_code is None:
            return None
        modify_code = hasFeature(features, FEATURE_MODIFY_PIN_DIRECT)

        def direct(code: int, data: bytes) -> bytes:
            return bytes(connection.control(code, list(data)))

        return cls(
            control or direct,
            verify_code=int(verify_code),
            modify_code=None if modify_code is None else int(modify_code),
            settings=settings,
        )

    def verify(self) -> ResponseApdu:
        """VERIFY with the PIN typed on the reader; raises on reader-side failures."""
        return _reader_answer(
            self._control(self.verify_code, build_verify_structure(self._settings))
        )

    def modify(self) -> ResponseApdu:
        """CHANGE PIN with old and new PINs typed on the reader."""
        if self.modify_code is None:
            raise ReaderError("the reader's PIN pad cannot change a PIN (no MODIFY_PIN_DIRECT)")
        return _reader_answer(
            self._control(self.modify_code, build_modify_structure(self._settings))
        )
