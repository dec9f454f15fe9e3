"""The emulated sensor window: who touches it, when, and how well (scripted behaviours)."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Quality", "Sensor", "Touch"]


class Quality(StrEnum):
    """How good the image of a touch is, and which code the module answers for it."""

    GOOD = "good"
    POOR = "poor"  # Img2Tz -> 0x07 too few feature points
    SMUDGED = "smudged"  # Img2Tz -> 0x06 too disorderly
    IMAGE_FAIL = "image_fail"  # GenImg -> 0x03


@dataclass(frozen=True, slots=True)
class Touch:
    """One scripted step: `finger` None means no finger for `polls` GenImg calls."""

    finger: str | None
    polls: int = 1
    quality: Quality = Quality.GOOD


class Sensor:
    """The sensor window as GenImg sees it.

    Scripted touches are consumed first, one GenImg each (a "no finger" step lasts `polls`
    calls). With the script empty the default finger behaves like a cooperative person: after
    every captured image the finger is lifted for one poll, then placed again; with no default
    finger the window stays empty. After any captured image the next GenImg sees no finger (the
    person lifts), so hosts that wait for a lift between captures work. Thread-safe.
    """

    def __init__(self, default_finger: str | None = None) -> None:
        self._lock = threading.Lock()
        self._script: deque[Touch] = deque()
        self._default = default_finger
        self._lift_pending = False
        self.polls = 0  # GenImg calls seen, for tests

    def set_default(self, finger: str | None) -> None:
        """Set the finger a cooperative person keeps placing (None: nobody)."""
        with self._lock:
            self._default = finger

    def place(self, finger: str, *, quality: Quality = Quality.GOOD, after_polls: int = 0) -> None:
        """Script a touch of `finger`, after `after_polls` empty polls."""
        with self._lock:
            if after_polls:
                self._script.append(Touch(None, after_polls))
            self._script.append(Touch(finger, 1, quality))

    def no_finger(self, polls: int) -> None:
        """Script `polls` GenImg calls that see no finger."""
        with self._lock:
            self._script.append(Touch(None, polls))

    def clear(self) -> None:
        """Forget the script."""
        with self._lock:
            self._script.clear()
            self._lift_pending = False

    def poll(self) -> Touch | None:
        """One GenImg: the touch captured now, or None when the window is empty."""
        with self._lock:
            self.polls += 1
            if self._lift_pending:
                self._lift_pending = False
                return None
            if self._script:
                step = self._script[0]
                if step.finger is None:
                    if step.polls <= 1:
                        self._script.popleft()
                    else:
                        self._script[0] = Touch(None, step.polls - 1)
                    return None
                self._script.popleft()
                self._lift_pending = True
                return step
            if self._default is None:
                return None
            self._lift_pending = True
            return Touch(self._default)
