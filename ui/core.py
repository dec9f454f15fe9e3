"""The core of the touchscreen process (Kivy-free): the composition root's agent (journal,
sync, telemetry, remote commands) and the session on the real devices (LiveTerminal: session
runner, card monitor, scanner, camera per check), each on its own threads.

The core's main loop (`KioskApp.run`) runs on the `kiosk-core` thread and reports each beat
here instead of to systemd; the Kivy loop feeds systemd only while those beats are fresh.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from kiosk.app import KioskApp
from kiosk.config import LoadedConfig
from kiosk.journeys.live import Backend, LiveTerminal
from kiosk.preview import PreviewPort
from kiosk.session.intents import Intent
from kiosk.session.view import View

__all__ = ["BeatRecorder", "UiCore"]

log = logging.getLogger("ui.core")


class BeatRecorder:
    """Stands in for SystemdNotifier in the core's loop: remembers when it last beat."""

    interval_s: float | None = None

    def __init__(self) -> None:
        self._last = time.monotonic()
        self.status_text = ""

    def ready(self, status: str = "ready") -> None:
        self.status_text = status
        self.heartbeat()

    def status(self, status: str) -> None:
        self.status_text = status

    def heartbeat(self) -> None:
        self._last = time.monotonic()

    def stopping(self) -> None:
        self.status_text = "stopping"

    def age(self) -> float:
        return time.monotonic() - self._last


class UiCore:
    """Agent + live terminal; implements ui.host.Core."""

    def __init__(self, loaded: LoadedConfig, *, config_path: Any = None,
                 profile: str | None = None) -> None:
        self.config = loaded.config
        self.app = KioskApp(self.config)
        self.app.init_privacy()
        self.agent = self.app.init_agent(config_path=config_path, profile=profile)
        if "agent" in self.app.failed:
            raise RuntimeError(f"agent: {self.app.failed['agent']}")
        a = self.agent
        assert a.journal is not None and a.sync is not None and a.payments is not None
        sync = a.sync
        backend = Backend(a.journal, sync.rpc, a.payments, sync.wake, lambda: sync.connected)
        # One running camera: the face check and the QR scan take its frames, the identity
        # screen previews it (kiosk/preview.py); its health joins the agent's telemetry.
        camera = self.app.init_camera()
        self.terminal = LiveTerminal(self.config, backend, camera=camera).start()
        self.beats = BeatRecorder()
        self.preview: PreviewPort = self.app.camera_preview()
        self._loop = threading.Thread(target=self._run, name="kiosk-core", daemon=True)
        self._loop.start()

    def _run(self) -> None:
        try:
            self.app.run(self.agent, notifier=self.beats)  # type: ignore[arg-type]
        except Exception:
            log.exception("the core loop stopped")

    def send(self, intent: Intent) -> None:
        self.terminal.send(intent)

    def subscribe(self, callback: Callable[[View], None]) -> Callable[[], None]:
        runner = self.terminal.runner
        assert runner is not None
        return runner.subscribe(callback)

    def heartbeat_age(self) -> float:
        """Seconds since the core's loop beat; infinite once a core thread died."""
        if not self._loop.is_alive() or self.terminal.runner is None:
            return float("inf")
        return self.beats.age()

    def stop(self) -> None:
        self.agent.request_stop()
        self.terminal.stop()
        self._loop.join(timeout=10)
        self.app.stop()
