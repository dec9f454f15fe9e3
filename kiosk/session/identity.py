"""Proving who the citizen is: card read, PIN, consent, face, fingerprint, the central session.

`continue_service` is the one place that decides what the chosen service still needs (policy
credentials minus what is proven) and goes there; the service's own flow starts once nothing is
missing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from drivers.personal import PinBuffer
from kiosk.session import activation, flows
from kiosk.session.core import back_to_menu, end_session, fail, goto, show_result, staff_alert
from kiosk.session.effects import (
    CaptureFace,
    EnrollFinger,
    OpenCentralSession,
    ReadCard,
    RecordOutbox,
    RedeemEssc,
    ScanQr,
    VerifyFinger,
    VerifyPin,
)
from kiosk.session.events import (
    CardRead,
    CardReadFailed,
    CentralSessionOpened,
    CentralSessionRefused,
    EffectFailed,
    FaceFailed,
    FaceMatched,
    FingerprintEnrolled,
    FingerprintFailed,
    FingerprintMatched,
    PinBlocked,
    PinRejected,
    PinVerified,
    QrScanFailed,
    QrScanned,
)
from kiosk.session.intents import (
    Back,
    Choose,
    ConsentGiven,
    ConsentRefused,
    EnterPin,
)
from kiosk.session.model import Input, MachineState, Policy, Session, Transition
from kiosk.session.results import ResultInfo, error_info
from kiosk.session.services import Credential, ServiceId
from kiosk.session.states import StateName
from kiosk.session.view import text

__all__ = [
    "HANDLERS", "continue_service", "essc_offered", "essc_pending", "essc_timed_out",
    "start_essc", "start_session",
]

S = StateName
BIOMETRIC = frozenset({"face", "fingerprint"})


def start_session(st: MachineState, now: float, pol: Policy) -> Transition:
    """A card went in at the attract screen: a new session, read the card."""
    session = Session(id=pol.new_key(), started_at=now, proven=frozenset())
    stats = st.terminal.stats.bump("sessions.started")
    st = replace(st, terminal=replace(st.terminal, stats=stats))
    return Transition(goto(st, S.READING_CARD, now, session=session), (ReadCard(),))


def essc_offered(st: MachineState, pol: Policy) -> bool:
    """The attract screen offers the e-SSC login: policy, a camera and the central (which alone
    can check a code) are there."""
    return (
        pol.essc_login
        and st.name is S.IDLE
        and st.terminal.central_online
        and st.terminal.device_ok("camera")
    )


def start_essc(st: MachineState, now: float, pol: Policy) -> Transition:
    """`Choose("essc")` at the attract screen: a session without a card, the camera scans."""
    key = pol.new_key()
    session = Session(id=pol.new_key(), started_at=now, login="essc", pending=key)
    stats = st.terminal.stats.bump("sessions.started").bump("essc_logins.started")
    st = replace(st, terminal=replace(st.terminal, stats=stats))
    scan = ScanQr(key, pol.policy.qr_timeout_s)
    return Transition(goto(st, S.QR_SCAN, now, session=session), (scan,))


def on_qr_scan(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    s = _session(st)
    if isinstance(inp, QrScanned) and inp.key == s.pending:
        s = replace(s, pending="")
        return Transition(goto(st, S.OPENING_SESSION, now, session=s), (RedeemEssc(inp.code),))
    if isinstance(inp, QrScanFailed) and inp.key == s.pending:
        return _essc_refused(st, now, inp.code)
    if isinstance(inp, EffectFailed) and inp.key == s.pending:
        return _essc_refused(st, now, inp.code)
    return None


def essc_pending(st: MachineState) -> bool:
    """An e-SSC login whose session is not open yet: there is no identity to offer a menu to."""
    return st.session is not None and st.session.login == "essc" and not st.session.token


def essc_timed_out(st: MachineState, now: float) -> Transition:
    """The camera or the central did not answer in time while the e-SSC was being redeemed:
    refused in plain words, and a result without the menu."""
    return _essc_refused(st, now, "no_answer")


def _essc_refused(st: MachineState, now: float, code: str) -> Transition:
    """The e-SSC login did not open a session: the citizen's words, then back to the attract
    screen (there is nothing else to offer without an identity)."""
    s = replace(_session(st), pending="")
    words = {"forbidden": "essc.forbidden", "card_lost": "essc.card_lost",
             "card.lost": "essc.card_lost"}.get(code, code)
    stats = st.terminal.stats.bump("essc_logins.refused").bump(f"failures.{words}")
    st = replace(st, session=s, terminal=replace(st.terminal, stats=stats))
    info = ResultInfo(title=text("result.essc_refused"), success=False,
                      error=error_info(words), offer_menu=False)
    return Transition(show_result(st, now, info))


def _essc_opened(st: MachineState, inp: Input, now: float) -> Transition | None:
    s = _session(st)
    if isinstance(inp, CentralSessionOpened):
        essc = frozenset({Credential.ESSC.value})
        s = replace(s, token=inp.token, proven=essc).with_data(token_creds=essc, menu_group="")
        stats = st.terminal.stats.bump("essc_logins.opened")
        st = replace(st, terminal=replace(st.terminal, stats=stats))
        return Transition(goto(st, S.MENU, now, session=s))
    if isinstance(inp, CentralSessionRefused):
        return _essc_refused(st, now, inp.reason)
    if isinstance(inp, EffectFailed):
        return _essc_refused(st, now, inp.code)
    return None


def _session(st: MachineState) -> Session:
    assert st.session is not None
    return st.session


def on_reading_card(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    s = _session(st)
    if isinstance(inp, CardRead):
        if inp.expired:
            return end_session(st, now, "card_expired", pol, notice="error.card_expired")
        s = replace(s, holder=inp.holder, expired=inp.expired, proven=frozenset({"card"}))
        return Transition(goto(st, S.MENU, now, session=s.with_data(menu_group="")))
    if isinstance(inp, CardReadFailed | EffectFailed):
        code = inp.code
        return end_session(st, now, "card_unreadable", pol, notice=error_info(code).message.key)
    return None


def continue_service(st: MachineState, now: float, pol: Policy) -> Transition:
    """Go to the next thing the chosen service needs, or start it."""
    s = _session(st)
    service = s.service
    need = pol.policy.credentials_for(service) - s.proven
    if Credential.ESSC.value in s.proven:
        need = need - {Credential.CARD.value, Credential.PIN.value}  # the central's word
    if Credential.IDCARD_FACE.value in s.proven:
        # The central's own face match stands in for card + PIN, for the lookups it serves.
        need = need - {Credential.CARD.value, Credential.PIN.value}
    if "pin" in need:
        return Transition(goto(st, S.PIN_ENTRY, now))
    if service == ServiceId.ACTIVATION and not activation.biometrics_due(s):
        need = need - BIOMETRIC
    if need & BIOMETRIC:
        # Consent is per journey: each service has its own purpose (PIPL art. 29, separate consent).
        consent = s.data.get("consent")
        if consent is None:
            return Transition(goto(st, S.CONSENT, now))
        if consent is False:
            return _consent_refused_route(st, now)
        if "face" in need:
            return _capture_face(st, now, pol)
        return _capture_finger(st, now)
    online_needed = service not in pol.policy.offline
    if online_needed and not st.terminal.central_online:
        return Transition(fail(st, now, "sync.offline"))
    covered = frozenset(s.data.get("token_creds", frozenset()))
    if st.terminal.central_online and not s.proven <= covered:
        return Transition(
            goto(st, S.OPENING_SESSION, now), (OpenCentralSession(frozenset(s.proven)),)
        )
    if service == ServiceId.ACTIVATION:
        return activation.resume(st, now, pol)
    return flows.start(st, now, pol)


def _capture_face(st: MachineState, now: float, pol: Policy) -> Transition:
    s = _session(st)
    attempt = s.face_attempts + 1
    effect = CaptureFace(attempt=attempt, challenges=pol.policy.face_challenges)
    return Transition(goto(st, S.FACE_CHECK, now), (effect,))


def _capture_finger(st: MachineState, now: float) -> Transition:
    s = _session(st)
    effect = EnrollFinger() if s.service == ServiceId.ACTIVATION else VerifyFinger()
    return Transition(goto(st, S.FINGER_CHECK, now), (effect,))


def _consent_refused_route(st: MachineState, now: float) -> Transition:
    # No biometric-free path for this service at the kiosk: a member of staff does it at the
    # counter (EN 301 549 5.3: biometrics are never the only way).
    info = ResultInfo(
        title=text("result.consent_refused"),
        success=False,
        error=error_info("consent_refused"),
        offer_staff=True,
    )
    return Transition(show_result(st, now, info, outcome="failed", failure="consent_refused"))


def on_pin_entry(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    if isinstance(inp, EnterPin):
        if not pin_length_ok(inp.pin, pol):
            # Too short or too long: refused here, so no try of the card's counter is spent.
            inp.pin.wipe()
            return Transition(replace(st, notice="error.pin_format"))
        return Transition(goto(st, S.VERIFYING_PIN, now), (VerifyPin(inp.pin),))
    if isinstance(inp, Back):
        return _back_to_menu(st, now)
    return None


def pin_length_ok(pin: PinBuffer, pol: Policy) -> bool:
    """The pad's length rule (session.pin_min_length..pin_max_length)."""
    return pol.session.pin_min_length <= len(pin) <= pol.session.pin_max_length


def _back_to_menu(st: MachineState, now: float) -> Transition:
    return back_to_menu(st, now)


def on_verifying_pin(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    s = _session(st)
    if isinstance(inp, PinVerified):
        s = replace(s, proven=s.proven | {"pin"}, pin_tries_left=None)
        return continue_service(replace(st, session=s), now, pol)
    if isinstance(inp, PinRejected):
        s = replace(s, pin_tries_left=inp.tries_left)
        if inp.tries_left <= 0:
            return Transition(fail(replace(st, session=s), now, "card.pin_blocked"))
        return Transition(goto(st, S.PIN_ENTRY, now, session=s, notice="error.pin_wrong"))
    if isinstance(inp, PinBlocked):
        return Transition(fail(st, now, "card.pin_blocked"))
    if isinstance(inp, EffectFailed):
        return Transition(fail(st, now, inp.code))
    return None


def on_consent(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    s = _session(st)
    if isinstance(inp, ConsentGiven | ConsentRefused):
        given = isinstance(inp, ConsentGiven)
        needs = sorted(pol.policy.credentials_for(s.service) & BIOMETRIC)
        payload: dict[str, Any] = {
            "decision": "given" if given else "refused",
            "service": s.service,
            "biometrics": needs,
            "purpose": f"consent.purpose.{s.service}",
            "terminal_id": pol.terminal_id,
            "session_key": s.id,
            "at": round(now, 3),
        }
        if s.holder is not None:
            payload["id_number"] = s.holder.id_number  # Masked: the journal encrypts it
        record = RecordOutbox("consent", payload, pol.new_key())
        st = replace(st, session=s.with_data(consent=given))
        t = continue_service(st, now, pol)
        return Transition(t.state, (record, *t.effects))
    if isinstance(inp, Back):
        return _back_to_menu(st, now)
    return None


def on_face_check(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    s = _session(st)
    if isinstance(inp, FaceMatched):
        s = replace(s, proven=s.proven | {"face"}, face_attempts=s.face_attempts + 1)
        return continue_service(replace(st, session=s), now, pol)
    if isinstance(inp, FaceFailed | EffectFailed):
        code = inp.reason if isinstance(inp, FaceFailed) else inp.code
        s = replace(s, face_attempts=s.face_attempts + 1)
        st = replace(st, session=s)
        if s.face_attempts >= pol.policy.face_attempts or code.startswith("camera."):
            st, alert = staff_alert(st, "repeated_failure")
            code = "face.too_many" if not code.startswith("camera.") else code
            return Transition(fail(st, now, code, staff=True), (alert,))
        st = goto(st, S.IDENTITY_RETRY, now, session=s.with_data(retry="face", retry_code=code))
        return Transition(st)
    return None


def on_finger_check(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    s = _session(st)
    if isinstance(inp, FingerprintMatched | FingerprintEnrolled):
        data: dict[str, Any] = {}
        if isinstance(inp, FingerprintEnrolled):
            data["enrolment_held"] = True  # sent to the central only after Confirm
        s = replace(s, proven=s.proven | {"fingerprint"}, finger_attempts=s.finger_attempts + 1)
        return continue_service(replace(st, session=s.with_data(**data)), now, pol)
    if isinstance(inp, FingerprintFailed | EffectFailed):
        code = inp.reason if isinstance(inp, FingerprintFailed) else inp.code
        s = replace(s, finger_attempts=s.finger_attempts + 1)
        st = replace(st, session=s)
        device = code in ("fingerprint.module_error", "fingerprint.link_error")
        if s.finger_attempts >= pol.policy.finger_attempts or device:
            st, alert = staff_alert(st, "repeated_failure")
            code = code if device else "fingerprint.too_many"
            return Transition(fail(st, now, code, staff=True), (alert,))
        st = goto(st, S.IDENTITY_RETRY, now, session=s.with_data(retry="finger", retry_code=code))
        return Transition(st)
    return None


def on_identity_retry(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    s = _session(st)
    if isinstance(inp, Choose):
        if inp.option == "retry":
            if s.data.get("retry") == "face":
                return _capture_face(st, now, pol)
            return _capture_finger(st, now)
        if inp.option == "staff":
            st, alert = staff_alert(st, "call_staff")
            return Transition(replace(st, staff_called=True), (alert,))
        return None
    if isinstance(inp, Back):
        return _back_to_menu(st, now)
    return None


def on_opening_session(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    s = _session(st)
    if s.login == "essc" and not s.token:
        return _essc_opened(st, inp, now)
    if isinstance(inp, CentralSessionOpened):
        s = replace(s, token=inp.token).with_data(token_creds=frozenset(s.proven))
        return continue_service(replace(st, session=s), now, pol)
    if isinstance(inp, CentralSessionRefused):
        if inp.reason in ("card_lost", "card.lost"):
            s = replace(s, restricted=True)
            st = replace(st, session=s)
            if s.service == ServiceId.LOSS_CANCEL:
                s = s.with_data(token_creds=frozenset(s.proven))
                return flows.start(replace(st, session=s), now, pol)
            return Transition(fail(st, now, "card_lost"))
        return Transition(fail(st, now, inp.reason))
    if isinstance(inp, EffectFailed):
        return Transition(fail(st, now, inp.code))
    return None


HANDLERS = {
    S.READING_CARD: on_reading_card,
    S.QR_SCAN: on_qr_scan,
    S.PIN_ENTRY: on_pin_entry,
    S.VERIFYING_PIN: on_verifying_pin,
    S.CONSENT: on_consent,
    S.FACE_CHECK: on_face_check,
    S.FINGER_CHECK: on_finger_check,
    S.IDENTITY_RETRY: on_identity_retry,
    S.OPENING_SESSION: on_opening_session,
}
