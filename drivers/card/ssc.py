"""The social security (SSSE) application on the user card: select, read EF05/EF06 into a
`CardHolder` (docs/card.md §2.3-§2.5), VERIFY and CHANGE PIN from a keypad buffer or the
reader's PIN pad. Never retries a PIN by itself."""

from __future__ import annotations

import logging
from collections.abc import Callable

from drivers.card import apdu, status
from drivers.card.errors import (
    CardDataError,
    NotSscCardError,
    SecurityStatusError,
    StatusWordError,
)
from drivers.card.holder import (
    EF05_LENGTHS,
    EF06_LENGTHS,
    CardHolder,
    IssuerData,
    parse_holder,
    parse_issuer,
)
from drivers.card.pinpad import ReaderPinPad
from drivers.card.tlv import TlvError, find_ber, parse_ber, parse_record
from drivers.card.transport import CardChannel
from drivers.personal import PinBuffer, wipe_bytes

__all__ = ["EF05", "EF06", "PinSource", "SecurityHook", "SscApplication"]

EF05 = 0xEF05
EF06 = 0xEF06
# Order of the reads (docs/card.md §2.4, §2.5); 4E (name extension) is optional on 2nd-gen cards.
EF05_TAGS = (0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07)
EF06_TAGS = (0x08, 0x09, 0x4E, 0x0A, 0x0B, 0x0C, 0x0D)

PinSource = PinBuffer | ReaderPinPad
# Runs between reading EF05 and selecting EF06: H's RKSSSE external authentication on
# 3rd-generation cards (docs/card-security.md §3). Raises a CardError to stop the read.
SecurityHook = Callable[["SscApplication", IssuerData], None]


class SscApplication:
    """Commands of the SSSE application over a `CardChannel`. One card session; not thread
    safe. Every method raises `CardError` subclasses only."""

    def __init__(
        self,
        channel: CardChannel,
        *,
        security_hook: SecurityHook | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self.channel = channel
        self.security_hook = security_hook
        self.algorithm: int | None = None  # FCI 9F0C 86 01 xx: 01 3DES, 04 SM4
        self._log = logger or logging.getLogger("drivers.card.ssc")

    # -- selection and records -----------------------------------------------------------------

    def select(self) -> bytes:
        """SELECT SSSE by its GBK name; returns the FCI (may be empty). 9000 and 61xx are both
        success (the transport fetches the 61xx data). Raises `NotSscCardError` on 6A82."""
        resp = self.channel.transmit(apdu.select_by_name(apdu.SSSE_AID))
        if resp.sw in (0x6A82, 0x6A81):
            raise NotSscCardError(
                "the card has no social security application", sw1=resp.sw1, sw2=resp.sw2
            )
        status.check(resp.sw1, resp.sw2, status.Context.SELECT)
        self.algorithm = None
        if resp.data:
            try:
                found = find_ber(parse_ber(resp.data), 0x9F0C)
            except TlvError:
                found = None  # an FCI we cannot parse is not fatal: the algorithm stays unknown
            if found is not None and len(found.value) == 3 and found.value[:2] == b"\x86\x01":
                self.algorithm = found.value[2]
        return resp.data

    def select_ef(self, fid: int) -> None:
        """SELECT an EF under SSSE (`00 A4 02 00 02 FID`)."""
        resp = self.channel.transmit(apdu.select_fid(fid))
        status.check(resp.sw1, resp.sw2, status.Context.SELECT)

    def read_tag(self, tag: int, value_len: int) -> bytes:
        """READ RECORD by tag in the current EF; returns V (without T and L).

        Raises `StatusWordError` (6A83 record not found, 6982 not allowed, ...) or
        `CardDataError` when the record is not exactly one TLV with that tag.
        """
        resp = self.channel.transmit(apdu.read_record_by_tag(tag, value_len))
        status.check(resp.sw1, resp.sw2, status.Context.READ)
        try:
            return parse_record(resp.data, tag)
        except TlvError as e:
            raise CardDataError(f"record {tag:02X}: {e}") from None

    # -- reads ---------------------------------------------------------------------------------

    def read_issuer(self) -> IssuerData:
        """SELECT SSSE, SELECT EF05, read tags 01-07 → `IssuerData`."""
        self.select()
        self.select_ef(EF05)
        records = {tag: self.read_tag(tag, EF05_LENGTHS[tag]) for tag in EF05_TAGS}
        return parse_issuer(records)

    def read_holder(self) -> CardHolder:
        """The whole flow: EF05, the security hook (if any), EF06 → `CardHolder`.

        Nothing partial is ever returned: a removed card, a status word or impossible data
        raises. On a 3rd-generation card read without the RKSSSE authentication EF06 answers
        6982, raised as `SecurityStatusError` saying that PSAM authentication is needed.
        """
        issuer = self.read_issuer()
        if self.security_hook is not None:
            self.security_hook(self, issuer)
        self.select_ef(EF06)
        records: dict[int, bytes] = {}
        for tag in EF06_TAGS:
            try:
                records[tag] = self.read_tag(tag, EF06_LENGTHS[tag])
            except SecurityStatusError as e:
                raise SecurityStatusError(
                    "the holder data needs PSAM authentication (RKSSSE) first"
                    if issuer.generation >= 3
                    else "the card refuses to give its holder data",
                    e.sw1 or 0x69,
                    e.sw2 or 0x82,
                ) from None
            except StatusWordError:
                if tag != 0x4E:
                    raise
                # 4E is absent on some cards; any card error on it means "no extension" (§2.5).
        holder = parse_holder(issuer, records)
        self._log.info(
            "read card %s generation %d of region %s",
            holder.card_number,
            holder.generation,
            holder.region,
        )
        return holder

    # -- PIN -----------------------------------------------------------------------------------

    def verify_pin(self, source: PinSource) -> None:
        """VERIFY the PIN from the keypad buffer or the reader's PIN pad. Never retried.

        A `PinBuffer` is wiped when this returns or raises, whatever happens. Raises
        `PinWrongError` (`.tries_left`), `PinBlockedError`, `PinNotEnabledError`,
        `PinFormatError` (not 4-16 digits) or transport errors.
        """
        if isinstance(source, ReaderPinPad):
            resp = source.verify()
        else:
            bcd = bytearray()
            try:
                bcd = source.packed_bcd()
                resp = self.channel.transmit(apdu.verify(bcd))
            finally:
                wipe_bytes(bcd)
                source.wipe()
        status.check(resp.sw1, resp.sw2, status.Context.VERIFY)
        self._log.info("PIN verified")

    def change_pin(self, old: PinSource, new: PinBuffer | None = None) -> None:
        """CHANGE PIN `80 5E 01 00 old ‖ FF ‖ new`: both PINs from keypad buffers, or both typed
        on the reader's PIN pad (`old` a `ReaderPinPad`, `new` None). Buffers are wiped."""
        if isinstance(old, ReaderPinPad):
            resp = old.modify()
        else:
            old_bcd = bytearray()
            new_bcd = bytearray()
            body = bytearray()
            try:
                if new is None:
                    raise ValueError("a keypad PIN change needs the new PIN")
                old_bcd = old.packed_bcd()
                new_bcd = new.packed_bcd()
                cmd, body = apdu.change_pin(old_bcd, new_bcd)
                resp = self.channel.transmit(cmd)
            finally:
                for buf in (old_bcd, new_bcd, body):
                    wipe_bytes(buf)
                old.wipe()
                if new is not None:
                    new.wipe()
        status.check(resp.sw1, resp.sw2, status.Context.VERIFY)
        self._log.info("PIN changed")
