"""The screens the app has built: built on first need, at most a few kept, the rest dropped and
released off the switch's frame (ui/app.py owns one ScreenSet over its ScreenManager).

Under the software GL every drawn instruction of a built screen holds GL buffers and its labels'
textures (20-40 MB a screen), so only the attract screen, the one shown and the most recent
others up to `max_screens` stay built.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.uix.screenmanager import ScreenManager

from ui.memory import release_freed_memory
from ui.screens import SCREENS
from ui.screens.base import ViewScreen

__all__ = ["ScreenSet"]

SCREEN_KV = Path(__file__).resolve().parent / "screens"


class ScreenSet:
    """Built screens of one ScreenManager, and the release of the ones dropped."""

    def __init__(self, sm: ScreenManager, max_screens: int = 2) -> None:
        self.sm = sm
        self.max_screens = max_screens
        self.recent: list[str] = []  # built screens, least recently needed first
        self.dropped: list[Any] = []  # off the window, released within half a second
        # one release for however many drops came within its half second
        self._release_soon = Clock.create_trigger(self._release_dropped, 0.5)
        self._kv_loaded: set[str] = set()

    def get(self, name: str) -> ViewScreen:
        """The screen `name`, built with its kv the first time it is needed."""
        if not self.sm.has_screen(name):
            self._load_kv(name)
            self.sm.add_widget(SCREENS[name](name=name))
        screen = self.sm.get_screen(name)
        assert isinstance(screen, ViewScreen)
        if name in self.recent:
            self.recent.remove(name)
        self.recent.append(name)
        return screen

    def drop_all(self) -> None:
        """Every built screen goes (large print: a kv rule computes sp() when it runs and the
        font scale is no binding, so a screen built before the switch kept its old sizes)."""
        for screen in list(self.sm.screens):
            self.sm.remove_widget(screen)
            self.dropped.append(screen)
        self.recent.clear()
        self._release_soon()

    def drop_old(self) -> None:
        """Keep the attract screen, the one shown and the most recent others up to
        `max_screens`. Called after the switch, so the screen leaving is never the current
        one."""
        dropped = False
        while len(self.recent) > self.max_screens:
            name = next(n for n in self.recent if n != "attract" and n != self.sm.current)
            self.recent.remove(name)
            old = self.sm.get_screen(name)
            self.sm.remove_widget(old)  # off the window now; wiped and freed off this frame
            self.dropped.append(old)
            dropped = True
        if dropped:  # off the switch's frame: the citizen is reading the new screen by then
            self._release_soon()

    def preload_kv(self, _dt: float = 0) -> None:
        """One screen's kv file per call, once the attract screen is up: parsing it made each
        screen's first show 60-90 ms slower, and loading them all before the first frame would
        have delayed the start by as much."""
        pending = [n for n in SCREENS if n not in self._kv_loaded]
        if pending:
            self._load_kv(pending[0])
            Clock.schedule_once(self.preload_kv, 0.05)

    def _load_kv(self, name: str) -> None:
        if name not in self._kv_loaded:
            Builder.load_file(str(SCREEN_KV / f"{name}.kv"))
            self._kv_loaded.add(name)

    def _release_dropped(self, _dt: float) -> None:
        """Unbind the dropped screens' kv rules, then hand their memory back. The rules stay
        bound to the app (lang, elderly, seconds_left) until the collector reaches each widget,
        and a change in between ran rules of half-collected widgets (ReferenceError in a
        redraw). Held until now, so none is collected before it is unbound; not done in the
        switch itself, where freeing a hundred widgets' GL objects added 25 ms."""
        for screen in self.dropped:
            if isinstance(screen, ViewScreen):
                screen.wipe()  # nothing of the citizen's stays in it until it is collected
            for widget in screen.walk(restrict=True):
                Builder.unbind_widget(widget.uid)
        self.dropped.clear()
        gc.collect()  # the full collection, here rather than in some frame (ui/memory.py)
        # Two more frames: llvmpipe keeps the old storage of every GL buffer re-uploaded while a
        # frame in flight used it (a screen's layout moves its widgets over several frames)
        # until later frames retire it, and a settled screen draws no more frames. About 30 MB
        # with the camera screen next (bench/ui.py, four runs each).
        _redraw_frames(2)
        # after the next frames: Kivy deletes the GL objects on its frame flush
        Clock.schedule_once(lambda _dt: release_freed_memory(), 0.5)


def _redraw_frames(n: int) -> None:
    """Draw the window again on each of the next `n` frames, changed or not."""
    if n <= 0:
        return
    Window.canvas.ask_update()
    Clock.schedule_once(lambda _dt: _redraw_frames(n - 1), 0)
