"""The resident ID card as a login for records lookup, where policy allows (docs/idcard-reader.md).

Attract screen `Choose("idcard")` → IDCARD_READ (the card on the reader) → CONSENT (the face
is compared by the social security centre) → FACE_CHECK (liveness and one face followed; no
reference on the terminal) → OPENING_SESSION (``session.open_idcard``: the central matches the
live crop with its own photo) → MENU with the lookups only (`IDCARD_LOOKUPS`). Every refusal
ends on a result screen in the citizen's words with what to do next; the end wipes everything
as for the card (the crop never enters the machine: it waits in the port).

The handlers here replace the card's for those states while an ID card session has no token.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from drivers.idcard.layouts import IdCardHolder
from drivers.vocabulary import DeviceKind
from kiosk.session.core import end_session, goto, show_result, staff_alert
from kiosk.session.effects import CaptureLiveFace, OpenIdCardSession, ReadIdCard, RecordOutbox
from kiosk.session.events import (
    CentralSessionOpened,
    CentralSessionRefused,
    EffectFailed,
    FaceFailed,
    FaceLive,
    IdCardRead,
    IdCardReadFailed,
)
from kiosk.session.intents import Back, Choose, ConsentGiven, ConsentRefused
from kiosk.session.model import Input, MachineState, Policy, Session, Transition
from kiosk.session.results import ResultInfo, error_info
from kiosk.session.services import Credential
from kiosk.session.states import StateName
from kiosk.session.view import text

__all__ = ["HANDLERS", "PURPOSE", "active", "idcard_offered", "start_idcard", "timed_out"]

S = StateName
PURPOSE = "idcard_login"  # the consent's purpose (consent.purpose.idcard_login)

# The central's and the devices' codes → the session's words (kiosk/session/results.py).
_WORDS = {
    "forbidden": "idcard_login.forbidden",
    "card_lost": "idcard_login.forbidden",
    "idcard.face_mismatch": "idcard_login.face_mismatch",
    "idcard.not_recognised": "idcard_login.not_recognised",
    "idcard.rate_limited": "idcard_login.rate_limited",
}


def idcard_offered(st: MachineState, pol: Policy) -> bool:
    """The attract screen offers the ID card login: policy, the ID card reader (reported
    online), the camera and the central (which alone matches the face) are there."""
    return (
        pol.idcard_login
        and st.name is S.IDLE
        and st.terminal.central_online
        and st.terminal.device_ok("camera")
        and st.terminal.reported_ok(DeviceKind.ID_CARD_READER)
    )


def active(st: MachineState) -> bool:
    """An ID card session still proving who the citizen is (no token yet)."""
    return st.session is not None and st.session.login == "idcard" and not st.session.token


def start_idcard(st: MachineState, now: float, pol: Policy) -> Transition:
    """`Choose("idcard")` at the attract screen: a session without a card, read the ID card."""
    key = pol.new_key()
    session = Session(id=pol.new_key(), started_at=now, login="idcard", pending=key)
    stats = st.terminal.stats.bump("sessions.started").bump("idcard_logins.started")
    st = replace(st, terminal=replace(st.terminal, stats=stats))
    read = ReadIdCard(key, pol.policy.id_card_timeout_s)
    return Transition(goto(st, S.IDCARD_READ, now, session=session), (read,))


def _session(st: MachineState) -> Session:
    assert st.session is not None
    return st.session


def _refused(st: MachineState, now: float, code: str) -> Transition:
    """No session opened: the citizen's words and the next step, then the usual end (there is
    nothing to offer without an identity)."""
    s = replace(_session(st), pending="")
    words = _WORDS.get(code, code)
    stats = st.terminal.stats.bump("idcard_logins.refused").bump(f"failures.{words}")
    st = replace(st, session=s, terminal=replace(st.terminal, stats=stats))
    info = ResultInfo(title=text("result.idcard_login_refused"), success=False,
                      error=error_info(words), offer_menu=False)
    return Transition(show_result(st, now, info))


def timed_out(st: MachineState, now: float) -> Transition:
    """A device or the central did not answer in time while the ID card holder was being
    proven: refused in plain words (a result without the menu: there is no identity yet)."""
    return _refused(st, now, "no_answer")


def _holder(s: Session) -> IdCardHolder:
    holder = s.data.get("id_card")
    assert isinstance(holder, IdCardHolder)
    return holder


def on_read(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    s = _session(st)
    if isinstance(inp, IdCardRead) and inp.key == s.pending:
        if inp.expired:
            return _refused(st, now, "idcard.expired")
        s = replace(s, pending="").with_data(id_card=inp.holder, consent=None)
        return Transition(goto(st, S.CONSENT, now, session=s))
    if isinstance(inp, IdCardReadFailed | EffectFailed) and inp.key == s.pending:
        return _refused(st, now, inp.code)
    return None


def on_consent(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    s = _session(st)
    if isinstance(inp, ConsentGiven | ConsentRefused):
        given = isinstance(inp, ConsentGiven)
        payload: dict[str, Any] = {
            "decision": "given" if given else "refused",
            "service": PURPOSE,
            "biometrics": ["face"],
            "purpose": f"consent.purpose.{PURPOSE}",
            "terminal_id": pol.terminal_id,
            "session_key": s.id,
            "at": round(now, 3),
            "id_number": _holder(s).id_number,  # Masked: the journal encrypts it
        }
        record = RecordOutbox("consent", payload, pol.new_key())
        if not given:
            t = _refused(st, now, "consent_refused")
            return Transition(t.state, (record, *t.effects))
        t = _capture(replace(st, session=s.with_data(consent=True)), now, pol)
        return Transition(t.state, (record, *t.effects))
    if isinstance(inp, Back):
        return end_session(st, now, "cancelled", pol)
    return None


def _capture(st: MachineState, now: float, pol: Policy) -> Transition:
    s = _session(st)
    effect = CaptureLiveFace(attempt=s.face_attempts + 1, challenges=pol.policy.face_challenges)
    return Transition(goto(st, S.FACE_CHECK, now), (effect,))


def on_face(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    s = _session(st)
    if isinstance(inp, FaceLive):
        s = replace(s, face_attempts=s.face_attempts + 1)
        opening = OpenIdCardSession(_holder(s))
        return Transition(goto(st, S.OPENING_SESSION, now, session=s), (opening,))
    if isinstance(inp, FaceFailed | EffectFailed):
        code = inp.reason if isinstance(inp, FaceFailed) else inp.code
        s = replace(s, face_attempts=s.face_attempts + 1)
        st = replace(st, session=s)
        if s.face_attempts >= pol.policy.face_attempts or code.startswith("camera."):
            st, alert = staff_alert(st, "repeated_failure")
            t = _refused(st, now, code if code.startswith("camera.") else "face.too_many")
            return Transition(t.state, (alert, *t.effects))
        return Transition(
            goto(st, S.IDENTITY_RETRY, now, session=s.with_data(retry="face", retry_code=code))
        )
    return None


def on_retry(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    if isinstance(inp, Choose):
        if inp.option == "retry":
            return _capture(st, now, pol)
        if inp.option == "staff":
            st, alert = staff_alert(st, "call_staff")
            return Transition(replace(st, staff_called=True), (alert,))
        return None
    if isinstance(inp, Back):
        return end_session(st, now, "cancelled", pol)
    return None


def on_opening(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    s = _session(st)
    if isinstance(inp, CentralSessionOpened):
        if Credential.IDCARD_FACE.value not in inp.credentials:
            return _refused(st, now, "forbidden")  # a central answer of another kind
        proven = frozenset({Credential.IDCARD_FACE.value})
        s = replace(s, token=inp.token, proven=proven).with_data(
            token_creds=proven, menu_group=""
        )
        stats = st.terminal.stats.bump("idcard_logins.opened")
        st = replace(st, terminal=replace(st.terminal, stats=stats))
        return Transition(goto(st, S.MENU, now, session=s))
    if isinstance(inp, CentralSessionRefused):
        return _refused(st, now, inp.reason)
    if isinstance(inp, EffectFailed):
        return _refused(st, now, inp.code)
    return None


HANDLERS = {
    S.IDCARD_READ: on_read,
    S.CONSENT: on_consent,
    S.FACE_CHECK: on_face,
    S.IDENTITY_RETRY: on_retry,
    S.OPENING_SESSION: on_opening,
}
