"""The injected clock: monotonic time for timeouts, wall time for records."""

from __future__ import annotations

import time
from typing import Protocol

__all__ = ["Clock", "FakeClock", "SystemClock"]


class Clock(Protocol):
    """What the core asks of time. Injected everywhere; nothing calls `time` directly."""

    def monotonic(self) -> float:
        """Seconds on a clock that never jumps (timeouts, durations)."""
        ...

    def wall(self) -> float:
        """Seconds since the epoch (records, messages); may jump when NTP syncs."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block the calling thread."""
        ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class FakeClock:
    """A clock tests move by hand; `sleep` advances it instead of blocking."""

    def __init__(self, start: float = 1000.0, wall_offset: float = 1_780_000_000.0) -> None:
        self._now = start
        self._wall_offset = wall_offset

    def monotonic(self) -> float:
        return self._now

    def wall(self) -> float:
        return self._now + self._wall_offset

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time does not go back")
        self._now += seconds
