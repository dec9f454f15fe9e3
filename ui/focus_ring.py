"""The keypad's focus ring: one for the whole window, drawn on top of the screen around the
focused target (ui/app.py moves it). A 4 dp yellow band outside a 2 dp black one, visible on
every background of the palette.

Every focusable widget used to carry its own two rings, transparent until it had the focus: a
third of each screen's lines, each drawn every frame and each holding its GL buffers under the
software GL, to show one ring at a time.
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.graphics import Color, Line
from kivy.metrics import dp
from kivy.uix.widget import Widget

from ui.theme import SIZES, hex_rgba

__all__ = ["FocusRing"]


class FocusRing(Widget):
    """Follows `target` wherever layout moves it; draws nothing while there is none, or while
    the target is off the window, hidden or without size."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.size_hint = (None, None)
        self.size = (0, 0)
        self.target: Any = None
        self.drawn: tuple[float, float, float, float] | None = None  # window rect around it
        Clock.schedule_interval(self._track, 0)

    def follow(self, target: Any) -> None:
        """Ring `target` from the next frame on (None: no ring)."""
        self.target = target
        self._track(0)

    def _track(self, _dt: float) -> None:
        rect = self._rect_of(self.target)
        if rect == self.drawn:
            return  # unchanged: no canvas change, so no redraw for it
        self.drawn = rect
        self.canvas.clear()
        if rect is None:
            return
        x, y, w, h = rect
        outer, inner = dp(SIZES["focus_outer"]), dp(SIZES["focus_inner"])
        with self.canvas:
            Color(*hex_rgba("focus_outer"))
            Line(rectangle=(x - dp(5), y - dp(5), w + dp(10), h + dp(10)),
                 width=outer / 2 + dp(1))
            Color(*hex_rgba("focus_inner"))
            Line(rectangle=(x - dp(1.5), y - dp(1.5), w + dp(3), h + dp(3)),
                 width=inner / 2 + dp(0.5))

    @staticmethod
    def _rect_of(target: Any) -> tuple[float, float, float, float] | None:
        if target is None or target.get_root_window() is None:
            return None
        if target.width <= 0 or target.height <= 0:
            return None
        window = target.get_root_window()
        w: Any = target
        while w is not None and w is not window:  # the window is its own parent
            if w.opacity <= 0:
                return None
            w = w.parent
        x, y = target.to_window(target.x, target.y)
        return (round(x, 1), round(y, 1), round(target.width, 1), round(target.height, 1))
