"""Frozen results the fingerprint driver returns to the core (no serial or module types)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "PROMPT_TEXT",
    "FingerprintMatch",
    "ModuleInfo",
    "Prompt",
    "SearchResult",
    "SelfTestReport",
]


class Prompt(StrEnum):
    """What the citizen should do now; the UI or CLI turns it into words."""

    PLACE_FINGER = "place_finger"
    LIFT_FINGER = "lift_finger"
    PLACE_AGAIN = "place_again"
    HOLD_STILL = "hold_still"


PROMPT_TEXT: dict[Prompt, str] = {
    Prompt.PLACE_FINGER: "Place your finger on the scanner.",
    Prompt.LIFT_FINGER: "Lift your finger.",
    Prompt.PLACE_AGAIN: "Place the same finger again.",
    Prompt.HOLD_STILL: "Hold still...",
}


@dataclass(frozen=True, slots=True)
class FingerprintMatch:
    """Outcome of a 1:1 check in the module: `matched` and the module's score (0 when not)."""

    matched: bool
    score: int


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Outcome of a library search (technician self-test only)."""

    found: bool
    page: int
    score: int


@dataclass(frozen=True, slots=True)
class ModuleInfo:
    """Module parameters read from the module itself (ReadSysPara + TempleteNum)."""

    capacity: int
    security_level: int
    packet_size: int  # bytes per data packet
    templates_stored: int
    baudrate: int  # module's configured baud rate, bit/s
    address: int
    system_id: int
    status: int


@dataclass(frozen=True, slots=True)
class SelfTestReport:
    """Technician self-test: every step name with its outcome, and the overall verdict."""

    steps: tuple[tuple[str, bool, str], ...]

    @property
    def passed(self) -> bool:
        """True when every step passed."""
        return all(ok for _, ok, _ in self.steps)
