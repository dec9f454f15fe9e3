"""Card reader section (owned by the card layer; drivers receive a frozen copy)."""

from __future__ import annotations

from pydantic import Field

from kiosk.config.base import ConfigSection

__all__ = ["CardConfig"]


class CardConfig(ConfigSection):
    """Which reader to use and how patient to be with it."""

    reader: str = Field(
        "", title="Reader name", description="Substring of the PC/SC reader name; empty = first."
    )
    insert_timeout_s: float = Field(60.0, gt=0, le=3600, title="Wait for a card (s)")
