"""`view_of(state, policy)`: the frozen View of the current state (what the screen shows)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from kiosk.session import activation, printing, service_views
from kiosk.session.availability import availability, degraded
from kiosk.session.core import allowed_intents, deadline, warning_from
from kiosk.session.model import MachineState, Policy, Session
from kiosk.session.results import error_info
from kiosk.session.services import GROUP_ICONS, GROUPS, SERVICE_ICONS, MenuGroup, ServiceId
from kiosk.session.states import CITIZEN_FACING, StateName
from kiosk.session.view import (
    Choice,
    ErrorInfo,
    FieldView,
    PinSpec,
    Progress,
    Step,
    Text,
    TextKind,
    TextSpec,
    TimeoutInfo,
    View,
    text,
)

__all__ = ["view_of"]

S = StateName
Parts = dict[str, Any]


def view_of(st: MachineState, pol: Policy) -> View:
    """The view of `st` at `st.now`."""
    parts: Parts = {"title": text(f"state.{st.name.value}.title")}
    builder = _BUILDERS.get(st.name)
    if builder is not None:
        parts.update(builder(st, pol))
    parts = printing.view_parts(st, parts)
    notices: list[Text] = list(parts.pop("notices", ()))
    if st.notice and "error" not in parts:
        notices.insert(0, text(st.notice))
    if st.session is not None and not st.terminal.central_online:
        notices.append(text("notice.offline"))
    if st.staff_called:
        notices.append(text("notice.staff_coming"))
    fields = tuple(
        replace(f, revealed=True) if f.revealable and f.id in st.revealed else f
        for f in parts.pop("fields", ())
    )
    body: tuple[Text, ...] = tuple(parts.pop("body", ()))
    title: Text = parts.pop("title")
    return View(
        state=st.name.value,
        title=title,
        body=body,
        fields=fields,
        notices=tuple(notices),
        intents=allowed_intents(st, pol),
        timeout=_timeout(st, pol),
        voice=parts.pop("voice", body[0] if body else title),
        language=st.language,
        elderly=st.elderly,
        staff_called=st.staff_called,
        service=st.session.service if st.session is not None else "",
        step=parts.pop("step", _step(st)),
        **parts,
    )


def _timeout(st: MachineState, pol: Policy) -> TimeoutInfo | None:
    end = deadline(st, pol)
    if end is None or (st.name not in CITIZEN_FACING and st.name is not S.TAKE_CARD):
        return None
    warn = warning_from(st, pol)
    f = pol.factor(st.elderly)
    total = pol.session.take_card_s * f if st.name is S.TAKE_CARD else pol.session.answer_s * f
    return TimeoutInfo(
        seconds_left=max(0.0, round(end - st.now, 3)),
        warning=warn is not None and st.now >= warn,
        extensions_left=0 if warn is None else max(0, pol.session.extensions - st.extensions_used),
        total_s=total,
    )


def _step(st: MachineState) -> Step | None:
    s = st.session
    if s is None:
        return None
    if s.service == ServiceId.ACTIVATION and st.name in activation.STEPS:
        return Step(activation.STEPS[st.name], 8)
    if s.service == ServiceId.UTILITY_PAYMENT:
        n = {S.UTILITY_KIND: 1, S.UTILITY_ACCOUNT: 2, S.UTILITY_BILL: 3, S.CONFIRM: 4}.get(st.name)
        return Step(n, 4) if n else None
    if s.service == ServiceId.PIN_CHANGE:
        n = {S.PIN_CHANGE_OLD: 1, S.PIN_CHANGE_NEW: 2, S.PIN_CHANGE_REPEAT: 3}.get(st.name)
        return Step(n, 3) if n else None
    return None


def _s(st: MachineState) -> Session:
    assert st.session is not None
    return st.session


def _holder(s: Session) -> tuple[FieldView, ...]:
    h = s.holder
    if h is None:
        return ()
    return (
        FieldView("name", text("field.name"), h.name, revealable=True),
        FieldView("card_number", text("field.card_number"), h.card_number, revealable=True),
    )


def _progress(key: str, fraction: float | None = None) -> Parts:
    return {"progress": Progress(text(key), fraction), "body": (text(key),)}


# --------------------------------------------------------------------------- terminal states


def _idle(st: MachineState, pol: Policy) -> Parts:
    from kiosk.session.idcard_login import idcard_offered
    from kiosk.session.identity import essc_offered

    parts: Parts = {"body": (text("idle.insert_card"), text("idle.help"))}
    choices = []
    if essc_offered(st, pol):
        choices.append(Choice("essc", text("idle.essc"), "qr_code_scanner"))
    if idcard_offered(st, pol):
        choices.append(Choice("idcard", text("idle.idcard"), "badge"))
    if choices:
        parts["choices"] = tuple(choices)
    return parts


def _idcard_read(st: MachineState, pol: Policy) -> Parts:
    seconds = int(pol.policy.id_card_timeout_s)
    return {
        "body": (text("idcard_login.place", seconds=seconds), text("idcard_login.scope")),
        "progress": Progress(text("progress.idcard_read")),
    }


def _qr_scan(st: MachineState, pol: Policy) -> Parts:
    seconds = int(pol.policy.qr_timeout_s)
    return {
        "body": (text("qr.hold", seconds=seconds), text("qr.refresh_hint")),
        "progress": Progress(text("progress.qr")),
        "preview": "camera",
    }


def _take_card(st: MachineState, pol: Policy) -> Parts:
    return {"body": (text("take_card.body"),)}


def _card_left(st: MachineState, pol: Policy) -> Parts:
    return {"body": (text("card_left.body"),), "notices": (text("notice.staff_alerted"),)}


def _out_of_service(st: MachineState, pol: Policy) -> Parts:
    why = "out_of_service.maintenance" if st.terminal.maintenance_remote else (
        "out_of_service.device")
    desk = text(f"desk.{pol.policy.help_desk}")
    return {"body": (text(why), text("out_of_service.help", desk=desk))}


def _technician_login(st: MachineState, pol: Policy) -> Parts:
    validation = text(st.notice) if st.notice else None
    return {
        "body": (text("maintenance.enter_secret"),),
        "text_input": TextSpec("secret", TextKind.TEXT, 64, validation=validation),
    }


def _maintenance(st: MachineState, pol: Policy) -> Parts:
    from kiosk.session.machine import TECHNICIAN_ACTIONS

    stats = st.terminal.stats
    return {
        "body": (text("maintenance.body"),),
        "choices": tuple(Choice(a, text(f"maintenance.action.{a}")) for a in TECHNICIAN_ACTIONS),
        "fields": (
            FieldView("started", text("field.sessions_started"),
                      str(int(stats.get("sessions.started")))),
            FieldView("cards_left", text("field.cards_left"), str(int(stats.get("cards_left")))),
            FieldView("staff_calls", text("field.staff_calls"),
                      str(int(stats.get("staff_calls")))),
        ),
    }


# --------------------------------------------------------------------------- identity


def _reading_card(st: MachineState, pol: Policy) -> Parts:
    return _progress("progress.reading_card")


def _menu(st: MachineState, pol: Policy) -> Parts:
    s = _s(st)
    offered = availability(st, pol)
    group = str(s.data.get("menu_group", ""))
    if not group:
        choices = []
        for g in MenuGroup:
            names = [x.value for x in GROUPS[g] if x.value in offered]
            if not names:
                continue
            enabled = any(not offered[n] for n in names)
            reason = None if enabled else text(offered[names[0]])
            choices.append(Choice(g.value, text(f"group.{g.value}"), GROUP_ICONS[g], enabled,
                                  reason))
        body = (text("menu.choose_group"),)
    else:
        choices = []
        for service in GROUPS[MenuGroup(group)]:
            if service.value not in offered:
                continue
            why = offered[service.value]
            choices.append(Choice(service.value, text(f"service.{service.value}"),
                                  SERVICE_ICONS[service], not why, text(why) if why else None))
        body = (text("menu.choose_service"),)
    notices = []
    if degraded(st, pol):
        notices.append(text("notice.degraded", desk=text(f"desk.{pol.policy.help_desk}")))
    return {"fields": _holder(s), "choices": tuple(choices), "body": body, "notices": notices}


def _pin_spec(st: MachineState, pol: Policy, purpose: str) -> PinSpec:
    s = _s(st)
    return PinSpec(
        min_length=pol.session.pin_min_length,
        max_length=pol.session.pin_max_length,
        tries_left=s.pin_tries_left,
        scrambled=pol.session.scrambled_pin_pad,
        purpose=purpose,
    )


def _digits(pol: Policy) -> str:
    """The PIN length in words the catalog fills in: "6", or "6-8" when it may vary."""
    lo, hi = pol.session.pin_min_length, pol.session.pin_max_length
    return str(lo) if lo == hi else f"{lo}-{hi}"


def _pin_error(st: MachineState, pol: Policy) -> ErrorInfo | None:
    s = _s(st)
    if st.notice == "error.pin_wrong" and s.pin_tries_left is not None:
        return ErrorInfo(text("error.pin_wrong", tries=s.pin_tries_left), text("next.pin_again"),
                         "card.pin_wrong")
    if st.notice == "error.pin_mismatch":
        return error_info("pin_mismatch")
    if st.notice == "error.pin_format":
        return ErrorInfo(text("error.pin_format", digits=_digits(pol)), text("next.pin_again"),
                         "card.pin_invalid_format")
    return None


def _pin_entry(st: MachineState, pol: Policy) -> Parts:
    parts: Parts = {"body": (text("pin.enter"),), "pin": _pin_spec(st, pol, "verify")}
    err = _pin_error(st, pol)
    if err is not None:
        parts["error"] = err
    return parts


def _pin_change(purpose: str) -> Callable[[MachineState, Policy], Parts]:
    def build(st: MachineState, pol: Policy) -> Parts:
        body = text(f"pin.{purpose}", digits=_digits(pol)) if purpose == "new" else text(
            f"pin.{purpose}")
        parts: Parts = {"body": (body,), "pin": _pin_spec(st, pol, purpose)}
        err = _pin_error(st, pol)
        if err is not None:
            parts["error"] = err
        return parts

    return build


def _consent(st: MachineState, pol: Policy) -> Parts:
    s = _s(st)
    needs = sorted(pol.policy.credentials_for(s.service) & {"face", "fingerprint"})
    if s.login == "idcard" and not s.token:  # the ID card login's face, matched centrally
        return {
            "body": (
                text("consent.purpose.idcard_login"),
                text("consent.uses.face"),
                text("consent.idcard_central"),
                text("consent.alternative"),
            ),
        }
    return {
        "body": (
            text(f"consent.purpose.{s.service}"),
            *(text(f"consent.uses.{n}") for n in needs),
            text("consent.kept"),
            text("consent.alternative"),
        ),
    }


def _face_check(st: MachineState, pol: Policy) -> Parts:
    s = _s(st)
    left = max(0, pol.policy.face_attempts - s.face_attempts)
    return {**_progress("progress.face"), "body": (text("face.look", attempts=left),)}


def _finger_check(st: MachineState, pol: Policy) -> Parts:
    s = _s(st)
    key = "progress.finger_enroll" if s.service == ServiceId.ACTIVATION else "progress.finger"
    return _progress(key)


def _identity_retry(st: MachineState, pol: Policy) -> Parts:
    s = _s(st)
    what = str(s.data.get("retry", "face"))
    used = s.face_attempts if what == "face" else s.finger_attempts
    limit = pol.policy.face_attempts if what == "face" else pol.policy.finger_attempts
    return {
        "error": error_info(str(s.data.get("retry_code", "internal"))),
        "body": (text("retry.attempts_left", attempts=max(0, limit - used)),),
        "choices": (
            Choice("retry", text(f"retry.{what}"), "replay"),
            Choice("staff", text("retry.staff"), "support_agent"),
        ),
    }


def _opening_session(st: MachineState, pol: Policy) -> Parts:
    return _progress("progress.opening_session")


def _working(st: MachineState, pol: Policy) -> Parts:
    return _progress(str(_s(st).data.get("work_label", "working.default")))


_BUILDERS: dict[StateName, Callable[[MachineState, Policy], Parts]] = {
    S.IDLE: _idle,
    S.TAKE_CARD: _take_card,
    S.CARD_LEFT: _card_left,
    S.OUT_OF_SERVICE: _out_of_service,
    S.TECHNICIAN_LOGIN: _technician_login,
    S.MAINTENANCE: _maintenance,
    S.READING_CARD: _reading_card,
    S.QR_SCAN: _qr_scan,
    S.IDCARD_READ: _idcard_read,
    S.MENU: _menu,
    S.PIN_ENTRY: _pin_entry,
    S.VERIFYING_PIN: lambda st, pol: _progress("progress.verifying_pin"),
    S.CONSENT: _consent,
    S.FACE_CHECK: _face_check,
    S.FINGER_CHECK: _finger_check,
    S.IDENTITY_RETRY: _identity_retry,
    S.OPENING_SESSION: _opening_session,
    S.WORKING: _working,
    S.PIN_CHANGE_OLD: _pin_change("old"),
    S.PIN_CHANGE_NEW: _pin_change("new"),
    S.PIN_CHANGE_REPEAT: _pin_change("repeat"),
    **service_views.BUILDERS,
}

