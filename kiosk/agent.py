"""The headless kiosk core: journal, sync, telemetry, remote commands, payments and sagas.

`kiosk agent` runs it without the UI (technicians, tests, fleet simulation); `KioskApp`
starts it as its `agent` component. It implements `AgentControl` for the remote commands.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import signal
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kiosk.clock import Clock, SystemClock
from kiosk.config import ConfigError, KioskConfig, load_config
from kiosk.config.loader import PROJECT_DIR
from kiosk.config.terminal import Mode
from kiosk.events import EventQueue
from kiosk.journal import Journal, Sealer, load_key
from kiosk.privacy import RedactionFilter
from kiosk.services.activation import ActivationSaga
from kiosk.services.payment import PaymentService
from kiosk.sync.service import SyncService
from kiosk.telemetry import TelemetryService

__all__ = ["EXIT_RESTART", "Agent", "MaintenanceChanged", "apply_overrides", "state_dir"]

log = logging.getLogger("kiosk.agent")
SOFTWARE_VERSION = "0.1.0"
EXIT_RESTART = 75  # EX_TEMPFAIL: systemd `Restart=on-failure` brings the app back
OVERRIDES_KEY = "runtime_overrides"
MAINTENANCE_KEY = "maintenance"


@dataclass(frozen=True, slots=True)
class MaintenanceChanged:
    """Posted to the core queue when a remote command enters or leaves maintenance."""

    enabled: bool


def state_dir(config: KioskConfig) -> Path:
    """The terminal's state folder (relative paths are under the project folder)."""
    path = Path(config.terminal.state_dir)
    return path if path.is_absolute() else PROJECT_DIR / path


def apply_overrides(config: KioskConfig, overrides: Mapping[str, Any]) -> KioskConfig:
    """`config` with dotted-key overrides applied and validated; raises ValueError if invalid."""
    data = config.model_dump(mode="json")
    for dotted, value in overrides.items():
        section, _, key = dotted.partition(".")
        if section not in data or not isinstance(data[section], dict) or key not in data[section]:
            raise ValueError(f"unknown config key {dotted}")
        data[section][key] = value
    try:
        return KioskConfig.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"{where}: {first['msg']}") from None


class _LogRing(logging.Handler):
    """The last N formatted log lines, redacted, for `collect_logs`."""

    def __init__(self, size: int = 2000) -> None:
        super().__init__()
        self.lines: collections.deque[str] = collections.deque(maxlen=size)
        self.addFilter(RedactionFilter())
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:
            self.handleError(record)


class Agent:
    """Builds and runs the headless core. `start()` then `run_forever()` (or `stop()`).

    `health()` gives device name → DeviceHealth value for telemetry (devices the composition
    root owns), `details()` the conditions behind them (the printer's paper_near_end...).
    Not thread-safe for start/stop; the control methods run on the command thread.
    """

    def __init__(
        self,
        config: KioskConfig,
        *,
        clock: Clock | None = None,
        queue: EventQueue | None = None,
        config_path: Path | None = None,
        profile: str | None = None,
        environ: Mapping[str, str] | None = None,
        health: Callable[[], dict[str, str]] = dict,
        details: Callable[[], dict[str, str]] = dict,
    ) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.queue = queue
        self.config_path = config_path
        self.profile = profile
        self.environ = os.environ if environ is None else environ
        self.health = health
        self.details = details
        self.boot_id = uuid.uuid4().hex
        self.exit_code = 0
        self.sessions = 0
        self._stop = threading.Event()
        self._ring = _LogRing()
        self.journal: Journal | None = None
        self.sync: SyncService | None = None
        self.telemetry: TelemetryService | None = None
        self.payments: PaymentService | None = None
        self.activation: ActivationSaga | None = None
        self._housekeeping: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Open the journal (integrity check, migrations), apply runtime overrides, start sync,
        telemetry and housekeeping. Raises JournalError / JournalKeyError on a fatal state."""
        logging.getLogger().addHandler(self._ring)
        cfg = self.config
        folder = state_dir(cfg)
        key = load_key(
            cfg.journal.key_credential, demo=cfg.terminal.mode is Mode.DEMO, environ=self.environ
        )
        path = Path(cfg.journal.path)
        journal = Journal(
            path if path.is_absolute() else folder / path,
            config=cfg.journal,
            sealer=Sealer(key),
            clock=self.clock,
            terminal_id=cfg.terminal.id,
            boot_id=self.boot_id,
        )
        self.journal = journal
        overrides = json.loads(journal.meta_get(OVERRIDES_KEY) or "{}")
        if overrides:
            try:
                self.config = cfg = apply_overrides(cfg, overrides)
            except ValueError as e:
                log.error("runtime overrides ignored: %s", e)
        sync = SyncService(
            cfg.mqtt, journal, self.clock, software_version=SOFTWARE_VERSION, control=self
        )
        sync.maintenance = journal.meta_get(MAINTENANCE_KEY) == "1"
        self.sync = sync
        self.payments = PaymentService(
            journal, sync.rpc, self.clock, deadline_s=cfg.mqtt.payment_deadline_s
        )
        self.activation = ActivationSaga(journal, sync.rpc, self.clock, wake=sync.wake)
        # Unknown payments are reconciled as soon as the central can be asked.
        sync.add_connected_hook(self.payments.reconcile)
        self.telemetry = TelemetryService(
            cfg.telemetry,
            journal,
            self.clock,
            software_version=SOFTWARE_VERSION,
            state_dir=folder,
            health=self.health,
            details=self.details,
            counters=self._counters,
            on_enqueued=sync.wake,
        )
        sync.start()
        self.telemetry.start()
        self._housekeeping = threading.Thread(
            target=self._housekeep, name="journal-housekeeping", daemon=True
        )
        self._housekeeping.start()
        log.info("agent started: terminal %s boot %s", cfg.terminal.id, self.boot_id)

    def stop(self) -> None:
        """Stop in reverse order; the retained status becomes `stopped`. Idempotent."""
        self._stop.set()
        if self.telemetry is not None:
            self.telemetry.stop()
        if self.sync is not None:
            self.sync.stop()
        if self._housekeeping is not None:
            self._housekeeping.join(timeout=2)
            self._housekeeping = None
        if self.journal is not None:
            self.journal.close()
        logging.getLogger().removeHandler(self._ring)
        self.telemetry = self.sync = self.journal = None

    def request_stop(self) -> None:
        """Make `run_forever` return (any thread, signal handlers included)."""
        self._stop.set()

    def wait_stopped(self, timeout: float) -> bool:
        """True once a stop was requested (signal, `request_stop()`, restart command)."""
        return self._stop.wait(timeout)

    def run_forever(self, *, install_signals: bool = True) -> int:
        """Block until SIGTERM/SIGINT (when `install_signals`), `request_stop()` or a restart
        command; returns the exit code."""
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: self._stop.set())
        self._stop.wait()
        return self.exit_code

    def _housekeep(self) -> None:
        """Journal retention, and open payments asked about again while connected."""
        cfg = self.config
        tick = min(cfg.journal.purge_interval_s, cfg.mqtt.reconcile_interval_s)
        last_purge = last_reconcile = self.clock.monotonic()
        while not self._stop.wait(tick):
            now = self.clock.monotonic()
            try:
                if self.journal is not None and now - last_purge >= cfg.journal.purge_interval_s:
                    last_purge = now
                    self.journal.purge()
                if (
                    self.payments is not None
                    and self.sync is not None
                    and self.sync.connected
                    and now - last_reconcile >= cfg.mqtt.reconcile_interval_s
                ):
                    last_reconcile = now
                    if self.payments.open_count():
                        self.payments.reconcile(wait=False)
            except Exception:
                log.exception("journal housekeeping failed")

    def note_session(self) -> None:
        """A citizen session ended (counted in telemetry `sessions`); any thread."""
        self.sessions += 1

    def _counters(self) -> dict[str, Any]:
        out: dict[str, Any] = {"sessions": self.sessions}
        if self.sync is not None:
            out.update(self.sync.counters())
            out["maintenance"] = self.sync.maintenance
            errors = {f"inbound.{k}": v for k, v in self.sync.guard.rejections.items()}
            errors["sync.rpc_timeout"] = self.sync.rpc.timeouts
            errors["outbox.dead"] = self.sync.drainer.dead
            out["errors"] = {k: v for k, v in errors.items() if v}
        if self.payments is not None:
            out["unknown_payments"] = self.payments.open_count()
        return out

    # ------------------------------------------------------------------ AgentControl

    def set_maintenance(self, enabled: bool) -> None:
        assert self.journal is not None and self.sync is not None
        self.journal.meta_set(MAINTENANCE_KEY, "1" if enabled else "0")
        self.sync.maintenance = enabled
        self.sync.publish_status()
        if self.queue is not None:
            self.queue.post(MaintenanceChanged(enabled))
        log.info("maintenance %s by remote command", "on" if enabled else "off")

    def reload_config(self) -> str:
        try:
            loaded = load_config(self.config_path, profile=self.profile, environ=self.environ)
        except ConfigError as e:
            raise ValueError(str(e)) from None
        new = loaded.config
        changed = [
            name
            for name in KioskConfig.model_fields
            if getattr(new, name) != getattr(self.config, name)
        ]
        self.config = new
        # Running components keep their frozen sections; a restart applies the new ones.
        return "changed: " + (", ".join(changed) if changed else "nothing")

    def set_config(self, key: str, value: str | int | float | bool) -> dict[str, Any]:
        assert self.journal is not None
        overrides = json.loads(self.journal.meta_get(OVERRIDES_KEY) or "{}")
        overrides[key] = value
        self.config = apply_overrides(self.config, {key: value})  # raises ValueError
        self.journal.meta_set(OVERRIDES_KEY, json.dumps(overrides, sort_keys=True))
        section, _, field = key.partition(".")
        return {
            "key": key,
            "value": getattr(getattr(self.config, section), field),
            "applies": "restart",
        }

    def restart_app(self) -> None:
        log.warning("restart requested by remote command")
        self.exit_code = EXIT_RESTART
        # Let the `succeeded` ack leave first: the stop happens on a short timer.
        threading.Timer(0.5, self._stop.set).start()

    def rebirth(self) -> None:
        if self.sync is not None:
            self.sync.publish_status()
        if self.telemetry is not None:
            self.telemetry.send_now()

    def log_tail(self, lines: int) -> list[str]:
        return list(self._ring.lines)[-lines:]
