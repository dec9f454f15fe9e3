"""The UnionPay debit application (EMV Book 3 shapes): PSE directory, FCI with PDOL, GPO, records.

Written from the card's point of view: SELECT `1PAY.SYS.DDF01` answers an FCI with the directory
SFI, READ RECORD of that SFI lists the application; SELECT of the AID answers an FCI with PDOL
(tag 9F38); GET PROCESSING OPTIONS answers format 1 (tag 80: AIP || AFL) or format 2 (tag 77
with 82 and 94); READ RECORD along the AFL gives tag 5A (PAN) and/or tag 57 (track 2).
"""

from __future__ import annotations

from typing import Any

from drivers.card.emulator.card import Answer, Command, VirtualCard
from drivers.card.emulator.model import FinancialApp

__all__ = ["PDOL", "PSE_NAME", "EmvApplet", "ber", "dol_entries"]

PSE_NAME = b"1PAY.SYS.DDF01"
# Default PDOL: EC terminal support indicator (1), amount authorised (6), currency (2) -> 9.
PDOL = bytes.fromhex("9F7A019F02065F2A02")
_CNY = bytes.fromhex("0156")
_AIP = bytes.fromhex("7C00")
_PSE_SFI = 1
_TRACK2_SFI = 1
_PAN_SFI = 2


def ber(tag: str, value: bytes) -> bytes:
    """One BER-TLV: tag (hex string, 1-2 bytes), length (1 or 2 bytes), value."""
    n = len(value)
    length = (
        bytes([n])
        if n < 0x80
        else bytes([0x81, n])
        if n < 0x100
        else bytes([0x82]) + n.to_bytes(2, "big")
    )
    return bytes.fromhex(tag) + length + value


def dol_entries(dol: bytes) -> list[tuple[int, int]]:
    """(tag, length) pairs of a DOL: tags of 1 or 2 bytes (first byte xF = two), 1-byte lengths."""
    out: list[tuple[int, int]] = []
    pos = 0
    while pos < len(dol):
        size = 2 if dol[pos] & 0x1F == 0x1F else 1
        out.append((int.from_bytes(dol[pos : pos + size], "big"), dol[pos + size]))
        pos += size + 1
    return out


def _cn(digits: str) -> bytes:
    """Compressed numeric: digits, padded with F to whole bytes."""
    if len(digits) % 2:
        digits += "F"
    return bytes.fromhex(digits)


class EmvApplet:
    """The debit application's state inside one card (PSE and AID selection, GPO done)."""

    def __init__(self, app: FinancialApp, *, holder: str = "") -> None:
        self.app = app
        self.holder = holder
        self.aid = bytes.fromhex(app.aid)
        self.pdol = bytes.fromhex(app.pdol)
        self.selected: str | None = None  # "pse" | "aid"
        self.gpo_done = False

    def deselect(self) -> None:
        """Card reset or another application selected."""
        self.selected = None
        self.gpo_done = False

    # -- data ----------------------------------------------------------------------------------

    def track2(self) -> bytes:
        """Track 2 equivalent data: PAN D YYMM service code discretionary data, F-padded."""
        return _cn(f"{self.app.pan}D{self.app.expiry}{self.app.service_code}0000000000")

    def records(self) -> dict[tuple[int, int], bytes]:
        """(SFI, record number) -> record template 70."""
        out: dict[tuple[int, int], bytes] = {}
        name = self.holder.encode("gbk", errors="replace")[:26] if self.holder else b"CARDHOLDER"
        if self.app.records in ("track2", "both"):
            out[(_TRACK2_SFI, 1)] = ber("70", ber("57", self.track2()) + ber("5F20", name))
        if self.app.records in ("pan", "both"):
            body = (
                ber("5A", _cn(self.app.pan))
                + ber("5F24", bytes.fromhex(self.app.expiry + "31"))
                + ber("5F34", b"\x01")
            )
            out[(_PAN_SFI, 1)] = ber("70", body)
        return out

    def afl(self) -> bytes:
        """Application file locator: one 4-byte entry per record SFI."""
        return b"".join(bytes([sfi << 3, rec, rec, 0]) for (sfi, rec) in sorted(self.records()))

    # -- commands ------------------------------------------------------------------------------

    def select(self, name: bytes) -> bytes | None:
        """SELECT by name: the FCI, or None if the name is not ours."""
        if name == PSE_NAME and self.app.pse:
            self.selected, self.gpo_done = "pse", False
            prop = ber("88", bytes([_PSE_SFI])) + ber("5F2D", b"zh")
            return ber("6F", ber("84", PSE_NAME) + ber("A5", prop))
        if name == self.aid or (len(name) >= 5 and self.aid.startswith(name)):
            self.selected, self.gpo_done = "aid", False
            prop = (
                ber("50", self.app.label.encode("ascii"))
                + ber("87", b"\x01")
                + ber("9F38", self.pdol)
            )
            return ber("6F", ber("84", self.aid) + ber("A5", prop))
        return None

    def handle(self, cmd: Command, card: VirtualCard) -> Answer:
        """Commands while the PSE or the application is selected."""
        if cmd.cla == 0x80 and cmd.ins == 0xA8:
            return self._gpo(cmd)
        if cmd.cla == 0x00 and cmd.ins == 0xB2:
            return self._read_record(cmd, card)
        if cmd.cla == 0x80 and cmd.ins == 0xCA:
            return Answer.error(0x6A88)
        if cmd.cla not in (0x00, 0x80):
            return Answer.error(0x6E00)
        return Answer.error(0x6D00)

    def _gpo(self, cmd: Command) -> Answer:
        if self.selected != "aid":
            return Answer.error(0x6985)
        if cmd.p1 or cmd.p2:
            return Answer.error(0x6A86)
        data = bytes(cmd.data)
        if len(data) < 2 or data[0] != 0x83 or data[1] != len(data) - 2:
            return Answer.error(0x6A80)
        entries = dol_entries(self.pdol)
        if data[1] != sum(length for _, length in entries):
            return Answer.error(0x6700)
        # Check the values a terminal must fill from this PDOL (not just the length): a
        # numeric amount and the CNY currency; anything else is refused like a real card would
        # refuse its conditions of use.
        pos = 2
        for tag, length in entries:
            value = data[pos : pos + length]
            pos += length
            if tag == 0x9F02 and not value.hex().isdigit():
                return Answer.error(0x6985)
            if tag == 0x5F2A and value != _CNY:
                return Answer.error(0x6985)
        self.gpo_done = True
        afl = self.afl()
        if self.app.gpo_format == 2:
            return Answer(ber("77", ber("82", _AIP) + ber("94", afl)))
        return Answer(ber("80", _AIP + afl))

    def _read_record(self, cmd: Command, card: VirtualCard) -> Answer:
        sfi, mode = cmd.p2 >> 3, cmd.p2 & 0x07
        if mode != 0x04 or sfi == 0:
            return Answer.error(0x6A86)
        if self.selected == "pse":
            if sfi != _PSE_SFI:
                return Answer.error(0x6A82)
            if cmd.p1 != 1:
                return Answer.error(0x6A83)
            entry = (
                ber("4F", self.aid) + ber("50", self.app.label.encode("ascii")) + ber("87", b"\x01")
            )
            return card.case2(cmd, ber("70", ber("61", entry)))
        rec = self.records().get((sfi, cmd.p1))
        if rec is None:
            return Answer.error(0x6A83)
        return card.case2(cmd, rec)

    def declared(self) -> dict[str, Any]:
        """The application's human-form content."""
        return dict(vars(self.app))
