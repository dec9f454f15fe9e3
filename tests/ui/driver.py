"""Drives the real app on SDL offscreen: touches on real widgets, keypad keys as the Window
receives them, and frames pumped until the session and the screen settle."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from kivy.base import EventLoop
from kivy.core.window import Window
from kivy.tests.common import UnitTestTouch
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from ui.app import KioskUi


class Driver:
    """One app for the whole test session; `core` is the session it talks to."""

    def __init__(self, app: KioskUi, pump: Callable[[int], None]) -> None:
        self.app = app
        self.pump = pump
        self.taps = 0
        self.core: Any = None

    # --- settling -----------------------------------------------------------------------
    def settle(self, timeout: float = 5.0) -> None:
        """Until the runner is idle and the bridge rendered its last view."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.core is not None:
                self.core.wait_idle(0.5)
            self.pump(2)
            if self.core is None or self.core.view == self.app.view:
                self.pump(2)
                return
        raise AssertionError(f"UI did not settle: shown {self.app.view and self.app.view.state}")

    @property
    def screen(self) -> str:
        assert self.app.sm is not None
        return str(self.app.sm.current)

    def wait_screen(self, name: str, timeout: float = 8.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.settle()
            if self.screen == name:
                from tests.ui.checks import check_screen

                self.pump(2)
                problems = check_screen(self.app.screen)
                assert not problems, f"{name} ({self.app.view.state}): {problems}"
                return
            time.sleep(0.05)
        raise AssertionError(f"expected screen {name}, shown {self.screen} "
                             f"(state {self.app.view.state})")

    # --- finding ------------------------------------------------------------------------
    def widgets(self) -> Iterator[Widget]:
        """Every widget a person can see on the current screen (not inside a hidden parent)."""
        return visible(self.app.screen)

    def buttons(self) -> list[Any]:
        return [w for w in self.widgets() if hasattr(w, "action") and not w.disabled]

    def button(self, *, action: str | None = None, text: str | None = None) -> Any:
        found = [b for b in self.buttons()
                 if (action is None or b.action == action) and (text is None or b.text == text)]
        assert found, f"no button action={action} text={text} on {self.screen}: " + \
            str([(b.action, b.text) for b in self.buttons()])
        return found[0]

    def texts(self) -> list[str]:
        return [w.text for w in self.widgets() if isinstance(w, Label) and w.text]

    def shown_text(self) -> str:
        return "\n".join(self.texts())

    # --- acting -------------------------------------------------------------------------
    def tap(self, widget: Widget, count: bool = True) -> None:
        """A finger on the widget's centre (hit-tested by Kivy like a real touch)."""
        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.pump(1)
        touch.touch_up()
        self.pump(1)
        if count:
            self.taps += 1
        self.settle()

    def tap_button(self, *, action: str | None = None, text: str | None = None,
                   count: bool = True) -> None:
        self.tap(self.button(action=action, text=text), count=count)

    def key(self, code: int) -> None:
        """A key as a USB keypad sends it, through the Window's keyboard events."""
        Window.dispatch("on_key_down", code, 0, None, [])
        Window.dispatch("on_key_up", code, 0)
        self.pump(1)
        self.settle()


def pump_frames(n: int = 1) -> None:
    for _ in range(n):
        EventLoop.idle()


def visible(root: Widget) -> Iterator[Widget]:
    """`root` and its descendants that are drawn: opacity > 0 and a size, all the way up."""
    if root.opacity <= 0 or root.width <= 0 or root.height <= 0:
        return
    yield root
    for child in list(root.children):
        yield from visible(child)
