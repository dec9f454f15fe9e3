"""The demo's scripted journeys on the touchscreen: each journey runs on the emulated hardware
in a worker thread (as `run_journey` does) while the Kivy main thread renders every view the
session publishes, on the display or offscreen, writing a PNG of each new screen."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.config.ui import UiConfig
from kiosk.journeys.live import LiveTerminal
from kiosk.journeys.rig import profile_secrets
from kiosk.journeys.runner import JourneyRunner

__all__ = ["JourneyScreens"]

log = logging.getLogger("ui.journey_screens")


class _Port:
    def __init__(self) -> None:
        self.terminal: LiveTerminal | None = None

    def send(self, intent: Any) -> None:
        if self.terminal is not None:
            self.terminal.send(intent)


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

    def _start(self) -> None:
        from ui.runtime import build_app, start_embedded, start_kivy

        start_kivy(self.cfg, offscreen=self.offscreen, home=self.out / ".kivy")
        self._app = build_app(self.cfg, self._port)
        self._pump = start_embedded(self._app)
        self.out.mkdir(parents=True, exist_ok=True)

    def __call__(self, journey: Any, hardware: Any, backend: Any, *, say: Any = None) -> Any:
        if self._app is None:
            self._start()
        assert self._pump is not None
        from kivy.core.window import Window

        hardware.empty_slot()
        hardware.card_profile = journey.card
        hardware.camera_source = journey.camera
        hardware.place_finger(journey.finger)
        terminal = LiveTerminal(hardware.config(), backend).start()
        self._port.terminal = terminal
        assert terminal.runner is not None and terminal.outbox is not None
        unsubscribe = terminal.runner.subscribe(self._app.bridge.post)
        runner = JourneyRunner(journey, hardware, terminal, terminal.outbox,
                               profile_secrets(journey.card), say=say)
        box: dict[str, Any] = {}
        worker = threading.Thread(target=lambda: box.update(result=runner.run()),
                                  name=f"journey-{journey.name}", daemon=True)
        worker.start()
        last: tuple[str, str] | None = None
        n = 0
        try:
            while worker.is_alive() or last != self._key():
                self._pump(1)
                key = self._key()
                if key is not None and key != last:
                    self._pump(2)
                    n += 1
                    path = self.out / f"{journey.name}-{n:02d}-{self._app.sm.current}.png"
                    Path(Window.screenshot(name=str(path.with_suffix(".tmp.png")))).replace(path)
                    self.written.append(path)
                    last = key
                if not worker.is_alive() and key == last:
                    break
        finally:
            worker.join(timeout=60)
            unsubscribe()
            self._port.terminal = None
            terminal.stop()
        if say is not None:
            say(f"screens of journey {journey.name}: {n} PNGs in {self.out}")
        return box["result"]

    def _key(self) -> tuple[str, str] | None:
        view = self._app.view
        return None if view is None else (view.state, view.title.key)
