"""The medical insurance account activation wizard (as the hall procedure describes it).

The resident ID card read on the reader and checked against the card's holder (or, where
policy allows, the ID number typed and checked) → bank card swap (the SSC may be out until it
returns and is re-checked) → application form, field by field → consent → face → fingerprint
enrolment → submit → the activation saga's progress (approval, card write, read-back,
confirmation) → result. Identity steps reuse identity.py through `continue_service`.

The fingerprint enrolled at the identity step replaces the holder's reference at the central,
so it is sent only once the citizen confirms the summary (`SubmitEnrolment`, then the saga):
until then the identity port holds it, unsent, and a cancel, a timeout or a card pulled before
Confirm ends the session, which wipes it (`WipePersonalData`): the central's reference is
untouched and the kiosk keeps no template.
"""

from __future__ import annotations

import hmac
from dataclasses import replace
from typing import Any

from drivers.card.holder import CardHolder
from drivers.idcard.layouts import IdCardHolder
from drivers.personal import Masked, PersonalKind
from drivers.vocabulary import DeviceKind
from kiosk.session.core import back_to_menu, end_session, fail, goto, show_result
from kiosk.session.effects import (
    ReadBankCard,
    ReadCard,
    ReadIdCard,
    RunActivation,
    SubmitEnrolment,
)
from kiosk.session.events import (
    ActivationFinished,
    ActivationProgressed,
    BankCardRead,
    BankCardReadFailed,
    CardInserted,
    CardRead,
    CardReadFailed,
    CardRemoved,
    EffectFailed,
    EnrolmentRefused,
    EnrolmentSubmitted,
    IdCardRead,
    IdCardReadFailed,
)
from kiosk.session.forms import validate_field
from kiosk.session.intents import Back, Choose, Confirm, EnterText
from kiosk.session.model import Input, MachineState, Policy, Session, Transition
from kiosk.session.results import ERROR_MESSAGES, ResultInfo
from kiosk.session.states import StateName
from kiosk.session.view import FieldView, text

__all__ = ["EDITABLE", "FORM_FIELDS", "HANDLERS", "STEPS", "biometrics_due", "resume", "submit"]

S = StateName
FORM_FIELDS = ("name", "id_number", "bank_number", "phone", "address")
EDITABLE = ("phone", "address")
STEPS = {
    S.ACTIVATION_ID: 1,
    S.ACTIVATION_BANK_SWAP: 2,
    S.ACTIVATION_FORM: 3,
    S.CONSENT: 4,
    S.FACE_CHECK: 5,
    S.FINGER_CHECK: 6,
    S.IDENTITY_RETRY: 5,
    S.CONFIRM: 7,
    S.ACTIVATION_WRITING: 8,
}
_KINDS = {"phone": PersonalKind.PHONE, "address": PersonalKind.OTHER}


def _s(st: MachineState) -> Session:
    assert st.session is not None
    return st.session


def biometrics_due(s: Session) -> bool:
    """True once the form is done: the face and fingerprint steps come now."""
    return s.data.get("act_stage") == "identity"


def resume(st: MachineState, now: float, pol: Policy) -> Transition:
    """Called when nothing is missing for the current stage."""
    s = _s(st)
    if biometrics_due(s):
        from kiosk.session.flows import ConfirmSpec

        fields = tuple(form_fields(s))
        spec = ConfirmSpec(kind="activation", title=text("confirm.activation"), fields=fields,
                           key=pol.new_key(), back=S.ACTIVATION_FORM)
        return Transition(goto(st, S.CONFIRM, now, session=s.with_data(confirm=spec)))
    return _identity_step(st, now, pol)


def _reads_id_card(st: MachineState, pol: Policy) -> bool:
    return pol.policy.id_card_check != "id_card_or_typed" or st.terminal.reported_ok(
        DeviceKind.ID_CARD_READER
    )


def _identity_step(st: MachineState, now: float, pol: Policy) -> Transition:
    """ACTIVATION_ID: the resident ID card on the reader (policy permitting and the reader
    up), else the ID number typed."""
    s = _s(st).with_data(act_stage="id", id_error="")
    check = pol.policy.id_card_check
    if check == "typed" or not _reads_id_card(st, pol):
        return Transition(goto(st, S.ACTIVATION_ID, now, session=s.with_data(id_mode="typed")))
    if not st.terminal.reported_ok(DeviceKind.ID_CARD_READER):
        return Transition(fail(st, now, "idcard.link_error"))  # policy: the card, and it is down
    key = pol.new_key()
    s = replace(s, pending=key).with_data(id_mode="card")
    read = ReadIdCard(key, pol.policy.id_card_timeout_s)
    return Transition(goto(st, S.ACTIVATION_ID, now, session=s), (read,))


def _same_person(card: CardHolder | None, id_card: IdCardHolder) -> bool:
    """The ID card is the social security card holder's: same ID number and name. Compared on
    the revealed values here, in constant time, and never logged or kept."""
    if card is None:
        return False
    same_id = hmac.compare_digest(
        card.id_number.reveal().strip().upper().encode(),
        id_card.id_number.reveal().strip().upper().encode(),
    )
    same_name = hmac.compare_digest(
        "".join(card.name.reveal().split()).encode(),
        "".join(id_card.name.reveal().split()).encode(),
    )
    return same_id and same_name


def _on_id_card(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    s = _s(st)
    if isinstance(inp, Choose) and inp.option == "type_id":
        if pol.policy.id_card_check != "id_card_or_typed":
            return None
        # The read still running answers a key nobody waits for any more.
        s = replace(s, pending="").with_data(id_mode="typed")
        return Transition(replace(st, session=s, activity_at=now))
    if not s.pending:
        return None
    if isinstance(inp, IdCardRead) and inp.key == s.pending:
        st = replace(st, session=replace(s, pending=""))
        if inp.expired:
            return Transition(fail(st, now, "idcard.expired"))
        if not _same_person(s.holder, inp.holder):
            return Transition(fail(st, now, "idcard.mismatch"))
        return _to_swap(st, now)
    if isinstance(inp, IdCardReadFailed | EffectFailed) and inp.key == s.pending:
        st = replace(st, session=replace(s, pending=""))
        return Transition(fail(st, now, inp.code))
    return None


def _to_swap(st: MachineState, now: float) -> Transition:
    s = _s(st).with_data(id_error="", act_stage="swap", swap="remove_ssc")
    return Transition(goto(st, S.ACTIVATION_BANK_SWAP, now, session=s))


def form_fields(s: Session) -> list[FieldView]:
    """The form as the citizen sees it (all personal values Masked)."""
    h = s.holder
    form = s.data.get("form", {})
    out: list[FieldView] = []
    if h is not None:
        out.append(FieldView("name", text("field.name"), h.name, revealable=True))
        out.append(FieldView("id_number", text("field.id_number"), h.id_number, revealable=True))
    bank = s.data.get("bank_number")
    if isinstance(bank, Masked):
        out.append(FieldView("bank_number", text("field.bank_number"), bank, revealable=True))
    for name in EDITABLE:
        value = form.get(name)
        out.append(FieldView(name, text(f"field.{name}"),
                             value if isinstance(value, Masked) else text("field.empty"),
                             revealable=isinstance(value, Masked)))
    return out


def _on_id(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    s = _s(st)
    if s.data.get("id_mode") == "card":
        return _on_id_card(st, inp, now, pol) or (
            back_to_menu(st, now) if isinstance(inp, Back) else None
        )
    if isinstance(inp, EnterText) and inp.field == "id_number":
        value = inp.value.strip().upper()
        problem = validate_field("id_number", value)
        if not problem and s.holder is not None:
            same = hmac.compare_digest(value.encode(), s.holder.id_number.reveal().upper().encode())
            problem = "" if same else "validation.id_mismatch"
        if problem:
            return Transition(replace(st, session=s.with_data(id_error=problem), activity_at=now))
        return _to_swap(st, now)
    if isinstance(inp, Back):
        return back_to_menu(st, now)
    return None


def _on_swap(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    s = _s(st)
    step = s.data.get("swap")

    def to(sub: str, *effects: Any, **data: Any) -> Transition:
        nxt = replace(st, session=s.with_data(swap=sub, **data), activity_at=now)
        return Transition(nxt, tuple(effects))

    if isinstance(inp, CardRemoved):
        if step == "remove_ssc":
            return to("insert_bank")
        if step in ("remove_bank", "remove_bank_retry"):
            return to("insert_ssc" if step == "remove_bank" else "insert_bank", swap_error="")
        return end_session(st, now, "card_removed", pol, notice="error.card_removed")
    if isinstance(inp, CardInserted):
        if step == "insert_bank":
            return to("reading_bank", ReadBankCard())
        if step == "insert_ssc":
            return to("reading_ssc", ReadCard())
        return None
    if isinstance(inp, BankCardRead) and step == "reading_bank":
        return to("remove_bank", bank_number=inp.bank_number, swap_error="")
    if isinstance(inp, BankCardReadFailed | EffectFailed) and step == "reading_bank":
        return to("remove_bank_retry", swap_error="error.bank_card")
    if isinstance(inp, CardRead) and step == "reading_ssc":
        h = s.holder
        if h is None or inp.holder.card_number != h.card_number or (
            inp.holder.id_number != h.id_number
        ):
            return end_session(st, now, "other_card", pol, notice="error.card_other")
        # The card was reset when it left the reader: its PIN state is gone, and the activation
        # write needs it (DF04 EF05 is written under PIN + UK), so the PIN is asked again
        # before the identity stage (never kept from the first entry).
        s = replace(s, proven=s.proven - {"pin"})
        s = s.with_data(act_stage="form", swap="", form_field="phone")
        return Transition(goto(st, S.ACTIVATION_FORM, now, session=s))
    if isinstance(inp, CardReadFailed | EffectFailed) and step == "reading_ssc":
        return end_session(st, now, "card_unreadable", pol, notice="error.card_unreadable")
    if isinstance(inp, Back) and step == "remove_ssc":
        return _identity_step(st, now, pol)
    return None


def _on_form(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    s = _s(st)
    form = dict(s.data.get("form", {}))
    if isinstance(inp, EnterText) and inp.field in EDITABLE:
        value = inp.value.strip()
        problem = validate_field(inp.field, value)
        if problem:
            s = s.with_data(form_error=problem, form_field=inp.field)
            return Transition(replace(st, session=s, activity_at=now))
        form[inp.field] = Masked(value, _KINDS[inp.field])
        missing = [f for f in EDITABLE if f not in form]
        s = s.with_data(form=form, form_error="", form_field=missing[0] if missing else "")
        return Transition(replace(st, session=s, activity_at=now))
    if isinstance(inp, Choose) and inp.option in EDITABLE:
        s = s.with_data(form_field=inp.option, form_error="")
        return Transition(replace(st, session=s, activity_at=now))
    if isinstance(inp, Confirm):
        missing = [f for f in EDITABLE if f not in form]
        if missing or not isinstance(s.data.get("bank_number"), Masked):
            s = s.with_data(form_field=missing[0] if missing else "",
                            form_error="validation.form_incomplete")
            return Transition(replace(st, session=s, activity_at=now))
        from kiosk.session.identity import continue_service

        return continue_service(replace(st, session=s.with_data(act_stage="identity")), now, pol)
    if isinstance(inp, Back):
        return back_to_menu(st, now)
    return None


def submit(st: MachineState, now: float, pol: Policy, spec: Any) -> Transition:
    """Confirm on the activation summary: the enrolled fingerprint to the central first (it
    waited for this Confirm), then the saga."""
    s = replace(_s(st), pending=spec.key)
    if s.data.get("enrolment_held"):
        s = s.with_data(progress=0.0, progress_step="fingerprint")
        submit_enrolment = SubmitEnrolment(spec.key)
        return Transition(goto(st, S.ACTIVATION_WRITING, now, session=s), (submit_enrolment,))
    return _run_saga(goto(st, S.ACTIVATION_WRITING, now, session=s), "")


def _run_saga(st: MachineState, fingerprint_ref: str) -> Transition:
    s = _s(st)
    h = s.holder
    form: dict[str, str | Masked] = dict(s.data.get("form", {}))
    bank = s.data.get("bank_number")
    if h is not None:
        form.update(name=h.name, id_number=h.id_number, card_number=h.card_number)
    if isinstance(bank, Masked):
        form["bank_number"] = bank
    effect = RunActivation(s.pending, form, fingerprint_ref)
    s = s.with_data(progress=0.0, progress_step="approval", enrolment_held=False)
    return Transition(replace(st, session=s), (effect,))


def _on_writing(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    s = _s(st)
    if s.data.get("progress_step") == "fingerprint":
        if isinstance(inp, EnrolmentSubmitted) and inp.key == s.pending:
            return _run_saga(st, inp.ref)
        if isinstance(inp, EnrolmentRefused | EffectFailed) and inp.key == s.pending:
            # Nothing was approved or written: the activation did not start.
            st = replace(st, session=replace(s, pending="").with_data(enrolment_held=False))
            code = inp.code if inp.code in ERROR_MESSAGES else "fingerprint_not_recorded"
            return Transition(fail(st, now, code))
        return None
    if isinstance(inp, ActivationProgressed) and inp.key == s.pending:
        s = s.with_data(progress=max(0.0, min(1.0, inp.fraction)), progress_step=inp.step)
        return Transition(replace(st, session=s))
    if isinstance(inp, ActivationFinished) and inp.key == s.pending:
        st = replace(st, session=replace(s, pending=""))
        if inp.outcome == "activated":
            info = ResultInfo(title=text("result.activated"), success=True,
                              body=(text("result.activated.body"),))
            return Transition(show_result(st, now, info, outcome="completed"))
        code = {
            "refused": "activation_refused",
            "compensated": "card.write_failed",
            "already": "already_activated",
        }.get(inp.outcome, "activation_pending")
        return Transition(fail(st, now, code, staff=code == "activation_pending"))
    if isinstance(inp, EffectFailed):
        return Transition(fail(st, now, "activation_pending", staff=True))
    return None


HANDLERS = {
    S.ACTIVATION_ID: _on_id,
    S.ACTIVATION_BANK_SWAP: _on_swap,
    S.ACTIVATION_FORM: _on_form,
    S.ACTIVATION_WRITING: _on_writing,
}
