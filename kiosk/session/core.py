"""Shared transition helpers: entering states, timers, the allowed intents, ending a session."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from drivers.personal import PinBuffer
from kiosk.session.effects import (
    CloseCentralSession,
    Effect,
    RaiseStaffAlert,
    RecordOutbox,
    WipePersonalData,
)
from kiosk.session.model import MachineState, Policy, Session, Transition, frozen_map
from kiosk.session.results import ResultInfo, error_info
from kiosk.session.services import group_of
from kiosk.session.states import CITIZEN_FACING, StateName
from kiosk.session.view import text

__all__ = [
    "BUSY",
    "allowed_intents",
    "audit",
    "back_to_menu",
    "deadline",
    "end_session",
    "fail",
    "finish_journey",
    "goto",
    "idle_or_out",
    "rest",
    "show_result",
    "staff_alert",
    "warning_from",
]

S = StateName

BUSY: frozenset[StateName] = frozenset(
    {
        S.READING_CARD,
        S.QR_SCAN,
        S.IDCARD_READ,
        S.VERIFYING_PIN,
        S.OPENING_SESSION,
        S.FACE_CHECK,
        S.FINGER_CHECK,
        S.WORKING,
        S.ACTIVATION_WRITING,
    }
)
"""Waiting for a device or the central: a fault-guard timer, no 'more time'."""

_IN_SESSION_COMMON = frozenset({"CallStaff", "SetLanguage", "SetElderly", "Touch"})
_CITIZEN = _IN_SESSION_COMMON | {"Cancel"}

_BY_STATE: dict[StateName, frozenset[str]] = {
    S.IDLE: frozenset({"SetLanguage", "SetElderly", "CallStaff", "Choose"}),
    S.READING_CARD: _CITIZEN,
    S.QR_SCAN: _CITIZEN,
    S.IDCARD_READ: _CITIZEN,
    S.VERIFYING_PIN: _IN_SESSION_COMMON,
    S.OPENING_SESSION: _CITIZEN,
    S.FACE_CHECK: _CITIZEN,
    S.FINGER_CHECK: _CITIZEN,
    S.WORKING: _IN_SESSION_COMMON,  # a payment may be in flight: no cancel, card pull still ends
    S.ACTIVATION_WRITING: _IN_SESSION_COMMON,
    S.MENU: _CITIZEN | {"ChooseService", "Choose", "Back"},
    S.PIN_ENTRY: _CITIZEN | {"EnterPin", "Back"},
    S.CONSENT: _CITIZEN | {"ConsentGiven", "ConsentRefused", "Back"},
    S.IDENTITY_RETRY: _CITIZEN | {"Choose", "Back"},
    S.INQUIRY: _CITIZEN | {"Choose", "NextPage", "PrevPage", "Back"},
    S.CERTIFICATE: _CITIZEN | {"Choose", "Confirm", "Back"},
    S.UTILITY_KIND: _CITIZEN | {"Choose", "Back"},
    S.UTILITY_ACCOUNT: _CITIZEN | {"EnterText", "Back"},
    S.UTILITY_BILL: _CITIZEN | {"Choose", "NextPage", "PrevPage", "Back"},
    S.ACTIVATION_ID: _CITIZEN | {"EnterText", "Choose", "Back"},
    S.ACTIVATION_BANK_SWAP: _CITIZEN,
    S.ACTIVATION_FORM: _CITIZEN | {"EnterText", "Choose", "Confirm", "Back"},
    S.COURSE_LIST: _CITIZEN | {"Choose", "NextPage", "PrevPage", "Back"},
    S.PIN_CHANGE_OLD: _CITIZEN | {"EnterPin", "Back"},
    S.PIN_CHANGE_NEW: _CITIZEN | {"EnterPin", "Back"},
    S.PIN_CHANGE_REPEAT: _CITIZEN | {"EnterPin", "Back"},
    S.CONFIRM: _CITIZEN | {"Confirm", "Back"},
    S.RESULT: _CITIZEN | {"Confirm", "Choose"},
    S.TAKE_CARD: frozenset({"CallStaff", "SetLanguage", "SetElderly"}),
    S.CARD_LEFT: frozenset({"CallStaff", "SetLanguage", "SetElderly"}),
    S.OUT_OF_SERVICE: frozenset({"SetLanguage", "Choose"}),
    S.TECHNICIAN_LOGIN: frozenset({"TechnicianLogin", "Back", "Touch"}),
    S.MAINTENANCE: frozenset({"TechnicianAction", "TechnicianLogout", "Touch"}),
}

_REVEAL_STATES = frozenset({S.MENU, S.CONFIRM, S.RESULT, S.ACTIVATION_FORM, S.CERTIFICATE})


def deadline(st: MachineState, pol: Policy) -> float | None:
    """When the current state times out (None: it does not)."""
    f = pol.factor(st.elderly)
    cfg = pol.session
    if st.name in CITIZEN_FACING:
        return st.activity_at + cfg.answer_s * f
    if st.name is S.MAINTENANCE:
        return st.activity_at + cfg.answer_s * 5  # a technician left logged in is logged out
    if st.name in BUSY:
        return st.entered_at + cfg.busy_timeout_s
    if st.name is S.TAKE_CARD:
        return st.entered_at + cfg.take_card_s * f
    return None


def warning_from(st: MachineState, pol: Policy) -> float | None:
    """When the 'more time' warning shows (citizen-facing states only)."""
    end = deadline(st, pol)
    if end is None or st.name not in CITIZEN_FACING:
        return None
    return end - pol.session.warning_s * pol.factor(st.elderly)


def allowed_intents(st: MachineState, pol: Policy) -> frozenset[str]:
    """The intent class names this state handles; every other intent is ignored explicitly."""
    names = set(_BY_STATE[st.name])
    warn = warning_from(st, pol)
    if warn is not None and st.now >= warn and st.extensions_used < pol.session.extensions:
        names.add("MoreTime")
    if st.session is not None and st.session.holder is not None and st.name in _REVEAL_STATES:
        names.add("Reveal")
    swap = st.name is S.ACTIVATION_BANK_SWAP and st.session is not None
    if swap and st.session is not None and st.session.data.get("swap") == "remove_ssc":
        names.add("Back")
    if st.name is S.RESULT and st.session is not None:
        info = st.session.data.get("result")
        if isinstance(info, ResultInfo) and not (info.offer_menu or info.offer_staff):
            names.discard("Choose")
    return frozenset(names)


class _Keep:
    """`goto` without a `session` argument keeps the current one."""


_KEEP = _Keep()


def goto(
    st: MachineState,
    name: StateName,
    now: float,
    session: Session | _Keep | None = _KEEP,
    **changes: Any,
) -> MachineState:
    """Enter `name`: fresh timer and extensions, reveals and notices cleared."""
    fields: dict[str, Any] = {
        "name": name,
        "entered_at": now,
        "activity_at": now,
        "extensions_used": 0,
        "revealed": frozenset(),
        "notice": "",
    }
    if not isinstance(session, _Keep):
        fields["session"] = session
    fields.update(changes)
    return replace(st, **fields)


def idle_or_out(st: MachineState) -> StateName:
    """Where the kiosk rests between citizens."""
    return S.OUT_OF_SERVICE if st.terminal.out_of_service() else S.IDLE


def audit(pol: Policy, action: str, now: float, **detail: Any) -> RecordOutbox:
    """An `audit` outbox event (technician actions, remote commands)."""
    payload = {"action": action, "terminal_id": pol.terminal_id, "at": round(now, 3), **detail}
    return RecordOutbox("audit", payload, pol.new_key())


def finish_journey(st: MachineState, now: float, default: str = "abandoned") -> MachineState:
    """Count the current service's journey (if any) and clear it from the session."""
    s = st.session
    if s is None or not s.service:
        return st
    outcome = str(s.data.get("outcome", "")) or default
    reason = str(s.data.get("failure", ""))
    duration = round(now - s.service_started_at, 3)
    stats = st.terminal.stats.journey(s.service, outcome, duration, reason)
    journeys = (*s.journeys, (s.service, outcome, duration, reason))
    return replace(
        st,
        terminal=replace(st.terminal, stats=stats),
        session=replace(s, service="", data=frozen_map(), journeys=journeys),
    )


def back_to_menu(st: MachineState, now: float, keep_group: bool = True) -> Transition:
    """Leave the service for the menu (its group's list, or the top with `keep_group=False`)."""
    group = group_of(st.session.service) if st.session is not None and keep_group else ""
    st = finish_journey(st, now)
    if st.session is not None:
        st = replace(st, session=st.session.with_data(menu_group=group))
    return Transition(goto(st, S.MENU, now))


def end_session(
    st: MachineState, now: float, reason: str, pol: Policy, notice: str = ""
) -> Transition:
    """End the session: count it, wipe every personal value, ask for the card back."""
    s = st.session
    effects: list[Effect] = []
    if s is not None:
        # The one side effect on inputs: PINs the PIN change screens still hold are zeroed, as
        # dropping the reference would leave the digits in memory until the collector runs.
        for value in s.data.values():
            if isinstance(value, PinBuffer):
                value.wipe()
        st = finish_journey(st, now, "completed" if reason == "finished" else "abandoned")
        stats = st.terminal.stats.bump(f"sessions.{reason}")
        st = replace(st, terminal=replace(st.terminal, stats=stats))
        done = st.session.journeys if st.session is not None else ()
        # One session's facts, no personal value: the central adds them up per terminal.
        payload = {
            "session_key": s.id,
            "terminal_id": pol.terminal_id,
            "reason": reason,
            "duration_s": round(now - s.started_at, 3),
            "journeys": [
                {"service": sv, "outcome": oc, "duration_s": d, "failure": r}
                for sv, oc, d, r in done
            ],
        }
        if s.print_failures:
            payload["print_failed"] = s.print_failures
        if s.login != "card":
            payload["login"] = s.login
        effects.append(RecordOutbox("session_stats", payload, pol.new_key()))
        if s.token:
            effects.append(CloseCentralSession())
        effects.append(WipePersonalData())
    if st.terminal.card_present:
        # Language and elderly mode stay for the take-card screen (its timer is doubled too);
        # they are not personal data, and `rest` resets them once the card is out.
        st = goto(st, S.TAKE_CARD, now, session=None, notice=notice)
    else:
        st = rest(st, now, pol, notice)
    return Transition(st, tuple(effects))


def rest(st: MachineState, now: float, pol: Policy, notice: str = "") -> MachineState:
    """Back to the attract screen (or out of service) with the terminal's defaults."""
    return goto(st, idle_or_out(st), now, session=None, language=pol.default_language,
                elderly=False, staff_called=False, notice=notice)


def show_result(st: MachineState, now: float, info: ResultInfo, outcome: str = "",
                failure: str = "") -> MachineState:
    """Enter RESULT with `info`; `outcome` (completed/failed) counts the journey at its end."""
    s = st.session
    assert s is not None
    data: dict[str, Any] = {"result": info}
    if outcome:
        data["outcome"] = outcome
    if failure:
        data["failure"] = failure
    return goto(st, S.RESULT, now, session=s.with_data(**data))


def fail(st: MachineState, now: float, code: str, *, staff: bool = False) -> MachineState:
    """RESULT with the error of `code`; the journey counts as failed for that reason."""
    info = ResultInfo(
        title=text("result.failed"),
        success=False,
        error=error_info(code),
        offer_staff=staff,
    )
    return show_result(st, now, info, outcome="failed", failure=code)


def staff_alert(st: MachineState, reason: str) -> tuple[MachineState, RaiseStaffAlert]:
    """Alert the staff (no personal data: terminal and step only) and count it."""
    stats = st.terminal.stats.bump(f"staff_alerts.{reason}")
    st = replace(st, terminal=replace(st.terminal, stats=stats))
    return st, RaiseStaffAlert(reason, st.name.value)
