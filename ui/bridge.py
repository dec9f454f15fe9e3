"""The one way from the core's threads into Kivy: the newest view wins, one render per frame.

The session runner calls `post(view)` from its own thread; a burst of views (a progress bar,
a countdown) coalesces into one `Clock` trigger, and the main thread renders only the latest.
Nothing else in the UI is called from another thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from kivy.clock import Clock

__all__ = ["ViewBridge"]

V = TypeVar("V")


class ViewBridge(Generic[V]):
    """Thread-safe hand-over of the latest value to `render` on the Kivy main thread."""

    def __init__(self, render: Callable[[V], None]) -> None:
        self._render = render
        self._lock = threading.Lock()
        self._pending: V | None = None
        self._has_pending = False
        self.posted = 0
        self.rendered = 0
        self._trigger = Clock.create_trigger(self._flush, 0)

    def post(self, value: V) -> None:
        """Any thread: keep `value` as the newest and make sure one render is scheduled."""
        with self._lock:
            self._pending = value
            self._has_pending = True
            self.posted += 1
        self._trigger()

    def _flush(self, _dt: float) -> None:
        with self._lock:
            if not self._has_pending:
                return
            value = self._pending
            self._pending = None
            self._has_pending = False
        self.rendered += 1
        self._render(value)  # type: ignore[arg-type]

    def clear(self) -> None:
        """Drop a view not yet rendered (the session ended: nothing personal may appear)."""
        with self._lock:
            self._pending = None
            self._has_pending = False
