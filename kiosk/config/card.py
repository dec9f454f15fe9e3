"""Card reader section (owned by the card layer; drivers receive a frozen copy)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from drivers.card.settings import CardSettings, PinEntry
from kiosk.config.base import ConfigSection

__all__ = ["CardConfig"]


class CardConfig(ConfigSection):
    """Which reader to use and how patient to be with it. Times in seconds."""

    reader: str = Field(
        "", title="Reader name", description="Substring of the PC/SC reader name; empty = first."
    )
    insert_timeout_s: float = Field(60.0, gt=0, le=3600, title="Wait for a card (s)")
    apdu_timeout_s: float = Field(
        5.0, ge=0, le=120, title="One APDU round trip (s)", description="0 = no deadline."
    )
    operation_timeout_s: float = Field(
        10.0, gt=0, le=300, title="One card operation, e.g. a holder read (s)"
    )
    removal_probe_s: float = Field(
        1.0, gt=0, le=10, title="After a failed command, wait this long to see a removal (s)"
    )
    t0_max_rounds: int = Field(16, ge=2, le=256, title="T=0 GET RESPONSE/6Cxx rounds per command")
    trace_apdus: bool = Field(
        False, title="Log APDU headers and status words at DEBUG (never data)"
    )
    pin_entry: Literal["reader", "keypad", "auto"] = Field(
        "auto",
        title="PIN entry",
        description="reader = PC/SC part 10 PIN pad; keypad = touch screen; auto = pad if any.",
    )
    pin_length: int = Field(6, ge=4, le=12, title="PIN digits on the reader's PIN pad")
    pin_pad_timeout_s: int = Field(30, ge=1, le=255, title="PIN pad entry timeout (s)")
    monitor_poll_s: float = Field(
        1.0, gt=0, le=60, title="Monitor wake-up period (s)", description="Events arrive at once."
    )
    monitor_backoff_initial_s: float = Field(0.2, gt=0, le=60, title="Monitor restart delay (s)")
    monitor_backoff_max_s: float = Field(5.0, gt=0, le=600, title="Monitor restart delay cap (s)")

    def driver_settings(self) -> CardSettings:
        """The frozen settings the card driver takes."""
        return CardSettings(
            reader=self.reader,
            insert_timeout_s=self.insert_timeout_s,
            apdu_timeout_s=self.apdu_timeout_s,
            operation_timeout_s=self.operation_timeout_s,
            removal_probe_s=self.removal_probe_s,
            t0_max_rounds=self.t0_max_rounds,
            trace_apdus=self.trace_apdus,
            pin_entry=PinEntry(self.pin_entry),
            pin_length=self.pin_length,
            pin_pad_timeout_s=self.pin_pad_timeout_s,
            monitor_poll_s=self.monitor_poll_s,
            monitor_backoff_initial_s=self.monitor_backoff_initial_s,
            monitor_backoff_max_s=self.monitor_backoff_max_s,
        )
