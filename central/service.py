"""The central process's composition root: storage schema, N shared-subscription workers, and
the fleet monitor web page, started in order and stopped in reverse."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from central.certificates import CertificateSigner
from central.config import CentralConfig, resolve_path
from central.storage import open_storage
from central.trust import SessionTrust
from central.worker import CentralWorker, WorkerStats, new_boot_id
from kiosk.contract import Telemetry

if TYPE_CHECKING:
    from central.fleet.monitor import FleetMonitor

__all__ = ["CentralService"]

logger = logging.getLogger("central")


class CentralService:
    """`start()`: create the schema if missing, start `workers.count` workers (worker 0 also
    publishes the central's presence) and, if `[run] fleet_monitor`, the fleet monitor.
    `stop()` mirrors it. Not reentrant; call from one thread."""

    def __init__(
        self,
        config: CentralConfig,
        *,
        clock: Callable[[], float] = time.time,
        on_telemetry: Callable[[Telemetry, float], None] | None = None,
    ) -> None:
        self.config = config
        self.boot_id = new_boot_id()
        # One token key and one certificate key for every worker (tokens are stateless).
        self.trust = SessionTrust(config.trust, clock)
        key_file = config.trust.certificate_key_file
        self.signer = CertificateSigner.load(resolve_path(key_file) if key_file else None)
        self.workers = [
            CentralWorker(
                i,
                config,
                boot_id=self.boot_id,
                presence=(i == 0),
                clock=clock,
                on_telemetry=on_telemetry,
                trust=self.trust,
                signer=self.signer,
            )
            for i in range(config.workers.count)
        ]
        self.monitor: FleetMonitor | None = None  # when [run] fleet_monitor
        self._started: list[CentralWorker] = []

    def start(self, *, wait: bool = True) -> None:
        """Start everything; with `wait`, block until every worker is subscribed (or raise
        TimeoutError after `broker.connect_timeout_s`, leaving nothing running)."""
        with open_storage(self.config.storage) as db:
            db.create_schema()
        try:
            for w in self.workers:
                w.start()
                self._started.append(w)
            if wait:
                deadline = time.monotonic() + self.config.broker.connect_timeout_s
                for w in self.workers:
                    if not w.wait_ready(max(0.0, deadline - time.monotonic())):
                        b = self.config.broker
                        raise TimeoutError(
                            f"worker {w.client_id} not subscribed on {b.host}:{b.port}"
                            f" after {b.connect_timeout_s}s"
                        )
            if self.config.run.fleet_monitor:
                self._start_monitor()
        except BaseException:
            self.stop()
            raise
        logger.info("central started: %d workers, boot %s", len(self.workers), self.boot_id)

    def wait_ready(self, timeout: float) -> bool:
        """True once every started worker is connected and subscribed (SUBACK), within
        `timeout` seconds in all."""
        deadline = time.monotonic() + timeout
        return bool(self._started) and all(
            w.wait_ready(max(0.0, deadline - time.monotonic())) for w in self._started
        )

    def _start_monitor(self) -> None:
        # Imported here: the monitor is an optional part of the process (and its web server).
        from central.fleet.monitor import FleetMonitor

        monitor = FleetMonitor.from_config(self.config.fleet_config())
        monitor.start()
        self.monitor = monitor
        logger.info("fleet monitor at %s", monitor.url)

    def stop(self) -> None:
        """Stop the monitor, then the workers (each flushes telemetry). Idempotent."""
        monitor, self.monitor = self.monitor, None
        if monitor is not None:
            try:
                monitor.stop()
            except Exception:
                logger.exception("fleet monitor stop failed")
        while self._started:
            w = self._started.pop()
            try:
                w.stop()
            except Exception:
                logger.exception("worker %s stop failed", w.client_id)

    def stats(self) -> WorkerStats:
        """The workers' counters summed."""
        total = WorkerStats()
        for w in self.workers:
            total.add(w.stats)
        return total
