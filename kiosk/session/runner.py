"""The effect runner: owns the machine, executes its effects through the ports off the caller's
thread, posts their results back as events, and publishes each new View to subscribers.

Threads: `session-core` steps the machine (one input at a time, so the machine never races);
`session-devices` runs card, camera, fingerprint, central and printer effects one after another
(one reader, one camera); `session-journal` runs outbox and alert effects so a slow device never
delays an audit record; `session-tick` posts `Tick` once per `tick_s`. `post()` is thread-safe
and never blocks. Subscribers are called on the core thread: keep them short (Kivy: schedule
onto the UI thread).
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from drivers.personal import PinBuffer, PinFormatError, wipe_bytes
from drivers.vocabulary import DeviceHealth, DeviceKind
from kiosk.clock import Clock, SystemClock
from kiosk.session import effects as fx
from kiosk.session.events import (
    DeviceHealthChanged,
    DocumentPrinted,
    EffectFailed,
    Event,
    OutboxRecorded,
    PinChangeFailed,
    Tick,
)
from kiosk.session.machine import initial_state, step
from kiosk.session.model import Input, MachineState, Policy
from kiosk.session.ports import Ports
from kiosk.session.view import View
from kiosk.session.views import view_of

__all__ = ["SessionRunner", "Subscriber"]

log = logging.getLogger(__name__)
Subscriber = Callable[[View], None]
_STOP = object()
_JOURNAL = (fx.RecordOutbox, fx.RaiseStaffAlert)


class _NoDeviceError(RuntimeError):
    """An effect for a port this terminal was built without (posted as EffectFailed)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class SessionRunner:
    """Run the session machine against real (or fake) ports."""

    def __init__(self, policy: Policy, ports: Ports, clock: Clock | None = None,
                 *, tick_s: float = 0.5) -> None:
        if policy.essc_login and (ports.qr is None or ports.essc is None):
            policy = replace(policy, essc_login=False)  # no camera scanner or no central login
        if policy.idcard_login and (
            ports.id_card is None or ports.live_face is None or ports.idcard_session is None
        ):
            policy = replace(policy, idcard_login=False)  # no reader, camera or central login
        self._policy = policy
        self._ports = ports
        self._clock = clock or SystemClock()
        self._tick_s = tick_s
        self._inbox: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._state = initial_state(policy, self._clock.monotonic())
        if ports.printer is None:
            # A terminal without a printer never offers printing (devices default to online).
            no_printer = DeviceHealthChanged(DeviceKind.PRINTER, DeviceHealth.NO_DEVICE)
            self._state = step(self._state, no_printer, self._clock.monotonic(), policy).state
        self._view = view_of(self._state, policy)
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self._busy = 0  # inputs queued or being stepped + effects not finished
        self._idle = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._devices = ThreadPoolExecutor(1, thread_name_prefix="session-devices")
        self._journal = ThreadPoolExecutor(1, thread_name_prefix="session-journal")
        self._core = threading.Thread(target=self._run, name="session-core", daemon=True)
        self._ticker = threading.Thread(target=self._tick, name="session-tick", daemon=True)
        self.failures = 0  # effects that raised (also posted as EffectFailed)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> SessionRunner:
        self._core.start()
        if self._tick_s > 0:
            self._ticker.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._inbox.put(_STOP)
        if self._core.is_alive():
            self._core.join(timeout)
        if self._ticker.is_alive():
            self._ticker.join(timeout)
        self._devices.shutdown(wait=True, cancel_futures=True)
        self._journal.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> SessionRunner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ API

    def post(self, inp: Input) -> None:
        """Send an intent (UI) or an event (devices); any thread, never blocks."""
        with self._lock:
            self._busy += 1
        self._inbox.put(inp)

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call `callback(view)` now and on every new view; returns the unsubscribe function."""
        with self._lock:
            self._subscribers.append(callback)
            current = self._view
        callback(current)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def views(self, maxsize: int = 256) -> queue.Queue[View]:
        """A queue that receives every new view (for the CLI and tests)."""
        q: queue.Queue[View] = queue.Queue(maxsize)

        def put(view: View) -> None:
            # A reader that stopped reading must not stall the core: drop its overflow.
            with contextlib.suppress(queue.Full):
                q.put_nowait(view)

        self.subscribe(put)
        return q

    @property
    def view(self) -> View:
        with self._lock:
            return self._view

    @property
    def state(self) -> MachineState:
        with self._lock:
            return self._state

    def stats(self) -> dict[str, Any]:
        """Operating statistics for telemetry (counts only, no personal data)."""
        with self._lock:
            return self._state.terminal.stats.as_dict()

    def telemetry_counters(self) -> dict[str, Any]:
        """The fields of contract.Telemetry the session feeds: sessions served, failures."""
        with self._lock:
            stats = self._state.terminal.stats
        failures = {k.removeprefix("failures."): int(v) for k, v in stats.counters
                    if k.startswith("failures.")}
        return {"sessions": int(stats.get("sessions.started")), "errors": failures}

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until no input is queued and no effect runs (tests, the journey CLI)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    # ------------------------------------------------------------------ threads

    def _tick(self) -> None:
        while not self._stopping.wait(self._tick_s):
            self.post(Tick(self._clock.monotonic()))

    def _run(self) -> None:
        while True:
            item = self._inbox.get()
            if item is _STOP:
                return
            try:
                self._step(item)  # type: ignore[arg-type]
            except Exception:  # the core thread must survive a bug in one transition
                log.exception("session transition failed")
            finally:
                self._done()

    def _step(self, inp: Input) -> None:
        now = self._clock.monotonic()
        with self._lock:
            before = self._state
        t = step(before, inp, now, self._policy)
        view = view_of(t.state, self._policy)
        with self._lock:
            self._state = t.state
            changed = view != self._view
            self._view = view
            subscribers = list(self._subscribers)
            self._busy += len(t.effects)
        for effect in t.effects:
            pool = self._journal if isinstance(effect, _JOURNAL) else self._devices
            try:
                pool.submit(self._execute, effect)
            except RuntimeError:  # shutting down
                self._done()
        if changed:
            for callback in subscribers:
                try:
                    callback(view)
                except Exception:
                    log.exception("view subscriber failed")

    def _done(self) -> None:
        with self._idle:
            self._busy -= 1
            if self._busy == 0:
                self._idle.notify_all()

    def _execute(self, effect: fx.Effect) -> None:
        try:
            for event in self._run_effect(effect):
                self.post(event)
        except Exception as exc:  # a port failed: the machine decides what the citizen sees
            with self._lock:
                self.failures += 1
            code = str(getattr(exc, "code", "") or "internal")
            log.warning("effect %s failed: %s", type(effect).__name__, code)
            key = next((str(getattr(effect, a)) for a in ("key", "idempotency_key", "payment_key")
                        if getattr(effect, a, "")), "")
            self.post(EffectFailed(type(effect).__name__, code, key))
        finally:
            del effect  # the runner keeps nothing of a session once an effect ran
            self._done()

    def _run_effect(self, effect: fx.Effect) -> list[Event]:
        p = self._ports
        if isinstance(effect, fx.ReadCard):
            return [p.card.read_card()]
        if isinstance(effect, fx.VerifyPin):
            with effect.pin.using():
                return [p.card.verify_pin(effect.pin)]
        if isinstance(effect, fx.ChangePin):
            return [self._change_pin(effect.old, effect.new, effect.repeat)]
        if isinstance(effect, fx.ReadBankCard):
            return [p.card.read_bank_card()]
        if isinstance(effect, fx.OpenCentralSession):
            return [p.services.open_session(effect.credentials)]
        if isinstance(effect, fx.CloseCentralSession):
            p.services.close_session()
            return []
        if isinstance(effect, fx.CaptureFace):
            return [p.identity.capture_face(effect.attempt, effect.challenges)]
        if isinstance(effect, fx.VerifyFinger):
            return [p.identity.verify_finger()]
        if isinstance(effect, fx.EnrollFinger):
            return [p.identity.enroll_finger()]
        if isinstance(effect, fx.SubmitEnrolment):
            return [p.identity.submit_enrolment(effect.key)]
        if isinstance(effect, fx.CallService):
            return [p.services.call(effect.service, effect.action, effect.params,
                                    effect.idempotency_key)]
        if isinstance(effect, fx.SubmitPayment):
            return [p.services.pay(effect.purpose, effect.reference, effect.amount_cents,
                                   effect.payment_key)]
        if isinstance(effect, fx.RunActivation):
            return [p.services.activate(effect.key, effect.form, effect.fingerprint_ref,
                                        self.post)]
        if isinstance(effect, fx.RecordOutbox):
            p.outbox.record(effect.kind, effect.payload, effect.key)
            return [OutboxRecorded(effect.key)]
        if isinstance(effect, fx.RaiseStaffAlert):
            p.alerts.raise_alert(effect.reason, effect.step)
            return []
        if isinstance(effect, fx.PrintDocument):
            if p.printer is None:
                raise _NoDeviceError("printer.offline")
            document = effect.document
            wall = time.localtime(self._clock.wall())
            document["data"].setdefault("time", time.strftime("%Y-%m-%d %H:%M", wall))
            document["data"].setdefault("terminal", self._policy.terminal_id)
            p.printer.print_document(document)
            return [DocumentPrinted(effect.key)]
        if isinstance(effect, fx.ReadIdCard):
            if p.id_card is None:
                raise _NoDeviceError("idcard.link_error")
            return [p.id_card.read_id_card(effect.key, effect.timeout_s)]
        if isinstance(effect, fx.ScanQr):
            if p.qr is None:
                raise _NoDeviceError("camera.unavailable")
            return [p.qr.scan_qr(effect.key, effect.timeout_s)]
        if isinstance(effect, fx.RedeemEssc):
            if p.essc is None:
                raise _NoDeviceError("sync.offline")
            return [p.essc.redeem_essc(effect.code)]
        if isinstance(effect, fx.CaptureLiveFace):
            if p.live_face is None:
                raise _NoDeviceError("camera.unavailable")
            return [p.live_face.capture_live_face(effect.attempt, effect.challenges)]
        if isinstance(effect, fx.OpenIdCardSession):
            if p.idcard_session is None:
                raise _NoDeviceError("sync.offline")
            return [p.idcard_session.open_idcard_session(effect.holder)]
        if isinstance(effect, fx.WipePersonalData):
            p.card.forget()
            p.identity.forget()
            return []
        raise TypeError(f"no port runs {type(effect).__name__}")

    def _change_pin(self, old: PinBuffer, new: PinBuffer, repeat: PinBuffer) -> Event:
        blocks: list[bytearray] = []
        try:
            try:
                blocks = [new.packed_bcd(), repeat.packed_bcd()]
            except PinFormatError:
                return PinChangeFailed("format")
            # compare_digest on the bytearrays themselves: no immutable copy of a PIN block.
            same = len(new) == len(repeat) and hmac.compare_digest(blocks[0], blocks[1])
            if not same:
                return PinChangeFailed("mismatch")
            return self._ports.card.change_pin(old, new)
        finally:
            for block in blocks:
                wipe_bytes(block)
            for buf in (old, new, repeat):
                buf.wipe()
