"""The card layer's own frozen settings (built by kiosk.config.card from the [card] section)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["CardSettings", "PinEntry"]


class PinEntry(StrEnum):
    """Where the PIN is entered: the reader's PIN pad (PC/SC part 10) or the kiosk's keypad."""

    READER = "reader"
    KEYPAD = "keypad"
    AUTO = "auto"  # the reader's PIN pad when it has one, else the keypad


@dataclass(frozen=True, slots=True)
class CardSettings:
    """Every timeout, retry and backoff of the card layer, in seconds unless named otherwise."""

    reader: str = ""  # substring of the PC/SC reader name; empty = the first reader
    insert_timeout_s: float = 60.0  # waiting for a card to be inserted
    apdu_timeout_s: float = 5.0  # one APDU round trip; 0 = wait for PC/SC forever (no I/O thread)
    operation_timeout_s: float = 10.0  # one driver operation (holder read, PIN verify) as a whole
    removal_probe_s: float = 1.0  # after a failed transmit: wait this long to see a removal
    t0_max_rounds: int = 16  # GET RESPONSE / Le-correction rounds for one command
    trace_apdus: bool = False  # log every APDU header and status word at DEBUG
    pin_entry: PinEntry = PinEntry.AUTO
    pin_length: int = 6  # digits asked for on the reader's PIN pad
    pin_pad_timeout_s: int = 30  # PC/SC part 10 bTimerOut (seconds, one byte)
    pin_pad_lang_id: int = 0x0804  # zh-CN messages on the PIN pad display
    monitor_poll_s: float = 1.0  # SCardGetStatusChange timeout; events still arrive at once
    monitor_backoff_initial_s: float = 0.2  # supervisor: first retry after pcscd went away
    monitor_backoff_max_s: float = 5.0  # supervisor: cap of the exponential backoff
