"""Running the app in one process with the core: the Kivy main thread renders, the core
(devices, agent, session runner) runs on its own threads, and the systemd watchdog is fed from
the Kivy loop only while the core's heartbeat is fresh, so a hung UI or a hung core is restarted.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from typing import Any, Protocol

from kiosk.config.ui import UiConfig
from kiosk.preview import PreviewPort
from kiosk.session.intents import Intent, SetLanguage
from kiosk.session.view import ErrorInfo, View, text
from kiosk.watchdog import SystemdNotifier
from ui.runtime import build_app, start_kivy

__all__ = [
    "Core",
    "GatedWatchdog",
    "OutOfServicePort",
    "run_app",
    "run_kiosk",
    "run_out_of_service",
]

log = logging.getLogger("ui.host")


class Core(Protocol):
    """What the UI needs of the core (kiosk side, Kivy-free)."""

    @property
    def preview(self) -> PreviewPort | None:
        """The running camera's newest frame (kiosk/preview.py); None without a camera."""
        ...

    def send(self, intent: Intent) -> None: ...

    def subscribe(self, callback: Callable[[View], None]) -> Callable[[], None]: ...

    def heartbeat_age(self) -> float: ...

    def stop(self) -> None: ...


class GatedWatchdog:
    """Called from a Kivy Clock: pings systemd only if the core beat within `stale_s`."""

    def __init__(self, notifier: SystemdNotifier, core_age: Callable[[], float],
                 stale_s: float) -> None:
        self._notifier = notifier
        self._core_age = core_age
        self._stale_s = stale_s
        self.pings = 0
        self.withheld = 0

    def __call__(self) -> None:
        age = self._core_age()
        if age <= self._stale_s:
            self._notifier.heartbeat()
            self.pings += 1
        else:
            self.withheld += 1
            if self.withheld == 1 or self.withheld % 10 == 0:
                log.error("core heartbeat is %.1f s old: not feeding the watchdog", age)


def run_app(cfg: UiConfig, core: Core, *, offscreen: bool = False,
            notifier: SystemdNotifier | None = None) -> int:
    """Run the touchscreen until the app stops; returns the exit code."""
    start_kivy(cfg, offscreen=offscreen)
    notifier = notifier or SystemdNotifier()
    watchdog = GatedWatchdog(notifier, core.heartbeat_age, cfg.watchdog_core_stale_s)
    interval = min(notifier.interval_s or 1.0, 1.0)
    app = build_app(cfg, core, heartbeat=watchdog, heartbeat_interval_s=interval,
                    preview=core.preview)
    unsubscribe = core.subscribe(app.bridge.post)

    def stop(_sig: int, _frame: object) -> None:
        from kivy.clock import Clock

        log.info("stop requested")
        Clock.schedule_once(lambda _dt: app.stop(), 0)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)
    notifier.ready("touchscreen running")
    try:
        app.run()
    finally:
        notifier.stopping()
        unsubscribe()
        core.stop()
    return 0


class OutOfServicePort:
    """The session when there is none (invalid config): only the language can change."""

    def __init__(self, view: View) -> None:
        self._view = view
        self._callbacks: list[Callable[[View], None]] = []
        self.preview: PreviewPort | None = None
        self._started = time.monotonic()

    def send(self, intent: Intent) -> None:
        from dataclasses import replace

        if isinstance(intent, SetLanguage):
            self._view = replace(self._view, language=intent.language)
            for cb in self._callbacks:
                cb(self._view)

    def subscribe(self, callback: Callable[[View], None]) -> Callable[[], None]:
        self._callbacks.append(callback)
        callback(self._view)
        return lambda: self._callbacks.remove(callback)

    def heartbeat_age(self) -> float:
        return 0.0  # nothing else runs: the UI loop alone keeps the unit alive

    def stop(self) -> None:
        pass


def out_of_service_view(detail: str, language: str = "zh_CN") -> View:
    """The out-of-service screen for a terminal whose config does not load."""
    return View(
        "out_of_service", text("ui.boot.config_title"),
        error=ErrorInfo(text("ui.boot.config_invalid"), text("ui.boot.config_next"),
                        code="config_invalid"),
        notices=(text("ui.boot.detail", detail=detail[:400]),),
        intents=frozenset({"SetLanguage"}), language=language,
    )


def run_out_of_service(cfg: UiConfig, detail: str, *, offscreen: bool = False) -> int:
    """Show why the terminal is out of service instead of exiting (no crash loop)."""
    log.error("config invalid, showing out of service: %s", detail)
    return run_app(cfg, OutOfServicePort(out_of_service_view(detail)), offscreen=offscreen)


def run_kiosk(loaded: Any, *, offscreen: bool = False, config_path: Any = None,
              profile: str | None = None) -> int:
    """The product: the touchscreen with the agent and the session on the real devices.
    A core that cannot start shows the out-of-service screen with the reason."""
    from ui.core import UiCore

    cfg = loaded.config.ui
    try:
        core = UiCore(loaded, config_path=config_path, profile=profile)
    except Exception as e:  # the panel must say it, not crash-loop
        log.exception("the core did not start")
        return run_out_of_service(cfg, f"{type(e).__name__}: {e}", offscreen=offscreen)
    return run_app(cfg, core, offscreen=offscreen)
