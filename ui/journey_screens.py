"""The demo's scripted journeys on the touchscreen: each journey runs on the emulated hardware
in a worker thread (through `run_journey`, so the demo's hardware set-up is the headless one)
while the Kivy main thread renders every view the journey takes, on the display or offscreen,
writing a PNG of each new screen.

The journey is paced by the screen: each view it takes from the session is first shown (and
photographed) on the main thread, and only then does the journey act on it. Left to itself a
scripted journey answers a view within milliseconds, far faster than a frame, so the bridge's
newest-view-wins coalescing would skip most screens and the PNGs would jump from the card being
read to the end of the journey.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.config.ui import UiConfig
from kiosk.journeys.live import LiveTerminal, run_journey
from kiosk.session.intents import Intent
from kiosk.session.view import View

__all__ = ["JourneyScreens", "PacedSession", "screen_key"]

log = logging.getLogger("ui.journey_screens")

# How long a journey waits for the main thread to show a view: far above a frame, and it
# only matters if the window stopped rendering (the journey then goes on unpaced).
_SHOW_TIMEOUT_S = 20.0


ScreenKey = tuple[str, str, tuple[str, ...], str, str, int]


def screen_key(view: View) -> ScreenKey:
    """What makes a screen new for the PNGs: state, title, body, error, the selected tab and
    the table's page (a new insurance's records), not the ticking timer."""
    error = "" if view.error is None else view.error.code or view.error.message.key
    tab = next((c.id for c in view.choices if c.selected), "")
    page = 0 if view.table is None else view.table.page * 1000 + len(view.table.rows)
    return view.state, view.title.key, tuple(t.key for t in view.body), error, tab, page


class _Port:
    """The app's session port: touches go to the journey's terminal while it runs."""

    def __init__(self) -> None:
        self.terminal: LiveTerminal | None = None

    def send(self, intent: Any) -> None:
        if self.terminal is not None:
            self.terminal.send(intent)


class PacedSession:
    """The `SessionDriver` the journey talks to: each view it takes waits until `show` (the
    main thread) has put it on the screen."""

    def __init__(self, terminal: LiveTerminal, show: Callable[[View], None]) -> None:
        self._terminal = terminal
        self._show = show

    def send(self, intent: Intent) -> None:
        self._terminal.send(intent)

    def view(self) -> View:
        return self._terminal.view()

    def wait_view(self, after: int, timeout_s: float) -> tuple[int, View] | None:
        got = self._terminal.wait_view(after, timeout_s)
        if got is not None:
            self._show(got[1])
        return got

    def advance(self, seconds: float) -> None:
        self._terminal.advance(seconds)


class JourneyScreens:
    """A `journey_runner` for kiosk.demo: same arguments and result as `run_journey`."""

    def __init__(self, cfg: UiConfig, out: Path, *, offscreen: bool) -> None:
        self.cfg = cfg
        self.out = out
        self.offscreen = offscreen
        self.written: list[Path] = []
        self._app: Any = None
        self._pump: Callable[[int], None] | None = None
        self._port = _Port()
        self._views: queue.Queue[tuple[View, threading.Event]] = queue.Queue()

    def _start(self) -> None:
        from ui.runtime import build_app, start_embedded, start_kivy

        start_kivy(self.cfg, offscreen=self.offscreen, home=self.out / ".kivy")
        self._app = build_app(self.cfg, self._port)
        self._pump = start_embedded(self._app)
        self.out.mkdir(parents=True, exist_ok=True)

    def _hand_over(self, view: View) -> None:
        """On the journey's thread: give `view` to the main thread and wait until it shows."""
        shown = threading.Event()
        self._views.put((view, shown))
        if not shown.wait(_SHOW_TIMEOUT_S):
            log.warning("the screen did not show %s within %.0f s", view.state, _SHOW_TIMEOUT_S)

    def _pace(self, terminal: LiveTerminal) -> PacedSession:
        from kiosk.preview import CameraPreview

        self._port.terminal = terminal
        # The identity screen previews the journey's own camera (its frames, not a black box).
        self._app.preview = CameraPreview(terminal.camera)
        return PacedSession(terminal, self._hand_over)

    def __call__(self, journey: Any, hardware: Any, backend: Any, *, say: Any = None) -> Any:
        if self._app is None:
            self._start()
        assert self._pump is not None
        box: dict[str, Any] = {}

        def play() -> None:
            try:
                box["result"] = run_journey(journey, hardware, backend, say=say,
                                            session=self._pace, shared_camera=True)
            except BaseException as e:  # re-raised on the main thread
                box["error"] = e

        worker = threading.Thread(target=play, name=f"journey-{journey.name}", daemon=True)
        worker.start()
        last: ScreenKey | None = None
        n = 0
        try:
            while worker.is_alive() or not self._views.empty():
                try:
                    view, shown = self._views.get(timeout=0.02)
                except queue.Empty:
                    self._pump(1)  # keep the window alive between views
                    continue
                try:
                    self._app.show(view)
                    self._pump(2)
                    if screen_key(view) != last:
                        n += 1
                        self._shoot(f"{journey.name}-{n:02d}-{self._app.sm.current}")
                        last = screen_key(view)
                finally:
                    shown.set()
        finally:
            worker.join(timeout=60)
            self._port.terminal = None
            self._app.preview = None  # that journey's camera is stopped
        if "error" in box:
            raise box["error"]
        if say is not None:
            say(f"screens of journey {journey.name}: {n} PNGs in {self.out}")
        return box["result"]

    def _shoot(self, name: str) -> None:
        from kivy.core.window import Window

        path = self.out / f"{name}.png"
        # Window.screenshot numbers its files; write under a temporary name, then move
        Path(Window.screenshot(name=str(path.with_suffix(".tmp.png")))).replace(path)
        self.written.append(path)
