"""systemd integration: READY/STATUS/STOPPING notifications and the watchdog heartbeat.

Outside systemd ($NOTIFY_SOCKET unset) every call is a no-op, so the same code runs in a
terminal, in tests and under `Type=notify`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

import sdnotify

__all__ = ["SystemdNotifier"]

log = logging.getLogger("kiosk.watchdog")


class SystemdNotifier:
    """Talks to systemd's notify socket. `interval_s` is half of WatchdogSec (systemd's advice)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.enabled = bool(env.get("NOTIFY_SOCKET"))
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        watchdog_for_us = usec.isdigit() and (not pid or pid == str(os.getpid()))
        self.interval_s: float | None = int(usec) / 2e6 if watchdog_for_us else None
        self._notifier = sdnotify.SystemdNotifier() if self.enabled else None

    def _send(self, message: str) -> None:
        if self._notifier is not None:
            self._notifier.notify(message)

    def ready(self, status: str = "ready") -> None:
        """The service finished starting (Type=notify waits for this)."""
        log.info("ready: %s", status)
        self._send(f"READY=1\nSTATUS={status}")

    def status(self, status: str) -> None:
        """A one-line status shown by `systemctl status`."""
        self._send(f"STATUS={status}")

    def heartbeat(self) -> None:
        """Tell the watchdog the main loop is alive; call at least every `interval_s`."""
        self._send("WATCHDOG=1")

    def stopping(self) -> None:
        """A clean stop began."""
        self._send("STOPPING=1")
