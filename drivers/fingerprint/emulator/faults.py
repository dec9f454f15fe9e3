"""Fault injection for the emulated module: what goes wrong with the next replies."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Fault", "FaultKind", "FaultPlan"]


class FaultKind(StrEnum):
    """Faults seen in the field (docs/fingerprint-module.md §3)."""

    BAD_CHECKSUM = "bad_checksum"  # F3: one bit flipped in the reply's checksum
    DROP = "drop"  # F1: the command is swallowed, no reply
    DELAY = "delay"  # F4: the reply comes `delay` seconds late
    GARBAGE = "garbage"  # F2: junk bytes before the reply's header
    DRIBBLE = "dribble"  # F5: the reply arrives a few bytes at a time
    TRUNCATE = "truncate"  # F5: only the first half of the reply arrives


@dataclass(slots=True)
class Fault:
    """One fault applying to the next `count` replies (count < 0: every reply, until cleared)."""

    kind: FaultKind
    count: int = 1
    delay: float = 0.0
    garbage: bytes = b"\x55\x00\xef\x13\x37"
    frame: int = 0  # BAD_CHECKSUM: which frame of the reply (0 = the ACK, 1.. = data packets)


class FaultPlan:
    """The faults armed on a module, consumed reply by reply. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(
        self,
        kind: FaultKind,
        count: int = 1,
        *,
        delay: float = 0.0,
        garbage: bytes | None = None,
        frame: int = 0,
    ) -> None:
        """Arm a fault for the next `count` replies (-1: until `clear()`)."""
        fault = Fault(kind, count, delay, frame=frame)
        if garbage is not None:
            fault.garbage = garbage
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._faults.clear()

    def take(self) -> list[Fault]:
        """The faults that apply to the reply being sent now (consumes one use of each)."""
        with self._lock:
            now = list(self._faults)
            for f in now:
                if f.count > 0:
                    f.count -= 1
            self._faults = [f for f in self._faults if f.count != 0]
        return now
