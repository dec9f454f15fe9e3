"""The core's event queue: device threads post past-tense events, the core consumes them.

Posting never blocks and never raises into the poster's thread (a pyscard observer or a serial
reader must not die because the core is slow). The queue is bounded; when full, the oldest
event of a droppable kind (frames, telemetry ticks) goes first, and a drop counter shows it.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["EventQueue"]


class EventQueue:
    """A bounded multi-producer, single-consumer queue of event objects (frozen dataclasses)."""

    def __init__(self, maxsize: int = 1024, droppable: tuple[type[Any], ...] = ()) -> None:
        self._items: collections.deque[object] = collections.deque()
        self._cond = threading.Condition()
        self._maxsize = maxsize
        self._droppable = droppable
        self.dropped = 0
        self._listeners: list[Callable[[object], None]] = []

    def post(self, event: object) -> None:
        """Enqueue `event` (any thread). Never blocks, never raises."""
        with self._cond:
            if len(self._items) >= self._maxsize:
                victim = next((e for e in self._items if isinstance(e, self._droppable)), None)
                if victim is not None:
                    self._items.remove(victim)
                elif isinstance(event, self._droppable):
                    self.dropped += 1
                    return
                else:
                    self._items.popleft()
                self.dropped += 1
            self._items.append(event)
            self._cond.notify()

    def get(self, timeout: float | None = None) -> object | None:
        """The next event, or None after `timeout` seconds (consumer thread)."""
        with self._cond:
            if not self._items and not self._cond.wait_for(lambda: bool(self._items), timeout):
                return None
            return self._items.popleft()

    def drain(self) -> list[object]:
        """Every queued event, oldest first, without waiting."""
        with self._cond:
            items = list(self._items)
            self._items.clear()
            return items

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)
