"""The bank card number: the SSC's UnionPay debit application or a separate bank card; swap step.

Flow (EMV Book 1 §12, Book 3 §10): find the application through the PSE (`1PAY.SYS.DDF01`
directory records) or, failing that, by AID; SELECT it, build the GPO data from its PDOL (9F38),
GET PROCESSING OPTIONS (answer format 80 or 77), then READ RECORD along the AFL until tag 5A
(or track 2 equivalent data 57). No money moves: the transaction type is a balance inquiry and
nothing after the record reads is sent. The PAN exists only as `Masked`.

The swap step lets a citizen show a separate bank card in the same reader: `SwapStep` remembers
the SSC's identity (ATR and card identification code), and re-checks that the card coming back
is the same one.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from drivers.card.apdu import SSSE_AID, CommandApdu, ResponseApdu, read_record, select_by_name
from drivers.card.emv import (
    PSE_NAME,
    UNIONPAY_DEBIT_AID,
    DirectoryEntry,
    EmvFormatError,
    gpo_command_data,
    pan_from_record_data,
    pan_from_track2,
    parse_fci,
    parse_gpo_response,
    parse_pse_record,
    parse_tlv,
    terminal_values,
)
from drivers.card.errors import CardDataError, CardError, CardTimeoutError, StatusWordError
from drivers.card.psam import ApduChannel
from drivers.card.status import describe
from drivers.personal import Masked
from drivers.vocabulary import ErrorCode

__all__ = [
    "DEFAULT_AIDS",
    "MAX_BANK_APDUS",
    "BankCard",
    "CardIdentity",
    "CardSwappedError",
    "NoBankApplicationError",
    "SwapStep",
    "read_bank_card",
    "read_card_identity",
]

# UnionPay debit, credit, quasi-credit (PBOC); the SSC's financial application is the first.
DEFAULT_AIDS = (
    UNIONPAY_DEBIT_AID,
    bytes.fromhex("A000000333010102"),
    bytes.fromhex("A000000333010103"),
)
_log = logging.getLogger("drivers.card.bank")

# What one bank read may cost a card, whatever it answers (a real UnionPay card needs about 10
# commands: PSE, its record, SELECT, GPO and a handful of records).
MAX_BANK_APDUS = 64  # every command of one read, PSE and all candidates together
MAX_APPLICATION_RECORDS = 24  # records followed along one application's AFL
MAX_CANDIDATES = 6  # applications tried (PSE entries, then the known AIDs)
DEFAULT_DEADLINE_S = 10.0  # the whole read, on the monotonic clock


class NoBankApplicationError(CardError):
    """Neither the PSE nor any known AID leads to a payment application with a PAN."""

    code = ErrorCode.CARD_UNREADABLE


class CardSwappedError(CardError):
    """The card that came back after the swap step is not the social security card that left."""

    # No dedicated vocabulary code: a swapped card is an authentication failure of the session.
    code = ErrorCode.CARD_AUTH_FAILED


@dataclass(frozen=True, slots=True)
class BankCard:
    """A bank card number read from a card; the PAN is masked in str/repr/JSON."""

    pan: Masked
    aid: bytes
    label: str
    found_by: str  # "pse" or "aid"
    gpo_format: int  # 1 (tag 80) or 2 (tag 77)


class _Budget:
    """An `ApduChannel` that refuses to send past the command budget or the deadline, so a
    card's answers cost bounded time whatever they ask for (an AFL of 16,000 records)."""

    def __init__(
        self, channel: ApduChannel, *, deadline_s: float, clock: Callable[[], float]
    ) -> None:
        self._channel = channel
        self._clock = clock
        self._deadline_s = deadline_s
        self._end = clock() + deadline_s
        self.sent = 0

    def transmit(self, apdu: CommandApdu) -> ResponseApdu:
        if self.sent >= MAX_BANK_APDUS:
            raise CardDataError(
                f"the card needs more than {MAX_BANK_APDUS} commands for its number"
            )
        if self._clock() > self._end:
            raise CardTimeoutError(f"bank card read: not finished within {self._deadline_s:g} s")
        self.sent += 1
        return self._channel.transmit(apdu)

    def transaction(self) -> AbstractContextManager[object]:
        return self._channel.transaction()


def _transmit_ok(channel: ApduChannel, apdu: CommandApdu, what: str) -> bytes:
    resp = channel.transmit(apdu)
    if not resp.ok:
        raise StatusWordError(f"{what}: {describe(resp.sw1, resp.sw2)}", resp.sw1, resp.sw2)
    return resp.data


def _pse_entries(channel: ApduChannel) -> tuple[DirectoryEntry, ...]:
    """Directory entries of the PSE, or () when the card has no PSE."""
    resp = channel.transmit(select_by_name(PSE_NAME, le=256))
    if not resp.ok:
        _log.debug("no PSE (SW %04X)", resp.sw)
        return ()
    try:
        fci = parse_fci(resp.data)
    except EmvFormatError as e:
        _log.info("PSE FCI unreadable: %s", e)
        return ()
    if fci.entries:
        return fci.entries
    if fci.sfi is None:
        return ()
    entries: list[DirectoryEntry] = []
    for number in range(1, 17):
        rec = channel.transmit(read_record(number, (fci.sfi << 3) | 0x04, 256))
        if rec.sw == 0x6A83:
            break
        if not rec.ok:
            raise StatusWordError(
                f"PSE READ RECORD {number}: {describe(rec.sw1, rec.sw2)}", rec.sw1, rec.sw2
            )
        try:
            entries.extend(parse_pse_record(rec.data))
        except EmvFormatError as e:
            raise CardDataError(f"PSE record {number}: {e}") from None
    return tuple(sorted(entries, key=DirectoryEntry.sort_key))


def _read_application(
    channel: ApduChannel,
    aid: bytes,
    values: dict[int, bytes],
) -> tuple[Masked, str, int] | None:
    """SELECT, GPO and READ RECORDs of one application; None when the AID is not on the card."""
    resp = channel.transmit(select_by_name(aid, le=256))
    if resp.sw in (0x6A82, 0x6A81, 0x6283):
        return None
    if not resp.ok:
        raise StatusWordError(f"SELECT AID: {describe(resp.sw1, resp.sw2)}", resp.sw1, resp.sw2)
    try:
        fci = parse_fci(resp.data)
        gpo_data = gpo_command_data(fci.pdol, values)
        answer = _transmit_ok(
            channel, CommandApdu(0x80, 0xA8, 0x00, 0x00, gpo_data, le=256), "GET PROCESSING OPTIONS"
        )
        gpo = parse_gpo_response(answer)
        if gpo.track2 is not None:
            return pan_from_track2(gpo.track2), fci.label, gpo.response_format
        read = 0
        for entry in gpo.afl:
            for number in entry.records():
                if read == MAX_APPLICATION_RECORDS:
                    raise CardDataError(
                        f"no card number in the first {MAX_APPLICATION_RECORDS} records of the AFL"
                    )
                read += 1
                data = _transmit_ok(
                    channel, read_record(number, (entry.sfi << 3) | 0x04, 256), "READ RECORD"
                )
                # Only this record: earlier ones held no PAN (or we would have returned), and
                # searching them all again made a long AFL quadratic.
                pan = pan_from_record_data(parse_tlv(data))
                if pan is not None:
                    return pan, fci.label, gpo.response_format
    except EmvFormatError as e:
        raise CardDataError(f"payment application data is malformed: {e}") from None
    return None


def read_bank_card(
    channel: ApduChannel,
    *,
    aids: Sequence[bytes] = DEFAULT_AIDS,
    use_pse: bool = True,
    today: dt.date | None = None,
    random: Callable[[int], bytes] = os.urandom,
    deadline_s: float = DEFAULT_DEADLINE_S,
    clock: Callable[[], float] = time.monotonic,
) -> BankCard:
    """Read the PAN of the card in the reader (the SSC's financial app or a bank card).

    The PSE is tried first (applications in its priority order), then each AID of `aids`.
    Runs in one card transaction, at most `MAX_BANK_APDUS` commands within `deadline_s`.
    Raises `NoBankApplicationError`, `CardDataError` for malformed EMV data or a card that asks
    for too much, `CardTimeoutError` past the deadline, `StatusWordError` for a refusal, and the
    channel's `CardError`s.
    """
    values = terminal_values(unpredictable=random(4), today=today or dt.date.today())
    channel = _Budget(channel, deadline_s=deadline_s, clock=clock)
    with channel.transaction():
        candidates: list[tuple[bytes, str]] = []
        if use_pse:
            candidates += [(e.aid, "pse") for e in _pse_entries(channel)]
        candidates += [(aid, "aid") for aid in aids if aid not in {c[0] for c in candidates}]
        for aid, how in candidates[:MAX_CANDIDATES]:
            found = _read_application(channel, aid, values)
            if found is not None:
                pan, label, fmt = found
                _log.info("bank number %s read by %s (GPO format %d)", pan, how, fmt)
                return BankCard(pan, aid, label, how, fmt)
    raise NoBankApplicationError("no payment application with a card number on this card")


# --- swap step -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CardIdentity:
    """What identifies one physical SSC: its ATR and its card identification code (EF05 01)."""

    atr: bytes
    card_id: bytes

    def __repr__(self) -> str:
        # The card id is not personal data, but it is a stable tracker: show its tail only.
        return f"CardIdentity(atr={self.atr.hex().upper()}, card_id=…{self.card_id[-2:].hex()})"


def read_card_identity(channel: ApduChannel, atr: bytes) -> CardIdentity:
    """SELECT SSSE and READ RECORD EF05 tag 01 (free to read on every generation).

    Raises `StatusWordError` when the card has no SSSE (e.g. a plain bank card).
    """
    with channel.transaction():
        _transmit_ok(channel, select_by_name(SSSE_AID), "SELECT SSSE")
        _transmit_ok(channel, CommandApdu(0x00, 0xA4, 0x02, 0x00, b"\xef\x05"), "SELECT EF05")
        data = _transmit_ok(channel, read_record(0x01, 0x00, 0x12), "READ RECORD 01")
    if len(data) != 0x12 or data[0] != 0x01 or data[1] != 0x10:
        raise CardDataError("EF05 tag 01 is not a 16-byte card identification code")
    return CardIdentity(bytes(atr), bytes(data[2:]))


class SwapStep:
    """The bank-card swap step: the SSC leaves, a bank card is read, the same SSC must return.

    Usage: `step = SwapStep(ssc_identity)`; when a card is inserted, `step.is_ssc(identity)`
    tells whether the SSC came back early; read the bank card with `read_bank_card`; then
    `step.check_return(identity)` on the next SSC insertion (raises `CardSwappedError`).
    """

    def __init__(self, ssc: CardIdentity) -> None:
        self._ssc = ssc
        self._bank: BankCard | None = None

    @property
    def bank_card(self) -> BankCard | None:
        return self._bank

    def record_bank_card(self, card: BankCard) -> None:
        self._bank = card

    def is_ssc(self, identity: CardIdentity | None) -> bool:
        return identity is not None and identity == self._ssc

    def check_return(self, identity: CardIdentity | None) -> None:
        """Accept only the same SSC (same ATR and card identification code)."""
        if not self.is_ssc(identity):
            _log.warning("another card came back after the swap step: refused")
            raise CardSwappedError(
                "this is not the social security card that was taken out; insert that card"
            )
