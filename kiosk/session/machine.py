"""The session state machine: `step(state, input, now, policy) → Transition(state, effects)`.

Pure: no I/O, no clock (time comes in as `now`, monotonic seconds). Order of handling:
timers first (a late input cannot beat its own deadline), then terminal events (devices,
link, maintenance, card in/out), then intents the whole session shares (call staff, language,
elderly, more time, reveal, cancel), then the state's own handler. An intent the state does not
list in `allowed_intents` is ignored explicitly, and so is every event a state has no use for.
"""

from __future__ import annotations

import hmac
from dataclasses import replace

from drivers import vocabulary
from drivers.vocabulary import DeviceHealth, DeviceKind
from kiosk.session import activation, flows, idcard_login, identity, printing, screens
from kiosk.session.core import (
    BUSY,
    allowed_intents,
    audit,
    deadline,
    end_session,
    fail,
    finish_journey,
    goto,
    idle_or_out,
    rest,
    staff_alert,
)
from kiosk.session.effects import Effect, SubmitPayment
from kiosk.session.events import (
    CardInserted,
    CardRemoved,
    CentralReachability,
    DeviceHealthChanged,
    DocumentPrinted,
    EffectFailed,
    Event,
    MaintenanceCommanded,
    Tick,
)
from kiosk.session.intents import (
    Back,
    CallStaff,
    Cancel,
    Choose,
    ChooseService,
    EnterPin,
    Intent,
    MoreTime,
    Reveal,
    SetElderly,
    SetLanguage,
    TechnicianAction,
    TechnicianLogin,
    TechnicianLogout,
)
from kiosk.session.model import Input, MachineState, Policy, Transition
from kiosk.session.services import MenuGroup, ServiceId
from kiosk.session.states import CITIZEN_FACING, StateName

__all__ = ["LANGUAGES", "PaymentWithoutConfirmError", "from_device", "initial_state", "step"]

S = StateName
LANGUAGES = ("zh_CN", "en")
_SWAP = S.ACTIVATION_BANK_SWAP


class PaymentWithoutConfirmError(AssertionError):
    """A transition tried to charge without a Confirm in this session (a bug; never shipped)."""


def initial_state(pol: Policy, now: float = 0.0) -> MachineState:
    """The attract screen of a terminal that has just started."""
    return MachineState(name=S.IDLE, entered_at=now, activity_at=now, now=now,
                        language=pol.default_language)


def step(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition:
    """One transition. Never raises for any (state, input) pair."""
    now = max(now, st.now)
    st = replace(st, now=now)
    effects: list[Effect] = []
    expired = _expire(st, now, pol)
    if expired is not None:
        st = expired.state
        effects.extend(expired.effects)
    if not isinstance(inp, Tick):
        t = _handle(st, inp, now, pol)
        if t is not None:
            st = t.state
            effects.extend(t.effects)
    _guard_payments(st, effects)
    return Transition(st, tuple(effects))


def _guard_payments(st: MachineState, effects: list[Effect]) -> None:
    for e in effects:
        if isinstance(e, SubmitPayment) and (
            st.session is None or e.payment_key not in st.session.confirmed
        ):
            raise PaymentWithoutConfirmError(e.payment_key)


# --------------------------------------------------------------------------- timers


def _expire(st: MachineState, now: float, pol: Policy) -> Transition | None:
    end = deadline(st, pol)
    if end is None or now < end:
        return None
    if st.name is S.TAKE_CARD:
        stats = st.terminal.stats.bump("cards_left")
        st = replace(st, terminal=replace(st.terminal, stats=stats))
        st, alert = staff_alert(st, "card_left")
        return Transition(goto(st, S.CARD_LEFT, now), (alert,))
    if st.name is S.MAINTENANCE:
        return _logout(st, now, pol, "timeout")
    if st.name is S.TECHNICIAN_LOGIN:
        return Transition(goto(st, st.back_to, now))
    if st.name in CITIZEN_FACING:
        return end_session(st, now, "timeout", pol, notice="session.ended_timeout")
    if st.name in BUSY:
        if st.name is S.READING_CARD:
            return end_session(st, now, "card_unreadable", pol, notice="error.card_unreadable")
        if idcard_login.active(st):  # no identity yet: no menu to go back to
            return idcard_login.timed_out(st, now)
        if identity.essc_pending(st):
            return identity.essc_timed_out(st, now)
        s = st.session
        if st.name is S.ACTIVATION_WRITING:
            return Transition(fail(st, now, "activation_pending", staff=True))
        if s is not None and s.data.get("work") == "payment":
            return Transition(fail(st, now, "payment.unknown", staff=True))
        return Transition(fail(st, now, "no_answer"))
    return None


# --------------------------------------------------------------------------- dispatch


def from_device(event: vocabulary.DeviceEvent, card_reader: str = "") -> Event | None:
    """The session event for a driver's device event (reader monitor, health), or None.

    Lets device threads post their own events to the runner unchanged. With `card_reader` set
    (`Policy.card_reader`), only that reader's card events count: the PSAM slot's are not
    the citizen's card.
    """
    if card_reader and isinstance(
        event, vocabulary.CardInserted | vocabulary.CardRemoved | vocabulary.ReaderAdded
        | vocabulary.ReaderRemoved
    ) and event.device != card_reader:
        return None
    if isinstance(event, vocabulary.DeviceHealthChanged):
        return DeviceHealthChanged(event.kind, event.health)
    if isinstance(event, vocabulary.ReaderRemoved):
        return DeviceHealthChanged(vocabulary.DeviceKind.CARD_READER, DeviceHealth.NO_DEVICE)
    if isinstance(event, vocabulary.ReaderAdded):
        return DeviceHealthChanged(vocabulary.DeviceKind.CARD_READER, DeviceHealth.ONLINE)
    if isinstance(event, vocabulary.CardInserted):
        return CardInserted()
    if isinstance(event, vocabulary.CardRemoved):
        return CardRemoved()
    return None


def _handle(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    if isinstance(inp, vocabulary.DeviceEvent):
        mapped = from_device(inp, pol.card_reader)
        return None if mapped is None else _on_event(st, mapped, now, pol)
    if isinstance(inp, Event):
        return _on_event(st, inp, now, pol)
    if isinstance(inp, Intent):
        if type(inp).__name__ not in allowed_intents(st, pol):
            if isinstance(inp, EnterPin):
                inp.pin.wipe()  # a PIN nobody will verify is zeroed now, not left to the GC
            return None
        if st.name in CITIZEN_FACING or st.name in (S.MAINTENANCE, S.TECHNICIAN_LOGIN):
            st = replace(st, activity_at=now)  # any accepted touch restarts the timer
        shared = _shared_intent(st, inp, now, pol)
        if shared is not None:
            return shared
        printed = printing.on_intent(st, inp, now, pol)
        if printed is not None:
            return printed
        return _state_handler(st, inp, now, pol) or Transition(st)
    return None


def _state_handler(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    handler = _HANDLERS.get(st.name)
    if idcard_login.active(st):  # proving the ID card holder: that login's own steps
        handler = idcard_login.HANDLERS.get(st.name, handler)
    if handler is None:
        return None
    return handler(st, inp, now, pol)


def _on_event(st: MachineState, ev: Event, now: float, pol: Policy) -> Transition | None:
    if isinstance(ev, DeviceHealthChanged):
        return _on_health(st, ev, now, pol)
    if isinstance(ev, CentralReachability):
        return Transition(replace(st, terminal=replace(st.terminal, central_online=ev.online)))
    if isinstance(ev, MaintenanceCommanded):
        return _on_maintenance(st, ev, now, pol)
    if isinstance(ev, CardInserted | CardRemoved):
        present = isinstance(ev, CardInserted)
        st = replace(st, terminal=replace(st.terminal, card_present=present))
        if st.name is _SWAP:
            return activation.HANDLERS[_SWAP](st, ev, now, pol) or Transition(st)
        if present:
            if st.name is S.IDLE:
                return identity.start_session(st, now, pol)
            return Transition(st)
        if st.name in (S.TAKE_CARD, S.CARD_LEFT):
            return Transition(rest(st, now, pol))
        if st.session is not None and st.session.login == "card":
            return end_session(st, now, "card_removed", pol, notice="error.card_removed")
        return Transition(st)
    if isinstance(ev, DocumentPrinted | EffectFailed):
        answered = printing.on_event(st, ev)
        if answered is not None:
            return answered
    if isinstance(ev, EffectFailed) and _side_effect_failure(st, ev):
        # A journal, alert or printer effect failed beside the journey: counted, and the
        # citizen's screen is not replaced by it (the runner logged it; the journal retries).
        stats = st.terminal.stats.bump(f"failures.effect.{ev.effect}")
        return Transition(replace(st, terminal=replace(st.terminal, stats=stats)))
    if st.session is None:
        return None  # a late answer for a session that has ended: dropped
    return _state_handler(st, ev, now, pol)


_SIDE_EFFECTS = frozenset(
    {"RecordOutbox", "RaiseStaffAlert", "CloseCentralSession", "WipePersonalData",
     "PrintDocument"}
)


def _side_effect_failure(st: MachineState, ev: EffectFailed) -> bool:
    if ev.effect not in _SIDE_EFFECTS:
        return False
    waited = st.session is not None and bool(ev.key) and ev.key == st.session.pending
    return not waited


def _on_health(st: MachineState, ev: DeviceHealthChanged, now: float, pol: Policy) -> Transition:
    devices = dict(st.terminal.devices)
    devices[ev.kind] = ev.health
    st = replace(st, terminal=replace(st.terminal, devices=devices))
    reader_down = ev.kind is DeviceKind.CARD_READER and ev.health is not DeviceHealth.ONLINE
    if reader_down and st.name not in (S.MAINTENANCE, S.TECHNICIAN_LOGIN):
        if st.session is not None:
            t = end_session(st, now, "fault", pol, notice="error.terminal_fault")
            return Transition(goto(t.state, S.OUT_OF_SERVICE, now), t.effects)
        if st.name is not S.OUT_OF_SERVICE:
            return Transition(goto(st, S.OUT_OF_SERVICE, now))
    if st.name is S.OUT_OF_SERVICE and not st.terminal.out_of_service():
        return Transition(goto(st, S.IDLE, now))
    return Transition(st)


def _on_maintenance(st: MachineState, ev: MaintenanceCommanded, now: float, pol: Policy
                    ) -> Transition:
    st = replace(st, terminal=replace(st.terminal, maintenance_remote=ev.enabled))
    record = audit(pol, "maintenance_on" if ev.enabled else "maintenance_off", now,
                   source="remote", command_id=ev.command_id)
    if ev.enabled:
        if st.session is not None:
            t = end_session(st, now, "maintenance", pol, notice="session.ended_maintenance")
            return Transition(t.state, (record, *t.effects))
        if st.name is S.IDLE:
            return Transition(goto(st, S.OUT_OF_SERVICE, now), (record,))
        return Transition(st, (record,))
    if st.name is S.OUT_OF_SERVICE and not st.terminal.out_of_service():
        return Transition(goto(st, S.IDLE, now), (record,))
    return Transition(st, (record,))


# --------------------------------------------------------------------------- shared intents


def _shared_intent(st: MachineState, inp: Intent, now: float, pol: Policy) -> Transition | None:
    if isinstance(inp, CallStaff):
        st, alert = staff_alert(st, "call_staff")
        stats = st.terminal.stats.bump("staff_calls")
        st = replace(st, terminal=replace(st.terminal, stats=stats), staff_called=True)
        return Transition(st, (alert,))
    if isinstance(inp, SetLanguage):
        if inp.language not in LANGUAGES:
            return Transition(st)
        return Transition(replace(st, language=inp.language))
    if isinstance(inp, SetElderly):
        return Transition(replace(st, elderly=inp.enabled))
    if isinstance(inp, MoreTime):
        return Transition(replace(st, extensions_used=st.extensions_used + 1))
    if isinstance(inp, Reveal):
        return _reveal(st, inp, pol)
    if isinstance(inp, Cancel):
        return end_session(st, now, "cancelled", pol)
    return None


def _reveal(st: MachineState, inp: Reveal, pol: Policy) -> Transition:
    from kiosk.session.views import view_of

    revealable = {f.id for f in view_of(st, pol).fields if f.revealable}
    if inp.field not in revealable:
        return Transition(st)
    return Transition(replace(st, revealed=st.revealed ^ {inp.field}))


# --------------------------------------------------------------------------- menu


def _on_menu(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    from kiosk.session.availability import availability

    s = st.session
    assert s is not None
    if isinstance(inp, Choose):
        if inp.option in {g.value for g in MenuGroup}:
            return Transition(replace(st, session=s.with_data(menu_group=inp.option)))
        return None
    if isinstance(inp, Back):
        if s.data.get("menu_group"):
            return Transition(replace(st, session=s.with_data(menu_group="")))
        return None
    if isinstance(inp, ChooseService):
        if inp.service not in {x.value for x in ServiceId}:
            return None
        reason = availability(st, pol).get(inp.service)
        if reason is None or reason:
            return None  # hidden or disabled: the view says why
        st = finish_journey(st, now)
        s = st.session
        assert s is not None
        stats = st.terminal.stats.bump(f"journeys.{inp.service}.started")
        s = replace(s, service=inp.service, service_started_at=now, pending="")
        st = replace(st, session=s, terminal=replace(st.terminal, stats=stats))
        return identity.continue_service(st, now, pol)
    return None



# --------------------------------------------------------------------------- terminal states


def _on_idle(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    if isinstance(inp, Choose) and inp.option == "technician":
        return Transition(goto(st, S.TECHNICIAN_LOGIN, now, back_to=st.name))
    if isinstance(inp, Choose) and inp.option == "essc" and identity.essc_offered(st, pol):
        return identity.start_essc(st, now, pol)
    if isinstance(inp, Choose) and inp.option == "idcard" and idcard_login.idcard_offered(st, pol):
        return idcard_login.start_idcard(st, now, pol)
    return None


def _on_technician_login(st: MachineState, inp: Input, now: float, pol: Policy
                         ) -> Transition | None:
    if isinstance(inp, Back):
        return Transition(goto(st, st.back_to, now))
    if not isinstance(inp, TechnicianLogin):
        return None
    term = st.terminal
    if now < term.technician_locked_until:
        return Transition(replace(st, notice="maintenance.locked"),
                          (audit(pol, "login_refused_locked", now),))
    secret = pol.technician_secret
    ok = bool(secret) and hmac.compare_digest(inp.secret.encode(), secret)
    if ok:
        term = replace(term, technician=True, technician_failures=0)
        st = goto(replace(st, terminal=term), S.MAINTENANCE, now)
        return Transition(st, (audit(pol, "login", now, outcome="ok"),))
    failures = term.technician_failures + 1
    locked = failures >= pol.session.technician_max_tries
    term = replace(
        term,
        technician_failures=0 if locked else failures,
        technician_locked_until=now + pol.session.technician_lockout_s if locked else 0.0,
    )
    notice = "maintenance.locked" if locked else "maintenance.wrong_secret"
    return Transition(replace(st, terminal=term, notice=notice),
                      (audit(pol, "login", now, outcome="locked" if locked else "wrong_secret"),))


def _logout(st: MachineState, now: float, pol: Policy, why: str) -> Transition:
    st = replace(st, terminal=replace(st.terminal, technician=False))
    nxt = S.TAKE_CARD if st.terminal.card_present else idle_or_out(st)
    return Transition(goto(st, nxt, now), (audit(pol, "logout", now, reason=why),))


def _on_maintenance_state(st: MachineState, inp: Input, now: float, pol: Policy
                          ) -> Transition | None:
    if isinstance(inp, TechnicianLogout):
        return _logout(st, now, pol, "logout")
    if isinstance(inp, TechnicianAction):
        if inp.action not in TECHNICIAN_ACTIONS:
            return Transition(st, (audit(pol, "unknown_action", now, requested=inp.action[:40]),))
        return Transition(replace(st, notice=f"maintenance.done.{inp.action}"),
                          (audit(pol, inp.action, now),))
    return None


TECHNICIAN_ACTIONS = ("device_test", "reload_config", "print_test", "show_stats")

_HANDLERS = {
    S.IDLE: _on_idle,
    S.OUT_OF_SERVICE: _on_idle,
    S.MENU: _on_menu,
    S.TECHNICIAN_LOGIN: _on_technician_login,
    S.MAINTENANCE: _on_maintenance_state,
    **identity.HANDLERS,
    **flows.HANDLERS,
    **screens.HANDLERS,
    **activation.HANDLERS,
}
