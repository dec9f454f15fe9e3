"""A separate UnionPay bank card: only the EMV debit application (no SSSE)."""

from __future__ import annotations

from typing import Any

from drivers.card.emulator.card import Answer, Command, VirtualCard
from drivers.card.emulator.emv import EmvApplet
from drivers.card.emulator.model import BankProfile

__all__ = ["BankCard"]


class BankCard(VirtualCard):
    """A debit card answering PSE / AID selection, GPO and READ RECORD. Not thread-safe."""

    def __init__(self, profile: BankProfile) -> None:
        super().__init__(
            profile_name=profile.profile_name,
            atr=bytes.fromhex(profile.atr),
            t0_strict=profile.t0_strict,
        )
        self.profile = profile
        self.emv = EmvApplet(profile.financial, holder=profile.holder_name)

    @property
    def declared(self) -> dict[str, Any]:
        """PAN, expiry, AID, GPO format ..."""
        out = self.emv.declared()
        out["holder_name"] = self.profile.holder_name
        return out

    def on_reset(self) -> None:
        """Power/reset: nothing selected."""
        self.emv.deselect()

    def handle(self, cmd: Command) -> Answer:
        """EMV commands; SELECT of anything else is 6A82."""
        if cmd.cla == 0x00 and cmd.ins == 0xA4:
            if cmd.p1 != 0x04:
                return Answer.error(0x6A82)
            fci = self.emv.select(bytes(cmd.data))
            return Answer(fci) if fci is not None else Answer.error(0x6A82)
        if self.emv.selected is None:
            return Answer.error(0x6985 if cmd.ins in (0xA8, 0xB2) else 0x6D00)
        return self.emv.handle(cmd, self)
