"""Privacy section: how personal values are masked on screen, receipt and log."""

from __future__ import annotations

from pydantic import Field

from drivers.personal import MaskPolicy
from kiosk.config.base import ConfigSection

__all__ = ["PrivacyConfig"]


class PrivacyConfig(ConfigSection):
    """Visible characters per kind of personal value (docs/architecture.md, Privacy)."""

    id_head: int = Field(3, ge=0, le=6, title="ID number: visible leading characters")
    id_tail: int = Field(4, ge=0, le=4, title="ID number: visible trailing characters")
    bank_head: int = Field(6, ge=0, le=6, title="Bank number: visible leading digits")
    bank_tail: int = Field(4, ge=0, le=4, title="Bank number: visible trailing digits")
    card_head: int = Field(1, ge=0, le=3, title="Card number: visible leading characters")
    card_tail: int = Field(2, ge=0, le=4, title="Card number: visible trailing characters")
    name_visible: int = Field(1, ge=1, le=2, title="Name: visible leading characters (family name)")
    phone_head: int = Field(3, ge=0, le=3, title="Mobile phone number: visible leading digits")
    phone_tail: int = Field(4, ge=0, le=4, title="Mobile phone number: visible trailing digits")

    def mask_policy(self) -> MaskPolicy:
        """The policy `drivers.personal` applies."""
        return MaskPolicy(
            id_head=self.id_head,
            id_tail=self.id_tail,
            bank_head=self.bank_head,
            bank_tail=self.bank_tail,
            card_head=self.card_head,
            card_tail=self.card_tail,
            name_visible=self.name_visible,
            phone_head=self.phone_head,
            phone_tail=self.phone_tail,
        )
