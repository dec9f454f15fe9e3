"""Runs one journey file against a live session: each step's action, then a wait until the
view matches the step's `expect`, every view printed masked, and the outcome checked.

The session is reached through `SessionDriver` (kiosk/journeys/wiring.py adapts the session's
effect runner to it): send an intent, post an event, the current view, wait for the next view,
move the session's clock. The outcome is what the session itself reports in its
`session_stats` outbox event (service, completed/abandoned/failed, reason), observed on the way
to the journal by `ObservedOutbox`, so the journey checks the very record the central gets.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from drivers.personal import PinBuffer
from kiosk.journeys.rig import EmulatedHardware, HardwareError, ProfileSecrets
from kiosk.journeys.spec import DeviceAction, Expect, Journey, Step
from kiosk.journeys.views import ViewSnapshot, mismatches
from kiosk.session import intents as intent_types
from kiosk.session.ports import OutboxPort

__all__ = [
    "JourneyResult",
    "JourneyRunner",
    "ObservedOutbox",
    "ServiceOutcome",
    "SessionDriver",
    "SessionOutcome",
    "StepRecord",
    "build_intent",
]

log = logging.getLogger("kiosk.journeys.runner")
Say = Callable[[str], None]


class SessionDriver(Protocol):
    """What the journey runner needs of a running session."""

    def send(self, intent: intent_types.Intent) -> None:
        """Hand an intent to the session (as the screen does)."""
        ...

    def view(self) -> object:
        """The current view."""
        ...

    def wait_view(self, after: int, timeout_s: float) -> tuple[int, object] | None:
        """Block until the view with sequence number > `after` exists; (seq, view) or None."""
        ...

    def advance(self, seconds: float) -> None:
        """Move the session's clock (timeouts) by `seconds` without waiting for them."""
        ...


@dataclass(frozen=True, slots=True)
class ServiceOutcome:
    """One service journey of a session: completed, failed or abandoned, and why."""

    service: str
    result: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SessionOutcome:
    """The session's own account of itself (its `session_stats` event): why it ended and
    each service journey in it."""

    reason: str
    journeys: tuple[ServiceOutcome, ...] = ()
    duration_s: float = 0.0

    def journey(self, service: str | None) -> ServiceOutcome | None:
        """The last journey of `service` (any service when None)."""
        for j in reversed(self.journeys):
            if service is None or j.service == service:
                return j
        return None


class ObservedOutbox:
    """An `OutboxPort` that notes `session_stats` records on their way to the journal."""

    def __init__(self, inner: OutboxPort) -> None:
        self._inner = inner
        self._cond = threading.Condition()
        self.outcomes: list[SessionOutcome] = []
        self.kinds: list[str] = []

    def record(self, kind: str, payload: Mapping[str, Any], key: str) -> None:
        self._inner.record(kind, payload, key)
        with self._cond:
            self.kinds.append(kind)
            if kind == "session_stats":
                journeys = tuple(
                    ServiceOutcome(
                        service=str(j.get("service", "")),
                        result=str(j.get("outcome", "")),
                        reason=str(j.get("failure", "")),
                    )
                    for j in payload.get("journeys", ())
                    if isinstance(j, Mapping)
                )
                self.outcomes.append(
                    SessionOutcome(
                        reason=str(payload.get("reason", "")),
                        journeys=journeys,
                        duration_s=float(payload.get("duration_s", 0.0)),
                    )
                )
            self._cond.notify_all()

    def wait_outcome(self, count: int, timeout_s: float) -> SessionOutcome | None:
        """The `count`-th outcome (1-based) once recorded, or None after `timeout_s`."""
        with self._cond:
            self._cond.wait_for(lambda: len(self.outcomes) >= count, timeout_s)
            return self.outcomes[count - 1] if len(self.outcomes) >= count else None


@dataclass(slots=True)
class StepRecord:
    """One step as it ran: the views seen after it, and what did not match."""

    index: int
    action: str
    views: list[ViewSnapshot] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(slots=True)
class JourneyResult:
    """The whole run: steps, the session's outcome, and every problem found."""

    journey: str
    steps: list[StepRecord] = field(default_factory=list)
    outcome: SessionOutcome | None = None
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems and all(s.ok for s in self.steps)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (views as their masked snapshots)."""
        return {
            "journey": self.journey,
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "outcome": None if self.outcome is None else dataclasses.asdict(self.outcome),
            "problems": list(self.problems),
            "steps": [
                {
                    "index": s.index,
                    "action": s.action,
                    "ok": s.ok,
                    "seconds": round(s.seconds, 3),
                    "problems": s.problems,
                    "views": [
                        {
                            "state": v.screen,
                            "title": v.title,
                            "error": v.error,
                            "intents": list(v.allows),
                            "details": list(v.details),
                        }
                        for v in s.views
                    ],
                }
                for s in self.steps
            ],
        }


def first_row(view: object) -> str:
    """The id of the first entry the view lists (table row, else choice): what a citizen
    taps when the journey says `$first_row` (a bill, a course)."""
    table = getattr(view, "table", None)
    ids = tuple(getattr(table, "row_ids", ()) or ()) if table is not None else ()
    if ids:
        return str(ids[0])
    for choice in getattr(view, "choices", ()) or ():
        if getattr(choice, "enabled", True):
            return str(getattr(choice, "id", ""))
    raise ValueError("$first_row: the view lists nothing to choose")


def _value(raw: Any, secrets: ProfileSecrets) -> Any:
    if raw == "$pin":
        return secrets.pin
    if raw == "$wrong_pin":
        return secrets.wrong_pin()
    if isinstance(raw, str):
        for key in ("id_number", "card_number", "name"):
            raw = raw.replace(f"${key}", getattr(secrets, key))
    return raw


def build_intent(
    name: str, args: Mapping[str, Any], secrets: ProfileSecrets, view: object = None
) -> intent_types.Intent:
    """The session intent `name` (kiosk/session/intents.py) with `args`; PIN fields become
    `PinBuffer`s (never a `str` past this point). `ValueError` for an unknown intent or field."""
    cls = getattr(intent_types, name, None)
    if not (isinstance(cls, type) and issubclass(cls, intent_types.Intent)):
        known = ", ".join(sorted(intent_types.__all__))
        raise ValueError(f"unknown intent {name!r}; intents: {known}")
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for key, raw in args.items():
        if key not in hints:
            raise ValueError(f"intent {name} has no field {key!r}")
        value = first_row(view) if raw == "$first_row" else _value(raw, secrets)
        if hints[key] is PinBuffer:
            value = PinBuffer.from_bytes(str(value).encode("ascii"))
        kwargs[key] = value
    intent: intent_types.Intent = cls(**kwargs)
    return intent


class JourneyRunner:
    """Runs `journey` on `hardware` through `session`; `say` prints each new view. `outbox`:
    where the session's `session_stats` record is seen (None: the outcome is not checked)."""

    def __init__(
        self,
        journey: Journey,
        hardware: EmulatedHardware,
        session: SessionDriver,
        outbox: ObservedOutbox | None,
        secrets: ProfileSecrets,
        *,
        say: Say | None = None,
        outcome_timeout_s: float = 30.0,
        terminal_id: str = "",
    ) -> None:
        self.journey = journey
        self.terminal_id = terminal_id
        self.hardware = hardware
        self.session = session
        self.outbox = outbox
        self.secrets = secrets
        self._say = say
        self._seq = -1
        self._armed: list[Step] = []
        self._last_lines: list[str] = []
        self._outcome_timeout_s = outcome_timeout_s
        self._outcomes_before = 0 if outbox is None else len(outbox.outcomes)

    def run(self) -> JourneyResult:
        result = JourneyResult(self.journey.name)
        started = time.monotonic()
        self._drain_views(result, None)
        for index, step in enumerate(self.journey.steps, 1):
            record = StepRecord(index, step.describe())
            result.steps.append(record)
            t0 = time.monotonic()
            if self._say is not None:
                self._say(f"{index:>2}. {record.action}")
            try:
                self._act(step)
            except (HardwareError, ValueError) as e:
                record.problems.append(str(e))
                break
            if step.expect is not None:
                fresh = step.intent is not None
                record.problems.extend(self._await(step.expect, record, fresh=fresh))
            else:
                self._drain_views(None, record, quiet_s=0.0)
            record.seconds = time.monotonic() - t0
            if not record.ok:
                break
        self._check_outcome(result)
        result.seconds = time.monotonic() - started
        return result

    # -- steps ---------------------------------------------------------------------------------

    def _act(self, step: Step) -> None:
        if step.at is not None:
            self._armed.append(step)
            return
        if step.intent is not None:
            intent = build_intent(step.intent, step.args, self.secrets, self.session.view())
            self.session.send(intent)
            return
        hw = self.hardware
        action = step.device
        if action is DeviceAction.INSERT_CARD:
            hw.insert_card(step.profile)
        elif action is DeviceAction.REMOVE_CARD:
            hw.remove_card()
        elif action is DeviceAction.INSERT_BANK_CARD:
            hw.insert_bank_card(step.profile or "bank_card")
        elif action is DeviceAction.RETURN_CARD:
            hw.return_card()
        elif action is DeviceAction.CARD_FAULT:
            hw.card_fault(step.profile or "")
        elif action is DeviceAction.FINGER:
            hw.place_finger(step.profile or "none")
        elif action is DeviceAction.CAMERA:
            hw.camera_source = step.profile or hw.camera_source
            raise HardwareError("switching the camera mid-journey is not supported; set camera")
        elif action is DeviceAction.WAIT:
            self.session.advance(step.seconds or 0.0)
        elif action is DeviceAction.PLACE_ID_CARD:
            hw.place_id_card(step.profile or "")
        elif action is DeviceAction.REMOVE_ID_CARD:
            hw.remove_id_card()
        elif action is DeviceAction.PRINTER_FAULT:
            hw.printer_fault(step.profile or "")
        elif action is DeviceAction.SHOW_ESSC:
            hw.show_essc(step.profile or "", self.secrets.id_number, self.terminal_id)
        elif action is not None:
            hw.network_action(action.value)

    def _on_view(self, snap: ViewSnapshot, record: StepRecord | None) -> None:
        for armed in [a for a in self._armed if a.at == snap.screen]:
            self._armed.remove(armed)
            now = armed.model_copy(update={"at": None, "seconds": None})
            if armed.seconds:  # that long after the screen showed (a request in flight)
                timer = threading.Timer(armed.seconds, self._act, (now,))
                timer.daemon = True
                timer.start()
            else:
                self._act(now)  # right now, on this screen
        if snap.lines() == self._last_lines:
            return  # the timer moved: the screen shows the same
        self._last_lines = snap.lines()
        if record is not None:
            record.views.append(snap)
        if self._say is not None:
            for line in snap.lines():
                self._say(f"      {line}")

    def _drain_views(
        self, result: JourneyResult | None, record: StepRecord | None, quiet_s: float = 0.0
    ) -> ViewSnapshot | None:
        """Take every view produced so far (waiting `quiet_s` for more)."""
        last: ViewSnapshot | None = None
        while True:
            got = self.session.wait_view(self._seq, quiet_s)
            if got is None:
                return last
            self._seq, view = got
            last = ViewSnapshot.of(view)
            self._on_view(last, record)

    def _await(self, expect: Expect, record: StepRecord, *, fresh: bool) -> list[str]:
        """Views until one matches `expect`; the problems of the last one on timeout.
        `fresh`: only a view produced after the step counts (an intent must be answered; the
        view before it may match by accident)."""
        deadline = time.monotonic() + expect.timeout_s
        current = ViewSnapshot.of(self.session.view())
        seen_new = False
        while True:
            if (seen_new or not fresh) and not mismatches(expect, current, self.secrets):
                paper = self._paper_problems(expect)
                if not paper:
                    return []
                if time.monotonic() >= deadline:
                    return [f"after {expect.timeout_s:g} s: " + "; ".join(paper)]
            left = deadline - time.monotonic()
            if left <= 0:
                problems = mismatches(expect, current, self.secrets) or ["no new view"]
                return [f"after {expect.timeout_s:g} s: " + "; ".join(problems)]
            got = self.session.wait_view(self._seq, min(left, 0.5))
            if got is not None:
                self._seq, view = got
                current = ViewSnapshot.of(view)
                seen_new = True
                self._on_view(current, record)

    def _paper_problems(self, expect: Expect) -> list[str]:
        """What the last paper out of the emulated printer lacks (or holds but must not)."""
        if not expect.printed and not expect.not_printed:
            return []
        papers = self.hardware.printed()
        last = papers[-1] if papers else ""
        problems = [
            f"the paper lacks {want!r}"
            for want in (_value(w, self.secrets) for w in expect.printed)
            if want not in last
        ]
        problems += [
            f"the paper shows {bad!r}"
            for bad in (_value(w, self.secrets) for w in expect.not_printed)
            if bad in last
        ]
        if problems and not papers:
            return ["nothing was printed"]
        return problems

    def _check_outcome(self, result: JourneyResult) -> None:
        want = self.journey.outcome
        if not all(s.ok for s in result.steps) or self.outbox is None:
            return  # without the outbox in view, the caller checks the outcome at the central
        outcome = self.outbox.wait_outcome(self._outcomes_before + 1, self._outcome_timeout_s)
        result.outcome = outcome
        if outcome is None:
            result.problems.append(
                f"the session recorded no outcome within {self._outcome_timeout_s:g} s"
            )
            return
        if want.session is not None and outcome.reason != want.session:
            result.problems.append(f"session ended {outcome.reason!r}, expected {want.session!r}")
        journey = outcome.journey(self.journey.service)
        if want.result is not None:
            got = journey.result if journey is not None else "none"
            if got != want.result:
                result.problems.append(f"journey {got!r}, expected {want.result!r}")
        if want.reason is not None:
            got = journey.reason if journey is not None else ""
            if got != want.reason:
                result.problems.append(f"failure {got!r}, expected {want.reason!r}")
        if want.screen is not None:
            screen = ViewSnapshot.of(self.session.view()).screen
            if screen != want.screen:
                result.problems.append(f"ended on {screen!r}, expected {want.screen!r}")
