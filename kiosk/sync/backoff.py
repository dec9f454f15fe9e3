"""Reconnect delays: decorrelated jitter with a random first delay (pure, injected randomness)."""

from __future__ import annotations

import random
from collections.abc import Callable

__all__ = ["Backoff"]


class Backoff:
    """Delays between connection attempts, in seconds.

    - After a connection that was up drops: a random first delay in [0, first_delay_max]
      (a hall losing power must not reconnect in lockstep; elastic-agent #13874).
    - Each further failure: decorrelated jitter, ``min(cap, uniform(base, 3 * previous))``
      (the AWS architecture blog's "decorrelated jitter"; mosquitto bridges do the same).
    - The sequence resets once a connection has stayed up `stable_after` seconds.
    Not thread-safe: used by the transport's network thread only.
    """

    def __init__(
        self,
        base: float,
        cap: float,
        first_delay_max: float,
        stable_after: float,
        rand: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.base = base
        self.cap = max(cap, base)
        self.first_delay_max = first_delay_max
        self.stable_after = stable_after
        self._rand = rand
        self._previous = 0.0
        self._connected_at: float | None = None

    def connected(self, now: float) -> None:
        """A connection came up at monotonic `now`."""
        self._connected_at = now

    def lost(self, now: float) -> float:
        """The connection dropped at `now`: the delay before the first new attempt."""
        was_stable = (
            self._connected_at is not None and now - self._connected_at >= self.stable_after
        )
        self._connected_at = None
        if was_stable:
            self._previous = 0.0
        if self._previous == 0.0:
            self._previous = self.base
            return self._rand(0.0, self.first_delay_max)
        return self.failed()

    def failed(self) -> float:
        """An attempt failed: the delay before the next one."""
        previous = self._previous or self.base
        delay = min(self.cap, self._rand(self.base, previous * 3))
        self._previous = delay
        return delay
