"""Property tests of the session machine over random sequences of intents and events.

- no (state, input) pair raises, and every view builds with translated messages only;
- an intent the view does not list changes nothing (ignored explicitly);
- never a charge without a Confirm on a CONFIRM screen of the same session, never twice a key;
- never a personal value reachable once the session has ended, never a PIN in a view;
- every citizen-facing state times out, warns first, and takes at least 10 extensions.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from drivers.personal import Masked, PersonalKind, PinBuffer
from drivers.vocabulary import DeviceHealth, DeviceKind
from kiosk.session import effects as fx
from kiosk.session import events as ev
from kiosk.session import intents as it
from kiosk.session.core import deadline, warning_from
from kiosk.session.machine import step
from kiosk.session.messages import catalog
from kiosk.session.model import MachineState
from kiosk.session.services import ServiceId
from kiosk.session.states import CITIZEN_FACING, StateName
from kiosk.session.view import Text, View
from kiosk.session.views import view_of
from tests.unit.session.fakes import (
    ADDRESS,
    BANK_NUMBER,
    ID_NUMBER,
    PERSONAL,
    PHONE,
    SECRET,
    FakePorts,
    answer,
    holder,
    make_policy,
)
from tests.unit.session.graph import personal_left, reachable

EN, ZH = catalog("en"), catalog("zh_CN")
OPTIONS = ["query", "payments", "card", "affairs", "pension", "medical", "accounts", "benefits",
           "chart", "water", "power", "gas", "B-1", "C-1", "C-2", "retry", "staff", "menu",
           "print", "phone", "address", "technician", "device_test", "nonsense"]
TEXTS = [("account_number", "12345678"), ("account_number", "x"), ("id_number", ID_NUMBER),
         ("id_number", "123"), ("phone", PHONE), ("phone", "12"), ("address", ADDRESS),
         ("address", ""), ("secret", SECRET)]
FAILURES: dict[str, Any] = {
    "read_card": [lambda: ev.CardReadFailed("card.unreadable"),
                  lambda: ev.CardRead(holder(), True)],
    "verify_pin": [lambda p: ev.PinRejected(2), lambda p: ev.PinBlocked()],
    "open_session": [lambda c: ev.CentralSessionRefused("card_lost"),
                     lambda c: ev.CentralSessionRefused("forbidden")],
    "capture_face": [lambda a, c: ev.FaceFailed("face.liveness_failed")],
    "enroll_finger": [lambda: ev.FingerprintFailed("fingerprint.poor_image")],
    "submit_enrolment": [lambda k: ev.EnrolmentRefused(k, "sync.rpc_timeout")],
    "pay": [lambda *a: ev.PaymentDeclined(a[3], "insufficient_balance"),
            lambda *a: ev.PaymentUnknown(a[3])],
    "call": [lambda *a: ev.QueryFailed(a[3], "sync.rpc_timeout")],
    "change_pin": [lambda o, n: ev.PinChangeFailed("mismatch")],
    "read_bank_card": [lambda: ev.BankCardReadFailed("card.unreadable")],
}


def texts_of(obj: object) -> list[Text]:
    out: list[Text] = []
    if isinstance(obj, Text):
        out.append(obj)
        for _, v in obj.params:
            out += texts_of(v)
    elif isinstance(obj, tuple | list | frozenset):
        for x in obj:
            out += texts_of(x)
    elif is_dataclass(obj) and not isinstance(obj, type):
        for f in fields(obj):
            out += texts_of(getattr(obj, f.name))
    return out


def intents() -> st.SearchStrategy[it.Intent]:
    return st.one_of(
        st.sampled_from([it.Confirm(), it.Cancel(), it.Back(), it.MoreTime(), it.CallStaff(),
                         it.NextPage(), it.PrevPage(), it.ConsentGiven(), it.ConsentRefused(),
                         it.Touch(), it.TechnicianLogout(), it.SetElderly(True),
                         it.SetElderly(False), it.SetLanguage("en"), it.SetLanguage("zh_CN"),
                         it.Reveal("name"), it.Reveal("card_number"), it.Reveal("phone")]),
        st.sampled_from([s.value for s in ServiceId]).map(it.ChooseService),
        st.sampled_from(OPTIONS).map(it.Choose),
        st.sampled_from(TEXTS).map(lambda fv: it.EnterText(*fv)),
        st.sampled_from([SECRET, "wrong"]).map(it.TechnicianLogin),
        st.sampled_from(["device_test", "bogus"]).map(it.TechnicianAction),
    )


def events() -> st.SearchStrategy[ev.Event]:
    return st.one_of(
        st.sampled_from([ev.CardInserted(), ev.CardRemoved(), ev.PinVerified(), ev.FaceMatched(),
                         ev.CentralReachability(False), ev.CentralReachability(True),
                         ev.MaintenanceCommanded(True), ev.MaintenanceCommanded(False),
                         ev.PaymentSucceeded("key-000009", "X"), ev.QueryAnswered("stray", {}),
                         ev.ActivationFinished("stray", "activated"),
                         ev.BankCardRead(Masked(BANK_NUMBER, PersonalKind.BANK_NUMBER)),
                         ev.CardRead(holder()), ev.EffectFailed("CallService", "internal")]),
        st.builds(ev.DeviceHealthChanged, st.sampled_from(list(DeviceKind)),
                  st.sampled_from([DeviceHealth.ONLINE, DeviceHealth.ONLINE,
                                   DeviceHealth.HARDWARE_ERROR])),
    )


def extendable(state: MachineState, pol: Any) -> None:
    """From a citizen-facing state: the warning comes >= 20 s before the end, more time works
    at least 10 times, and without an answer the state ends (the timeout is reachable)."""
    s = state
    for _ in range(pol.session.extensions):
        warn = warning_from(s, pol)
        end = deadline(s, pol)
        assert warn is not None and end is not None and end - warn >= 20
        t = step(s, it.MoreTime(), warn + 0.5, pol)
        assert t.state.name is s.name, "more time must keep the screen"
        assert t.state.extensions_used == s.extensions_used + 1 or (
            s.extensions_used >= pol.session.extensions)
        s = t.state
    end = deadline(s, pol)
    assert end is not None
    after = step(s, ev.Tick(end + 0.01), end + 0.01, pol).state
    assert after.name is not s.name or after.session is not s.session


class SessionMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.pol = make_policy()
        self.ports = FakePorts()
        self.now = 10.0
        from kiosk.session.machine import initial_state

        self.st = initial_state(self.pol, self.now)
        self.outstanding: list[fx.Effect] = []
        self.payment_keys: set[str] = set()
        self.checked_states: set[tuple[StateName, bool]] = set()

    def apply(self, inp: it.Intent | ev.Event) -> None:
        before = self.st
        before_view = view_of(before, self.pol)
        t = step(before, inp, self.now, self.pol)
        if isinstance(inp, it.Intent) and type(inp).__name__ not in before_view.intents:
            idle = step(before, ev.Tick(self.now), self.now, self.pol)
            assert t.state == idle.state, f"{type(inp).__name__} not allowed in {before.name}"
            assert len(t.effects) == len(idle.effects)
        for e in t.effects:
            if isinstance(e, fx.SubmitPayment):
                assert isinstance(inp, it.Confirm) and before.name is StateName.CONFIRM
                assert before.session is not None and t.state.session is not None
                assert before.session.id == t.state.session.id
                assert e.payment_key not in self.payment_keys
                self.payment_keys.add(e.payment_key)
            if isinstance(e, fx.SubmitEnrolment):
                # The holder's new reference leaves the kiosk only on the citizen's Confirm.
                assert isinstance(inp, it.Confirm) and before.name is StateName.CONFIRM
                assert before.session is not None and t.state.session is not None
                assert before.session.id == t.state.session.id
        self.st = t.state
        self.outstanding.extend(t.effects)

    def candidates(self) -> list[it.Intent | ev.Event]:
        """Inputs that make progress from the current view (what a citizen could do next)."""
        view = view_of(self.st, self.pol)
        out: list[it.Intent | ev.Event] = []
        name = self.st.name
        if name in (StateName.IDLE,):
            out.append(ev.CardInserted())
        if name in (StateName.TAKE_CARD, StateName.CARD_LEFT):
            out.append(ev.CardRemoved())
        if name is StateName.ACTIVATION_BANK_SWAP:
            out += [ev.CardRemoved(), ev.CardInserted()]
        ids = [c.id for c in view.choices if c.enabled]
        if view.table is not None:
            ids += list(view.table.row_ids)
        if "ChooseService" in view.intents:
            out += [it.ChooseService(i) for i in ids]
        if "Choose" in view.intents:
            out += [it.Choose(i) for i in ids]
        if view.text_input is not None and "EnterText" in view.intents:
            good = dict(TEXTS[::-1])
            good.update(account_number="12345678", id_number=ID_NUMBER, phone=PHONE)
            out.append(it.EnterText(view.text_input.field, good.get(view.text_input.field, "")))
        if view.text_input is not None and "TechnicianLogin" in view.intents:
            out.append(it.TechnicianLogin(SECRET))
        for simple in (it.Confirm, it.ConsentGiven, it.NextPage, it.Back, it.MoreTime,
                       it.ConsentRefused, it.TechnicianLogout):
            if simple.__name__ in view.intents:
                out.append(simple())
        if "TechnicianAction" in view.intents:
            out.append(it.TechnicianAction("device_test"))
        if "Reveal" in view.intents:
            out += [it.Reveal(f.id) for f in view.fields if f.revealable]
        return out

    @rule(index=st.integers(0, 50), fail=st.sampled_from([0, 0, 0, 0, 0, 1, 2, 3]),
          dt=st.floats(0, 3))
    def follow_the_view(self, index: int, fail: int, dt: float) -> None:
        options = self.candidates()
        if "EnterPin" in view_of(self.st, self.pol).intents:
            self.enter_pin(b"123456")
        elif options:
            self.now += dt
            self.apply(options[index % len(options)])
        self.answer_effects(fail)

    @rule(intent=intents(), dt=st.floats(0, 5))
    def send_intent(self, intent: it.Intent, dt: float) -> None:
        self.now += dt
        self.apply(intent)

    @rule(digits=st.sampled_from([b"123456", b"000000", b"12"]))
    def type_pin(self, digits: bytes) -> None:
        self.enter_pin(digits)

    def enter_pin(self, digits: bytes) -> None:
        buf = PinBuffer()
        for d in digits:
            buf.push(d)
        self.apply(it.EnterPin(buf))

    @rule(event=events(), dt=st.floats(0, 5))
    def send_event(self, event: ev.Event, dt: float) -> None:
        self.now += dt
        self.apply(event)

    @rule(dt=st.sampled_from([1.0, 25.0, 45.0, 61.0, 125.0, 400.0]))
    def time_passes(self, dt: float) -> None:
        self.now += dt
        self.apply(ev.Tick(self.now))

    @rule(fail=st.integers(0, 3))
    def answer_outstanding(self, fail: int) -> None:
        self.answer_effects(fail)

    def answer_effects(self, fail: int) -> None:
        pending, self.outstanding = self.outstanding, []
        for effect in pending:
            self.ports.overrides.clear()
            if fail:
                for name, options in FAILURES.items():
                    self.ports.overrides[name] = options[(fail - 1) % len(options)]
            for event in answer(self.ports, effect):
                self.apply(event)

    @invariant()
    def view_is_complete_and_translated(self) -> None:
        view = view_of(self.st, self.pol)
        assert isinstance(view, View)
        for t in texts_of(view):
            assert t.key in EN and t.key in ZH, t.key
        assert not any(isinstance(o, PinBuffer) for o in reachable([view]))
        if self.st.name in CITIZEN_FACING:
            assert view.timeout is not None and view.timeout.total_s >= 20
        if view.timeout is not None:
            assert 0 <= view.timeout.seconds_left <= view.timeout.total_s
        ids = [c.id for c in view.choices]
        assert len(ids) == len(set(ids))
        assert all(c.enabled or c.reason is not None for c in view.choices)
        if view.table is not None:
            assert 1 <= view.table.page <= view.table.pages
            assert all(len(row) == len(view.table.columns) for row in view.table.rows)
            assert not view.table.row_ids or len(view.table.row_ids) == len(view.table.rows)
        assert all(f.revealable or not f.revealed for f in view.fields)
        if view.progress is not None and view.progress.fraction is not None:
            assert 0 <= view.progress.fraction <= 1

    @invariant()
    def nothing_personal_after_the_end(self) -> None:
        if self.st.session is None:
            assert personal_left([self.st, view_of(self.st, self.pol)], PERSONAL) == []

    @invariant()
    def timeouts_are_reachable_and_extendable(self) -> None:
        if self.st.name in CITIZEN_FACING:
            key = (self.st.name, self.st.elderly)
            if key not in self.checked_states:
                self.checked_states.add(key)
                extendable(self.st, self.pol)


class GuidedSessionMachine(SessionMachine):
    """Mostly what a citizen would do next (deep journeys), with rare disruptions."""

    @rule(index=st.integers(0, 50), fail=st.sampled_from([0, 0, 0, 0, 0, 0, 1, 2, 3]),
          dt=st.floats(0, 3))
    def follow(self, index: int, fail: int, dt: float) -> None:
        self.follow_the_view(index, fail, dt)

    @rule(index=st.integers(0, 50), dt=st.floats(0, 3))
    def follow_ok(self, index: int, dt: float) -> None:
        self.follow_the_view(index, 0, dt)

    @rule(index=st.integers(0, 50), dt=st.floats(0, 3))
    def follow_more(self, index: int, dt: float) -> None:
        self.follow_the_view(index, 0, dt)

    @rule(roll=st.integers(0, 5), event=events(), intent=intents(),
          dt=st.sampled_from([25.0, 61.0, 125.0]))
    def rarely_disrupt(self, roll: int, event: ev.Event, intent: it.Intent, dt: float) -> None:
        if roll == 0:
            self.apply(event)
        elif roll == 1:
            self.apply(intent)
        elif roll == 2:
            self.now += dt
            self.apply(ev.Tick(self.now))


# The random walk keeps every rule; the guided walk drops the noisy ones to get deep.
for noisy in ("send_intent", "type_pin", "send_event", "time_passes", "answer_outstanding"):
    setattr(GuidedSessionMachine, noisy, None)

SETTINGS = settings(max_examples=60, stateful_step_count=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
SessionMachine.TestCase.settings = SETTINGS
GuidedSessionMachine.TestCase.settings = settings(SETTINGS, max_examples=80,
                                                  stateful_step_count=80)
TestRandomSessions = SessionMachine.TestCase
TestGuidedSessions = GuidedSessionMachine.TestCase


def test_every_state_has_a_view_builder_and_intents() -> None:
    from kiosk.session.core import _BY_STATE
    from kiosk.session.views import _BUILDERS

    assert set(_BY_STATE) == set(StateName)
    assert set(_BUILDERS) == set(StateName)


def test_personal_values_are_real() -> None:
    assert ID_NUMBER in PERSONAL and all(PERSONAL)
