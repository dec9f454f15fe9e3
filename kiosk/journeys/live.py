"""A live headless terminal: the session runner on the real ports, fed by the card reader's
monitor, and the `SessionDriver` a journey uses to talk to it.

`LiveTerminal.start(...)` builds the ports (kiosk/journeys/ports.py) on the devices of the
config, the session runner with its policy, and the card monitor whose insert/remove events go
to the session; `stop()` undoes it. `run_journey` runs one journey file on it.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from drivers.camera.service import FaceVerifier
from drivers.camera.source import FrameSource
from drivers.card.driver import CardDriver
from drivers.fingerprint.driver import FingerprintDriver
from kiosk.clock import Clock, SystemClock
from kiosk.config import KioskConfig
from kiosk.idcard import IdCardDevice
from kiosk.journal.store import Journal
from kiosk.journeys.ports import RealPorts, build_ports, device_to_session
from kiosk.journeys.rig import EmulatedHardware, profile_secrets
from kiosk.journeys.runner import JourneyResult, JourneyRunner, ObservedOutbox, SessionDriver
from kiosk.journeys.spec import Journey
from kiosk.printing import ReceiptPrinter
from kiosk.services.payment import PaymentService
from kiosk.session.events import CentralReachability, DeviceHealthChanged, Tick
from kiosk.session.intents import Intent
from kiosk.session.policy import build_policy
from kiosk.session.ports import OutboxPort
from kiosk.session.runner import SessionRunner
from kiosk.session.view import View
from kiosk.sync.rpc import RpcClient

__all__ = ["Backend", "LiveTerminal", "OffsetClock", "RunnerDriver", "run_journey"]

log = logging.getLogger("kiosk.journeys.live")
Say = Callable[[str], None]
_LINK_POLL_S = 0.1


class OffsetClock:
    """The real clock, plus an offset a journey's `wait` step moves forward: timeouts of 30 s
    are reached at once, and every other reading stays consistent (never goes back)."""

    def __init__(self, base: Clock | None = None) -> None:
        self._base = base or SystemClock()
        self._offset = 0.0
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        with self._lock:
            return self._base.monotonic() + self._offset

    def wall(self) -> float:
        with self._lock:
            return self._base.wall() + self._offset

    def sleep(self, seconds: float) -> None:
        self._base.sleep(seconds)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time does not go back")
        with self._lock:
            self._offset += seconds


@dataclass(frozen=True, slots=True)
class Backend:
    """What the ports need of the headless core (the agent's journal, RPC and payments)."""

    journal: Journal
    rpc: RpcClient
    payments: PaymentService
    wake: Callable[[], None] = lambda: None
    connected: Callable[[], bool] = lambda: True


class _Views:
    """The views the runner published and the journey has not taken yet, numbered. A view is
    dropped once taken: nothing of a citizen outlives the session in this history."""

    def __init__(self) -> None:
        self._items: collections.deque[View] = collections.deque()
        self._first = 0  # number of the oldest view kept
        self.cond = threading.Condition()

    def add(self, view: View) -> None:
        with self.cond:
            self._items.append(view)
            self.cond.notify_all()

    def take_after(self, after: int, timeout_s: float) -> tuple[int, View] | None:
        """View number `after + 1` (older ones are dropped), waiting up to `timeout_s`."""
        with self.cond:
            wanted = max(after + 1, self._first)  # a new reader starts at the oldest kept
            while self._first < wanted and self._items:
                self._items.popleft()
                self._first += 1
            self.cond.wait_for(lambda: self._first + len(self._items) > wanted, timeout_s)
            if self._first + len(self._items) <= wanted:
                return None
            return wanted, self._items[wanted - self._first]


class RunnerDriver:
    """`SessionDriver` over any running `SessionRunner` (the headless terminal's, or the
    composition root's in `kiosk agent`): every view numbered, intents posted, time moved."""

    def __init__(self, runner: SessionRunner, clock: OffsetClock | None = None) -> None:
        self._runner = runner
        self._clock = clock
        self._views = _Views()
        self._unsubscribe = runner.subscribe(self._views.add)

    def close(self) -> None:
        self._unsubscribe()

    def send(self, intent: Intent) -> None:
        self._runner.post(intent)

    def view(self) -> View:
        return self._runner.view

    def wait_view(self, after: int, timeout_s: float) -> tuple[int, View] | None:
        return self._views.take_after(after, timeout_s)

    def advance(self, seconds: float) -> None:
        if self._clock is None:
            raise ValueError("this session runs on the real clock: a journey cannot move it")
        self._clock.advance(seconds)
        self._runner.post(Tick(self._clock.monotonic()))


class LiveTerminal:
    """Session runner + real ports + card monitor; implements `SessionDriver`. `camera`: a
    running `FrameSource` the face check and QR scan share (the touchscreen previews it)."""

    def __init__(
        self,
        config: KioskConfig,
        backend: Backend,
        *,
        verifier: FaceVerifier | None = None,
        clock: OffsetClock | None = None,
        camera: FrameSource | None = None,
    ) -> None:
        self.config = config
        self._camera = camera  # the composition root's running camera (else one per check)
        self.clock = clock or OffsetClock()
        self.outbox: ObservedOutbox | None = None
        self._backend = backend
        self._verifier = verifier
        self._driver: RunnerDriver | None = None
        self.runner: SessionRunner | None = None
        self.ports: RealPorts | None = None
        self._fingerprint: FingerprintDriver | None = None
        self._card_reader: CardDriver | None = None
        self._stopping = threading.Event()
        self._link: threading.Thread | None = None
        self.printer: ReceiptPrinter | None = None
        self.id_card: IdCardDevice | None = None

    @property
    def camera(self) -> FrameSource | None:
        """The running camera the checks share, or None when each check opens its own."""
        return self._camera

    def start(self) -> LiveTerminal:
        cfg = self.config
        self._fingerprint = FingerprintDriver(cfg.fingerprint.to_settings(), post=self._device)
        self._fingerprint.start()
        # The hall's printer and ID card reader, when the terminal has them (started once the
        # runner can hear their health).
        if cfg.printer.enabled:
            self.printer = ReceiptPrinter(cfg.printer, post=self._device)
        if cfg.idcard.enabled:
            self.id_card = IdCardDevice(cfg.idcard, post=self._device, clock=self.clock)

        def observe(inner: OutboxPort) -> OutboxPort:
            self.outbox = ObservedOutbox(inner)
            return self.outbox

        b = self._backend
        self.ports = build_ports(
            cfg,
            journal=b.journal,
            rpc=b.rpc,
            payments=b.payments,
            clock=self.clock,
            fingerprint=self._fingerprint,
            wake=b.wake,
            verifier=self._verifier,
            camera=self._camera,
            wrap_outbox=observe,
            printer=self.printer,
            id_card=self.id_card,
        )
        self.runner = SessionRunner(build_policy(cfg), self.ports.ports, self.clock, tick_s=0.2)
        self._driver = RunnerDriver(self.runner, self.clock)
        self.runner.start()
        for device in (self.printer, self.id_card):
            if device is not None:
                device.start()
                self.runner.post(DeviceHealthChanged(device.kind, device.health))
        self._card_reader = CardDriver(cfg.card.driver_settings(), sink=self._device)
        self._card_reader.start()
        self._link = threading.Thread(target=self._watch_link, name="session-link", daemon=True)
        self._link.start()
        return self

    def _watch_link(self) -> None:
        """Tell the session whether the broker link to the central is up (the menu disables
        online-only services while it is down), at start and on every change."""
        last: bool | None = None
        while not self._stopping.is_set():
            online = bool(self._backend.connected())
            if online != last and self.runner is not None:
                self.runner.post(CentralReachability(online=online))
                last = online
            self._stopping.wait(_LINK_POLL_S)

    def _device(self, event: object) -> None:
        translated = device_to_session(event)
        if translated is not None and self.runner is not None:
            self.runner.post(translated)

    def stop(self) -> None:
        """Stop the monitor, the runner (its ports forget the session) and the scanner."""
        self._stopping.set()
        if self._link is not None:
            self._link.join(2)
            self._link = None
        if self._card_reader is not None:
            self._card_reader.stop()
            self._card_reader = None
        for device in (self.printer, self.id_card):
            if device is not None:
                device.stop()
        self.printer = None
        self.id_card = None
        if self._driver is not None:
            self._driver.close()
        if self.runner is not None:
            self.runner.stop()
            self.runner = None
        if self.ports is not None:
            self.ports.card.forget()
            self.ports.identity.forget()
            self.ports.services.close_session()
        if self._fingerprint is not None:
            self._fingerprint.stop()
            self._fingerprint = None

    # -- SessionDriver (through the runner's driver) -------------------------------------------

    def _drive(self) -> RunnerDriver:
        if self._driver is None or self.runner is None:
            raise RuntimeError("the terminal is not started")
        return self._driver

    def send(self, intent: Intent) -> None:
        self._drive().send(intent)

    def view(self) -> View:
        return self._drive().view()

    def wait_view(self, after: int, timeout_s: float) -> tuple[int, View] | None:
        return self._drive().wait_view(after, timeout_s)

    def advance(self, seconds: float) -> None:
        self._drive().advance(seconds)


def run_journey(
    journey: Journey,
    hardware: EmulatedHardware,
    backend: Backend,
    *,
    say: Say | None = None,
    verifier: FaceVerifier | None = None,
    outcome_timeout_s: float = 30.0,
    session: Callable[[LiveTerminal], SessionDriver] | None = None,
    shared_camera: bool = False,
) -> JourneyResult:
    """Run `journey` on `hardware` (started) with a fresh session; returns its result.
    `session`: what the journey talks to instead of the terminal itself (the touchscreen's
    demo shows each view on the screen before the journey goes on: ui/journey_screens.py).
    `shared_camera`: one camera runs for the whole journey, as `kiosk ui` runs it, so a screen
    can preview its frames (`LiveTerminal.camera`); else each check opens its own."""
    hardware.empty_slot()
    hardware.card_profile = journey.card
    hardware.camera_source = journey.camera
    hardware.place_finger(journey.finger)
    hardware.use_hall_devices(id_card=journey.id_card, printer=journey.printer)
    if journey.shows_essc:
        hardware.camera_source = str(hardware.essc_video)  # the phone, once a step shows it
    config = hardware.config()
    if journey.policy:
        policy = type(config.policy).model_validate(
            {**config.policy.model_dump(), **journey.policy}
        )
        config = config.model_copy(update={"policy": policy})
    camera: FrameSource | None = None
    if shared_camera:
        camera = FrameSource(config.camera.to_settings(), name="camera")
        camera.start()
    terminal = LiveTerminal(config, backend, verifier=verifier, camera=camera).start()
    try:
        assert terminal.outbox is not None
        runner = JourneyRunner(
            journey,
            hardware,
            terminal if session is None else session(terminal),
            terminal.outbox,
            profile_secrets(journey.card),
            say=say,
            outcome_timeout_s=outcome_timeout_s,
            terminal_id=config.terminal.id,
        )
        return runner.run()
    finally:
        terminal.stop()
        if camera is not None:
            camera.stop()
