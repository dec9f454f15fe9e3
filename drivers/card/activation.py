"""The medical-insurance activation record in DF04/EF05 (docs/card-security.md §4, [ours]): codec,
write, read-back.

Record 1 = `60 13` status(1) ‖ date (BCD YYYYMMDD) ‖ PSAM terminal number (BCD, 6) ‖ the first 8
bytes of SHA-256 of the transaction's idempotency key. The write runs VERIFY PIN, EXTERNAL
AUTHENTICATE KID 0B and UPDATE RECORD in one card transaction, then reads the record back and
compares it byte for byte. When the read-back cannot be done (card pulled, power lost) the
outcome is unknown: `ActivationWriteUnconfirmedError` tells the saga to probe later with
`read_activation_record()`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from drivers.card.apdu import CommandApdu, read_record, select_fid, update_record
from drivers.card.errors import CardDataError, CardError, StatusWordError
from drivers.card.psam import ApduChannel
from drivers.card.security import CardAuthenticator
from drivers.card.status import Context, check
from drivers.vocabulary import ErrorCode

__all__ = [
    "ACTIVATION_TAG",
    "DF04",
    "ActivationRecord",
    "ActivationWriteFailedError",
    "ActivationWriteRefusedError",
    "ActivationWriteUnconfirmed",
    "ActivationWriteUnconfirmedError",
    "key_digest",
    "read_activation_record",
    "write_activation_record",
]

DF04 = 0xDF04
EF05 = 0xEF05
ACTIVATION_TAG = 0x60
RECORD_LEN = 19
_log = logging.getLogger("drivers.card.activation")

PinVerifier = Callable[[], None]


class ActivationWriteRefusedError(StatusWordError):
    """The card refused the UPDATE RECORD (e.g. 6982: PIN or UK authentication missing)."""

    code = ErrorCode.CARD_WRITE_FAILED


class ActivationWriteFailedError(CardError):
    """The read-back differs from what was written: the card does not hold the record."""

    code = ErrorCode.CARD_WRITE_FAILED


class ActivationWriteUnconfirmedError(CardError):
    """The write may or may not have happened (no answer, or no read-back): probe later.

    `expected` is the record that was being written; compare it with
    `read_activation_record()` when the card is back.
    """

    code = ErrorCode.CARD_WRITE_FAILED

    def __init__(self, message: str, expected: ActivationRecord) -> None:
        super().__init__(message)
        self.expected = expected


# The name the sync issue's saga code was promised (helper brief): same class.
ActivationWriteUnconfirmed = ActivationWriteUnconfirmedError


def key_digest(idempotency_key: str) -> bytes:
    """First 8 bytes of SHA-256 of the idempotency key (UTF-8): ties the record to its saga."""
    return hashlib.sha256(idempotency_key.encode("utf-8")).digest()[:8]


def _bcd(digits: str) -> bytes:
    return bytes.fromhex(digits)


def _digits(data: bytes) -> str:
    text = data.hex()
    if not text.isdigit():
        raise CardDataError("activation record holds a non-BCD value")
    return text


@dataclass(frozen=True, slots=True)
class ActivationRecord:
    """Decoded activation record. `date` is None in a blank (never activated) record."""

    activated: bool
    date: dt.date | None
    terminal_number: str  # 12 digits
    key_digest: bytes  # 8 bytes

    @classmethod
    def for_activation(
        cls, *, date: dt.date, terminal_number: str, idempotency_key: str
    ) -> ActivationRecord:
        """The record an activation writes."""
        return cls(True, date, terminal_number, key_digest(idempotency_key))

    def matches_key(self, idempotency_key: str) -> bool:
        """True when this record was written by the saga with that key."""
        return self.activated and self.key_digest == key_digest(idempotency_key)

    def encode(self) -> bytes:
        """The 21-byte TLV `60 13 …`; raises `ValueError` on a bad field."""
        if len(self.terminal_number) != 12 or not self.terminal_number.isdigit():
            raise ValueError("terminal number is 12 digits")
        if len(self.key_digest) != 8:
            raise ValueError("key digest is 8 bytes")
        date = self.date.strftime("%Y%m%d") if self.date else "00000000"
        value = (
            bytes([1 if self.activated else 0])
            + _bcd(date)
            + _bcd(self.terminal_number)
            + bytes(self.key_digest)
        )
        return bytes([ACTIVATION_TAG, RECORD_LEN]) + value

    @classmethod
    def decode(cls, tlv: bytes) -> ActivationRecord:
        """Parse the TLV `60 13 …`; raises `CardDataError` on anything impossible."""
        if len(tlv) != RECORD_LEN + 2 or tlv[0] != ACTIVATION_TAG or tlv[1] != RECORD_LEN:
            raise CardDataError("activation record is not a 19-byte tag 60 record")
        v = tlv[2:]
        if v[0] not in (0, 1):
            raise CardDataError(f"activation status {v[0]:02X} is neither 00 nor 01")
        date_digits = _digits(v[1:5])
        date: dt.date | None = None
        if date_digits != "00000000":
            try:
                date = dt.datetime.strptime(date_digits, "%Y%m%d").date()
            except ValueError:
                raise CardDataError("activation date is not a calendar date") from None
        return cls(v[0] == 1, date, _digits(v[5:11]), bytes(v[11:19]))


def _select(channel: ApduChannel, apdu: CommandApdu) -> None:
    resp = channel.transmit(apdu)
    check(resp.sw1, resp.sw2, Context.SELECT)


def _select_df04(channel: ApduChannel) -> None:
    # P1=00 (MF/DF/EF by FID): DF04 is selectable from the MF or from SSSE (docs/card-security.md
    # §4).
    _select(channel, CommandApdu(0x00, 0xA4, 0x00, 0x00, DF04.to_bytes(2, "big")))


def _read_record(channel: ApduChannel) -> ActivationRecord:
    resp = channel.transmit(read_record(1, 0x04, RECORD_LEN + 2))
    check(resp.sw1, resp.sw2, Context.READ)
    return ActivationRecord.decode(resp.data)


def read_activation_record(channel: ApduChannel, verify_pin: PinVerifier) -> ActivationRecord:
    """Read record 1 of DF04/EF05 (the saga's recovery probe). Needs the PIN in this session.

    `verify_pin` runs VERIFY (the caller owns the PIN; it is called after SELECT DF04). Raises
    `SecurityStatusError` without the PIN, `CardDataError` for an impossible record.
    """
    with channel.transaction():
        _select_df04(channel)
        verify_pin()
        _select(channel, select_fid(EF05))
        return _read_record(channel)


def write_activation_record(
    channel: ApduChannel,
    authenticator: CardAuthenticator,
    record: ActivationRecord,
    verify_pin: PinVerifier,
) -> ActivationRecord:
    """Write `record` and prove it by reading it back; returns the record read back.

    In one card transaction: SELECT DF04, `verify_pin()`, EXTERNAL AUTHENTICATE KID 0B (UK),
    SELECT EF05, UPDATE RECORD 1, READ RECORD 1. Raises the PIN and authentication errors
    unchanged (nothing written), `ActivationWriteRefusedError` when the card refuses the
    update, `ActivationWriteFailedError` when the read-back differs, and
    `ActivationWriteUnconfirmedError` when, once the UPDATE was sent, no status word came back
    for it or for the read-back (card pulled, power lost, reader gone, timeout): the write may
    have landed, so the saga probes with `read_activation_record`.
    """
    encoded = record.encode()
    stage = "before"  # "update" once the UPDATE RECORD may have reached the card, then "read"
    try:
        with channel.transaction():
            _select_df04(channel)
            verify_pin()
            authenticator.authenticate_update()
            _select(channel, select_fid(EF05))
            stage = "update"
            resp = channel.transmit(update_record(1, 0x04, encoded))
            if not resp.ok:
                _log.warning("activation write refused: SW %04X", resp.sw)
                raise ActivationWriteRefusedError(
                    "the card refused the activation record", resp.sw1, resp.sw2
                )
            stage = "read"
            back = channel.transmit(read_record(1, 0x04, RECORD_LEN + 2))
    except StatusWordError:
        raise  # the card answered: refused, or PIN/authentication errors before the write
    except CardError as e:
        # No status word after the UPDATE was sent: whatever the transport says (removed,
        # reset, reader gone, timeout), nobody knows whether the card committed the record.
        if stage == "before":
            raise
        when = "while" if stage == "update" else "after"
        _log.warning("no answer %s the activation write (%s): outcome unknown", when, e.code)
        raise ActivationWriteUnconfirmedError(
            f"the card did not answer {when} the activation record was written "
            f"({e.message}); the write may have landed",
            record,
        ) from None
    if not back.ok:
        raise ActivationWriteUnconfirmedError(
            f"the activation record could not be read back (SW {back.sw:04X})", record
        )
    if back.data != encoded:
        _log.warning("activation read-back differs from the record written")
        raise ActivationWriteFailedError(
            "the card does not hold the activation record just written"
        )
    _log.info("activation record written and read back")
    return ActivationRecord.decode(back.data)
