"""Reading the card: an indeterminate progress indicator and what is happening, in words."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.properties import NumericProperty

from ui.screens.base import ViewScreen


class ReadingScreen(ViewScreen):
    """The spinner turns from the Kivy clock while the core reads the card."""

    angle = NumericProperty(0)

    _spin: Any = None

    def on_enter(self) -> None:
        self._spin = Clock.schedule_interval(self._turn, 1 / 20)

    def on_leave(self) -> None:
        if self._spin is not None:
            self._spin.cancel()
            self._spin = None

    def _turn(self, dt: float) -> None:
        self.angle = (self.angle - 240 * dt) % 360
