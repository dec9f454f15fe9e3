"""Faults the emulator can inject into the card's answers (tests and demo of error paths)."""

from __future__ import annotations

import enum

__all__ = ["Fault"]


class Fault(enum.Enum):
    """One-shot faults, armed with `CardEmulator.inject(fault, after=N)`.

    The fault fires on the first APDU after N more APDUs were answered normally (for the write
    faults: the first write command after that point).
    """

    REMOVE_MID_COMMAND = "remove_mid_command"
    """The card leaves the slot while the APDU is in flight: no answer, connection dropped."""
    GARBAGE = "garbage"
    """A meaningless answer (a few bytes ending in an undefined status word)."""
    SILENCE = "silence"
    """No answer for `silence_s`, then the connection drops (vpcd has no timeout of its own);
    the card stays in the slot and comes back as freshly reset."""
    POWER_LOSS_AFTER_WRITE = "power_loss_after_write"
    """The next write is committed and answered 9000, then power is lost: the connection drops
    and the card comes back reset (security states gone) before the read-back."""
    WRITE_REFUSED = "write_refused"
    """The next write is refused with 6581 (memory error) and nothing is written."""
    WRITE_DENIED = "write_denied"
    """The next write is refused with 6982 (security status) and nothing is written."""
