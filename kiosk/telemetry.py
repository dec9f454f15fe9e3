"""Telemetry: a periodic health report into the outbox's telemetry lane (after business rows)."""

from __future__ import annotations

import glob
import logging
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.clock import Clock
from kiosk.config.telemetry import TelemetryConfig
from kiosk.contract import Channel, OutboxSends, Telemetry
from kiosk.journal.store import DataClass, Journal, Lane

__all__ = ["TelemetryService", "read_temperature"]

log = logging.getLogger("kiosk.telemetry")


def read_temperature(pattern: str) -> float | None:
    """The highest thermal-zone temperature in °C, or None where none is readable."""
    best: float | None = None
    for name in glob.glob(pattern):
        try:
            value = int(Path(name).read_text().strip()) / 1000.0
        except (OSError, ValueError):
            continue
        best = value if best is None else max(best, value)
    return best


class TelemetryService:
    """Builds a `Telemetry` report every `interval_s` on its own thread.

    `health()` gives device name → DeviceHealth value, `details()` device name → condition
    (only devices that have one); `counters()` the sync and service
    counters (keys of the Telemetry model, e.g. ``connects``, ``sessions``); `on_enqueued` is
    called after each row (the drain's wake-up).
    """

    def __init__(
        self,
        config: TelemetryConfig,
        journal: Journal,
        clock: Clock,
        *,
        software_version: str,
        state_dir: Path,
        health: Callable[[], dict[str, str]] = dict,
        details: Callable[[], dict[str, str]] = dict,
        counters: Callable[[], dict[str, Any]] = dict,
        on_enqueued: Callable[[], None] = lambda: None,
    ) -> None:
        self.config = config
        self._journal = journal
        self._clock = clock
        self.software_version = software_version
        self.state_dir = state_dir
        self._health = health
        self._details = details
        self._counters = counters
        self._on_enqueued = on_enqueued
        self._started = clock.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sent = 0

    def report(self, envelope: dict[str, Any]) -> Telemetry:
        """One report with `envelope` fields (also used by rebirth and `kiosk sync status`)."""
        stats = self._journal.stats()
        try:
            disk = shutil.disk_usage(self.state_dir)
            free, total = disk.free, disk.total
        except OSError:
            free = total = 0
        known = set(Telemetry.model_fields)
        counters = self._counters()
        extra = {k: v for k, v in counters.items() if k in known}
        sends = {k: counters[k] for k in OutboxSends.model_fields if k in counters}
        fields: dict[str, Any] = {
            "software_version": self.software_version,
            "uptime_s": max(0.0, self._clock.monotonic() - self._started),
            "devices": self._health(),
            "device_details": self._details(),
            "outbox_depth": stats.depth,
            "outbox_oldest_age_s": stats.oldest_age_s,
            "dead_rows": stats.dead,
            "disk_free_bytes": free,
            "disk_total_bytes": total,
            "temperature_c": read_temperature(self.config.thermal_glob),
        }
        if sends:  # the drain's counters (SyncService.counters), when sync runs here
            fields["outbox_sends"] = OutboxSends(**sends)
        fields.update(extra)
        return Telemetry(**fields, **envelope)

    def send_now(self) -> str:
        """Enqueue a report now; returns its msg_id."""
        msg_id = self._journal.enqueue_message(
            self.report, Channel.TELEMETRY, Lane.TELEMETRY, DataClass.OPERATIONAL
        )
        self.sent += 1
        self._on_enqueued()
        return msg_id

    def start(self) -> None:
        """Start the periodic thread (no-op when disabled)."""
        if self.config.enabled and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="telemetry", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.config.interval_s):
            try:
                self.send_now()
            except Exception:
                log.exception("telemetry report failed")
