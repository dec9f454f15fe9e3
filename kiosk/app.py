"""The composition root: builds every component from the config, in order, and stops them in
the reverse order. Nothing else constructs services, clocks or queues (docs/architecture.md §1).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from drivers.camera.source import FrameSource
from drivers.card.driver import CardDriver
from drivers.fingerprint.driver import FingerprintDriver
from drivers.personal import set_mask_policy
from drivers.vocabulary import DeviceHealthChanged
from kiosk.agent import Agent, MaintenanceChanged
from kiosk.camera_access import camera_settings
from kiosk.clock import Clock, SystemClock
from kiosk.config import KioskConfig
from kiosk.device import Device
from kiosk.events import EventQueue
from kiosk.idcard import IdCardDevice
from kiosk.preview import CameraPreview
from kiosk.printing import ReceiptPrinter
from kiosk.watchdog import SystemdNotifier

if TYPE_CHECKING:
    from kiosk.session.runner import SessionRunner

__all__ = ["Component", "KioskApp"]

log = logging.getLogger("kiosk.app")


class StoppableCore(Protocol):
    """What the main loop needs of the agent: whether to stop, and the exit code then."""

    exit_code: int

    def wait_stopped(self, timeout: float) -> bool: ...


@dataclass(slots=True)
class Component:
    """A started part of the kiosk with its stop action."""

    name: str
    stop: Callable[[], None]


class KioskApp:
    """Ordered `init_*` / `start` steps and a mirrored `stop()`.

    Each step runs inside its own try/except: a device that fails to start is reported and the
    kiosk degrades, instead of one component stopping all the others (Klipper's rule).
    """

    def __init__(
        self, config: KioskConfig, *, clock: Clock | None = None, queue: EventQueue | None = None
    ) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.queue = queue or EventQueue()
        self._components: list[Component] = []
        self.failed: dict[str, str] = {}
        self.agent: Agent | None = None
        # Devices started by the init steps; the agent reports their health in telemetry.
        self.devices: list[Device] = []
        self.fingerprint: FingerprintDriver | None = None
        self.camera: FrameSource | None = None
        self.session: SessionRunner | None = None
        self._central_online: bool | None = None

    def init_privacy(self) -> None:
        """Apply the configured masks to every personal value shown or logged."""
        set_mask_policy(self.config.privacy.mask_policy())

    def init_card_reader(self) -> CardDriver:
        """The card reader as device `card_reader`: its monitor thread posts `ReaderAdded`,
        `CardInserted`, `CardRemoved` and `DeviceHealthChanged` to the core queue. A missing
        pcscd or reader shows as health (offline, no_device), never as a failed start."""
        driver = CardDriver(self.config.card.driver_settings(), sink=self.queue.post)
        self._start_device("card_reader", driver)
        return driver

    def _start_device(self, name: str, device: Device) -> None:
        """Start `device` as component `name`; its health joins `device_health()`."""

        def start() -> Callable[[], None]:
            device.start()
            self.devices.append(device)

            def stop() -> None:
                device.stop()
                self.devices.remove(device)

            return stop

        self.add(name, start)

    def init_fingerprint(self) -> FingerprintDriver:
        """The fingerprint scanner as device `fingerprint`. Opening it empties the module's own
        library (nothing of a citizen stays in it); a missing scanner shows as `no_device` and
        the driver keeps trying to reopen it."""
        driver = FingerprintDriver(self.config.fingerprint.to_settings(), post=self.queue.post)
        self._start_device("fingerprint", driver)
        self.fingerprint = driver
        return driver

    def init_camera(self) -> FrameSource:
        """The camera as device `camera`: its thread keeps only the newest frame and reconnects
        when the device comes back; a missing camera shows as `no_device`."""
        # production: a camera device only (kiosk/camera_access.py refuses generated/file)
        settings = camera_settings(self.config, raise_refused=False)
        source = FrameSource(settings, on_event=self.queue.post)
        self._start_device("camera", source)
        self.camera = source
        return source

    def camera_preview(self) -> CameraPreview:
        """The read-only preview of the running camera for the touchscreen (kiosk/preview.py):
        no picture until `init_camera` ran."""
        return CameraPreview(self.camera)

    def init_printer(self) -> ReceiptPrinter | None:
        """The receipt printer as device `printer` (and the session's printer port): its
        status is polled, so paper near its end, paper out and cover open show in telemetry
        (`device_details["printer"]`, health online / user_error); a missing printer is
        `no_device` and the session offers no printing. None when `[printer] enabled` is off."""
        if not self.config.printer.enabled:
            return None
        printer = ReceiptPrinter(self.config.printer, post=self.queue.post)
        self._start_device("printer", printer)
        return printer

    def init_id_card_reader(self) -> IdCardDevice | None:
        """The resident ID card reader as device `id_card_reader` (and the session's ID card
        port, for activation's identity step). Down, activation asks for the ID number typed
        (or hides, per `policy.id_card_check`). None when `[idcard] enabled` is off."""
        if not self.config.idcard.enabled:
            return None
        reader = IdCardDevice(self.config.idcard, post=self.queue.post, clock=self.clock)
        self._start_device("id_card_reader", reader)
        return reader

    def init_agent(self, **kwargs: Any) -> Agent:
        """The headless core (journal, sync, telemetry, remote commands) as component `agent`.

        Not part of `start()`: the composition root calls it when the terminal syncs (`kiosk
        agent`, the UI app); `kwargs` go to `Agent` (config_path, profile, health...).
        """
        kwargs.setdefault("health", self.device_health)
        kwargs.setdefault("details", self.device_details)
        agent = Agent(self.config, clock=self.clock, queue=self.queue, **kwargs)
        self.agent = agent

        def start() -> Callable[[], None]:
            agent.start()
            return agent.stop

        self.add("agent", start)
        return agent

    def init_session(self, agent: Agent) -> SessionRunner | None:
        """The citizen session as component `session`: the state machine's runner on the real
        ports (kiosk/journeys/ports.py: card reader and PSAM, the started camera and scanner,
        the central clients on the agent's RPC, the journal's outbox). Card, health and
        maintenance events from the core queue reach it through `on_event`; the UI subscribes
        to its views. Call after `init_agent` (the agent must have started)."""
        from kiosk.journeys.ports import build_ports  # the session's real adapters
        from kiosk.session.policy import build_policy
        from kiosk.session.runner import SessionRunner

        def start() -> Callable[[], None]:
            journal, sync, payments = agent.journal, agent.sync, agent.payments
            if journal is None or sync is None or payments is None:
                raise RuntimeError("the agent is not running: no session without its journal")
            ports = build_ports(
                self.config,
                journal=journal,
                rpc=sync.rpc,
                payments=payments,
                clock=self.clock,
                fingerprint=self.fingerprint,
                camera=self.camera,
                wake=sync.wake,
            )
            runner = SessionRunner(build_policy(self.config), ports.ports, self.clock).start()
            self.session = runner

            def stop() -> None:
                self.session = None
                runner.stop()
                ports.card.forget()
                ports.identity.forget()
                ports.services.close_session()

            return stop

        self.add("session", start)
        return self.session

    def device_health(self) -> dict[str, str]:
        """Device name → DeviceHealth value of every started device (any thread)."""
        return {d.name: d.health.value for d in list(self.devices)}

    def device_details(self) -> dict[str, str]:
        """Device name → its condition, for devices that say one (the printer's paper_near_end,
        paper_out, cover_open...); a device without a `detail` has nothing to add (any thread)."""
        out: dict[str, str] = {}
        for d in list(self.devices):
            detail = getattr(d, "detail", "")
            if isinstance(detail, str) and detail:
                out[d.name] = detail
        return out

    def add(self, name: str, start: Callable[[], Callable[[], None]]) -> bool:
        """Run `start` (which returns the stop action); on failure record it and carry on."""
        try:
            stop = start()
        except Exception as e:  # one failing component must not stop the others
            log.exception("component %s failed to start", name)
            self.failed[name] = f"{type(e).__name__}: {e}"
            return False
        self._components.append(Component(name, stop))
        return True

    def start(self) -> None:
        """Start every component in order."""
        self.init_privacy()
        self.init_card_reader()
        self.init_fingerprint()
        self.init_camera()
        self.init_printer()
        self.init_id_card_reader()

    def on_event(self, event: object) -> None:
        """Handle one event from the core queue (main thread).

        Device health changes are logged (each device posts a change once); card, health and
        maintenance events go on to the citizen session when it runs.
        """
        if isinstance(event, DeviceHealthChanged):
            log.info("device %s is %s %s", event.device, event.health.value, event.detail)
        else:
            log.debug("event %s", type(event).__name__)
        session = self.session
        if session is None:
            return
        from kiosk.journeys.ports import device_to_session
        from kiosk.session.events import MaintenanceCommanded

        if isinstance(event, MaintenanceChanged):
            session.post(MaintenanceCommanded(enabled=event.enabled))
            return
        translated = device_to_session(event)
        if translated is not None:
            session.post(translated)

    def _watch_link(self, agent: StoppableCore) -> None:
        """Tell the session when the broker link to the central comes or goes."""
        session = self.session
        sync = getattr(agent, "sync", None)
        if session is None or sync is None:
            return
        online = bool(sync.connected)
        if online != self._central_online:
            from kiosk.session.events import CentralReachability

            self._central_online = online
            session.post(CentralReachability(online=online))

    def run(self, agent: StoppableCore, notifier: SystemdNotifier | None = None) -> int:
        """The core's main loop: consume events and feed the systemd watchdog until the agent
        stops; returns the agent's exit code.

        The heartbeat comes from this loop, not from a timer thread, so a hung core is what
        the watchdog catches (systemd restarts the service after WatchdogSec).
        """
        notifier = notifier or SystemdNotifier()
        beat = min(notifier.interval_s or 1.0, 1.0)
        notifier.ready(f"terminal {self.config.terminal.id} running")
        while not agent.wait_stopped(0):
            event = self.queue.get(timeout=beat)
            if event is not None:
                try:
                    self.on_event(event)
                except Exception:  # one bad event must not stop the core
                    log.exception("handling %s failed", type(event).__name__)
            self._watch_link(agent)
            notifier.heartbeat()
        notifier.stopping()
        return agent.exit_code

    def stop(self) -> None:
        """Stop components in reverse start order; each stop runs even if another failed."""
        while self._components:
            comp = self._components.pop()
            try:
                comp.stop()
            except Exception:
                log.exception("component %s failed to stop", comp.name)
