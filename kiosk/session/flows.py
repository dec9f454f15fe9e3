"""The service journeys after identity: inquiry, certificate, payments, affairs, card services.

Each `start` enters the service's first screen; handlers map intents and answers to the next
screen. A charge (`SubmitPayment`) is emitted in exactly one place: `Confirm` on a CONFIRM
screen whose payment key this session armed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any

from drivers.personal import Masked, PersonalKind, PinBuffer
from kiosk.session.core import fail, finish_journey, goto, show_result
from kiosk.session.effects import CallService, ChangePin, PrintDocument, RecordOutbox, SubmitPayment
from kiosk.session.events import (
    EffectFailed,
    OutboxRecorded,
    PaymentDeclined,
    PaymentSucceeded,
    PaymentUnknown,
    PinBlocked,
    PinChanged,
    PinChangeFailed,
    PinRejected,
    QueryAnswered,
    QueryFailed,
)
from kiosk.session.intents import Back, Choose, Confirm, EnterPin, EnterText, NextPage, PrevPage
from kiosk.session.model import Input, MachineState, Policy, Session, Transition
from kiosk.session.results import ResultInfo, error_info
from kiosk.session.services import ServiceId
from kiosk.session.states import StateName
from kiosk.session.view import FieldView, Text, text

__all__ = [
    "HANDLERS",
    "INQUIRY_TABS",
    "UTILITIES",
    "ConfirmSpec",
    "money",
    "page_count",
    "rows_per_page",
    "start",
]

S = StateName
INSURANCES = ("pension", "medical", "unemployment", "work_injury", "maternity")
INQUIRY_TABS = (*INSURANCES, "accounts", "benefits", "chart")
UTILITIES = ("water", "power", "gas")
_ACCOUNT_RE = re.compile(r"^[0-9]{4,32}$")
_DECLINE_REASONS = {"insufficient_balance", "bill_paid"}


@dataclass(frozen=True, slots=True)
class ConfirmSpec:
    """What a CONFIRM screen confirms; `key` is created with the screen and reused on retry."""

    kind: str  # payment, application, registration, card_action, activation
    title: Text
    fields: tuple[FieldView, ...]
    key: str
    back: StateName = StateName.MENU
    purpose: str = ""
    reference: str = ""
    amount_cents: int = 0
    action: str = ""  # card_action: report_loss / cancel_loss
    payload: tuple[tuple[str, Any], ...] = ()


def money(cents: int) -> str:
    """Yuan with two decimals ("1234.50")."""
    sign = "-" if cents < 0 else ""
    cents = abs(int(cents))
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def rows_per_page(st: MachineState, pol: Policy) -> int:
    return pol.session.page_rows_elderly if st.elderly else pol.session.page_rows


def page_count(n: int, per: int) -> int:
    return max(1, math.ceil(n / per))


def _s(st: MachineState) -> Session:
    assert st.session is not None
    return st.session


def _working(
    st: MachineState, now: float, work: str, label: str, effect: Any, key: str
) -> Transition:
    s = replace(_s(st), pending=key).with_data(work=work, work_label=label)
    return Transition(goto(st, S.WORKING, now, session=s), (effect,))


def _call(st: MachineState, now: float, pol: Policy, work: str, label: str, service: str,
          action: str, params: dict[str, Any] | None = None) -> Transition:
    key = pol.new_key()
    return _working(st, now, work, label, CallService(service, action, params or {}, key), key)


def _confirm(st: MachineState, now: float, spec: ConfirmSpec) -> Transition:
    s = _s(st).with_data(confirm=spec)
    return Transition(goto(st, S.CONFIRM, now, session=s))


def _holder_fields(s: Session) -> tuple[FieldView, ...]:
    h = s.holder
    if h is None:
        return ()
    return (
        FieldView("name", text("field.name"), h.name, revealable=True),
        FieldView("id_number", text("field.id_number"), h.id_number, revealable=True),
    )


def _application(st: MachineState, now: float, pol: Policy, kind: str, what: str,
                 extra: tuple[tuple[str, Any], ...] = ()) -> Transition:
    s = _s(st)
    fields = (*_holder_fields(s), FieldView("what", text("field.request"), text(f"request.{what}")))
    spec = ConfirmSpec(kind=kind, title=text(f"confirm.{what}"), fields=fields,
                       key=pol.new_key(), payload=(("type", what), *extra))
    return _confirm(st, now, spec)


def start(st: MachineState, now: float, pol: Policy) -> Transition:
    """The first screen of the chosen service (identity is complete)."""
    s = _s(st)
    service = s.service
    if service == ServiceId.INQUIRY:
        return _inquiry_load(goto(st, S.INQUIRY, now, session=s.with_data(tab="pension", page=1)),
                             now, pol, "pension")
    if service == ServiceId.CERTIFICATE:
        return _call(st, now, pol, "certificate", "working.certificate", "certificate", "issue")
    if service == ServiceId.UTILITY_PAYMENT:
        return Transition(goto(st, S.UTILITY_KIND, now))
    if service == ServiceId.FLEXIBLE_CONTRIBUTION:
        return _call(st, now, pol, "quote", "working.quote", "contribution", "quote")
    if service == ServiceId.PIN_CHANGE:
        return Transition(goto(st, S.PIN_CHANGE_OLD, now))
    if service == ServiceId.LOSS_REPORT:
        spec = ConfirmSpec(kind="card_action", title=text("confirm.loss_report"),
                           fields=_holder_fields(s), key=pol.new_key(), action="report_loss")
        return _confirm(st, now, spec)
    if service == ServiceId.LOSS_CANCEL:
        spec = ConfirmSpec(kind="card_action", title=text("confirm.loss_cancel"),
                           fields=_holder_fields(s), key=pol.new_key(), action="cancel_loss")
        return _confirm(st, now, spec)
    if service == ServiceId.EMPLOYMENT_CERTIFICATE:
        return _application(st, now, pol, "application", "employment_certificate")
    if service == ServiceId.UNEMPLOYMENT_REGISTRATION:
        return _application(st, now, pol, "registration", "unemployment_registration")
    if service == ServiceId.TRAINING:
        return _call(st, now, pol, "courses", "working.courses", "training", "courses")
    if service == ServiceId.PENSION_QUALIFICATION:
        return _call(st, now, pol, "pension", "working.pension", "pension", "qualify")
    return Transition(fail(st, now, "internal"))


# --------------------------------------------------------------------------- inquiry


def _inquiry_load(st: MachineState, now: float, pol: Policy, tab: str) -> Transition:
    s = _s(st)
    if tab == "chart" or tab in s.data.get("loaded", {}):
        return Transition(st)
    key = pol.new_key()
    if tab in INSURANCES:
        effect = CallService("inquiry", "contributions", {"insurance": tab}, key)
    else:
        effect = CallService("inquiry", tab, {}, key)
    s = replace(s, pending=key).with_data(loading=tab, query_error="")
    return Transition(replace(st, session=s), (effect,))


def _on_inquiry(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    s = _s(st)
    if isinstance(inp, QueryAnswered) and inp.request_id == s.pending:
        loaded = dict(s.data.get("loaded", {}))
        tab = str(s.data.get("loading", ""))
        loaded[tab] = _rows_of(tab, inp.data)
        s = replace(s, pending="").with_data(loaded=loaded, loading="",
                                             outcome="completed")
        return Transition(replace(st, session=s))
    if (isinstance(inp, QueryFailed) and inp.request_id == s.pending) or (
        isinstance(inp, EffectFailed) and s.pending
    ):
        code = inp.code if isinstance(inp, QueryFailed | EffectFailed) else "internal"
        s = replace(s, pending="").with_data(loading="", query_error=code)
        return Transition(replace(st, session=s))
    if isinstance(inp, Choose) and inp.option in INQUIRY_TABS:
        st = replace(st, session=s.with_data(tab=inp.option, page=1), revealed=frozenset())
        return _inquiry_load(st, now, pol, inp.option)
    if isinstance(inp, NextPage | PrevPage):
        return _page(st, inp, pol, _inquiry_rows(s))
    if isinstance(inp, Back):
        return _to_menu(st, now)
    return None


def _rows_of(tab: str, data: Any) -> tuple[dict[str, Any], ...]:
    source = {"accounts": "accounts", "benefits": "payments"}.get(tab, "records")
    return tuple(dict(r) for r in data.get(source, ()))


def _inquiry_rows(s: Session) -> int:
    tab = str(s.data.get("tab", ""))
    return len(s.data.get("loaded", {}).get(tab, ()))


def _page(st: MachineState, inp: Input, pol: Policy, n: int) -> Transition | None:
    s = _s(st)
    page = int(s.data.get("page", 1))
    pages = page_count(n, rows_per_page(st, pol))
    new = page + 1 if isinstance(inp, NextPage) else page - 1
    if not 1 <= new <= pages:
        return None
    return Transition(replace(st, session=s.with_data(page=new), revealed=frozenset()))


def _to_menu(st: MachineState, now: float) -> Transition:
    st = finish_journey(st, now)
    return Transition(goto(st, S.MENU, now))


# --------------------------------------------------------------------------- waiting


def _on_working(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    s = _s(st)
    work = str(s.data.get("work", ""))
    if isinstance(inp, QueryAnswered | QueryFailed) and inp.request_id == s.pending:
        st = replace(st, session=replace(s, pending=""))
        if isinstance(inp, QueryFailed):
            return Transition(fail(st, now, inp.code))
        return _answered(st, now, pol, work, inp.data)
    if work == "payment" and isinstance(inp, PaymentSucceeded | PaymentDeclined | PaymentUnknown):
        if inp.payment_key != s.pending:
            return None
        return _paid(replace(st, session=replace(s, pending="")), now, inp)
    if work == "pin_change" and isinstance(inp, PinChanged | PinChangeFailed | PinRejected
                                           | PinBlocked):
        return _pin_changed(st, now, inp)
    if work == "application" and isinstance(inp, OutboxRecorded) and inp.key == s.pending:
        spec = s.data.get("confirm")
        queued = not st.terminal.central_online
        info = ResultInfo(
            title=text("result.submitted"), success=True,
            body=(text("result.queued" if queued else "result.sent"),),
            fields=tuple(f for f in spec.fields if f.id == "what")
            if isinstance(spec, ConfirmSpec) else (),
        )
        st = replace(st, session=replace(s, pending=""))
        return Transition(show_result(st, now, info, outcome="completed"))
    if isinstance(inp, EffectFailed):
        return Transition(fail(st, now, inp.code))
    return None


def _answered(st: MachineState, now: float, pol: Policy, work: str, data: Any) -> Transition:
    s = _s(st)
    if work == "certificate":
        return Transition(goto(st, S.CERTIFICATE, now, session=s.with_data(
            certificate=dict(data), outcome="completed")))
    if work == "bills":
        bills = tuple(dict(b) for b in data.get("bills", ()) if not b.get("paid", False))
        return Transition(goto(st, S.UTILITY_BILL, now, session=s.with_data(bills=bills, page=1)))
    if work == "quote":
        period = str(data.get("period", ""))
        amount = int(data.get("amount_cents", 0))
        if amount <= 0:
            return Transition(fail(st, now, "no_answer"))
        fields = (
            *_holder_fields(s),
            FieldView("period", text("field.period"), period),
            FieldView("base", text("field.base"), money(int(data.get("base_cents", 0)))),
            FieldView("amount", text("field.amount"), money(amount)),
        )
        spec = ConfirmSpec(kind="payment", title=text("confirm.contribution"), fields=fields,
                           key=pol.new_key(), purpose="contribution", reference=period,
                           amount_cents=amount)
        return _confirm(st, now, spec)
    if work == "courses":
        courses = tuple(dict(c) for c in data.get("courses", ()))
        if not courses:
            return Transition(fail(st, now, "no_courses"))
        return Transition(goto(st, S.COURSE_LIST, now, session=s.with_data(courses=courses,
                                                                            page=1)))
    if work == "pension":
        if data.get("already"):
            return Transition(fail(st, now, "already_qualified"))
        info = ResultInfo(title=text("result.pension_qualified"), success=True, fields=(
            FieldView("year", text("field.year"), str(data.get("year", ""))),
            FieldView("valid_until", text("field.valid_until"), str(data.get("valid_until", ""))),
        ))
        return Transition(show_result(st, now, info, outcome="completed"))
    if work == "card_action":
        action = str(s.data.get("card_action", ""))
        if data.get("refused"):
            return Transition(fail(st, now, str(data.get("refused"))))
        info = ResultInfo(
            title=text(f"result.{action}"), success=True,
            body=(text(f"result.{action}.body"),),
            offer_menu=action != "report_loss",
        )
        return Transition(show_result(st, now, info, outcome="completed"))
    return Transition(fail(st, now, "internal"))


def _paid(st: MachineState, now: float, inp: Input) -> Transition:
    s = _s(st)
    spec = s.data.get("confirm")
    assert isinstance(spec, ConfirmSpec)
    if isinstance(inp, PaymentSucceeded):
        fields = [f for f in spec.fields if f.id not in ("name", "id_number")]
        fields.append(FieldView("reference", text("field.reference"), inp.reference))
        if inp.balance_cents is not None:
            fields.append(FieldView("balance", text("field.balance"), money(inp.balance_cents)))
        info = ResultInfo(title=text("result.paid"), success=True, fields=tuple(fields))
        return Transition(show_result(st, now, info, outcome="completed"))
    if isinstance(inp, PaymentDeclined):
        reason = inp.reason if inp.reason in _DECLINE_REASONS else "payment_refused"
        return Transition(fail(st, now, reason))
    return Transition(fail(st, now, "payment.unknown", staff=True))


def _on_confirm(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    s = _s(st)
    spec = s.data.get("confirm")
    if not isinstance(spec, ConfirmSpec):
        return None
    if isinstance(inp, Back):
        if spec.back is S.MENU:
            return _to_menu(st, now)
        return Transition(goto(st, spec.back, now))
    if not isinstance(inp, Confirm):
        return None
    if spec.kind == "payment":
        if not st.terminal.central_online:
            return Transition(fail(st, now, "sync.offline"))
        s = replace(s, confirmed=s.confirmed | {spec.key})
        effect = SubmitPayment(spec.purpose, spec.reference, spec.amount_cents, spec.key)
        return _working(replace(st, session=s), now, "payment", "working.payment", effect,
                        spec.key)
    if spec.kind in ("application", "registration"):
        payload: dict[str, Any] = dict(spec.payload)
        payload.update(terminal_id=pol.terminal_id, session_key=s.id)
        if s.holder is not None:
            payload["id_number"] = s.holder.id_number
            payload["card_number"] = s.holder.card_number
        # The screen says "received" only once the journal holds it (OutboxRecorded).
        record = RecordOutbox(spec.kind, payload, spec.key)
        return _working(st, now, "application", "working.application", record, spec.key)
    if spec.kind == "card_action":
        st = replace(st, session=s.with_data(card_action=spec.action))
        key = spec.key
        call = CallService("card", spec.action, {}, key)
        return _working(st, now, "card_action", f"working.{spec.action}", call, key)
    if spec.kind == "activation":
        from kiosk.session import activation

        return activation.submit(st, now, pol, spec)
    return None


def _on_result(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    from kiosk.session.core import end_session, staff_alert

    s = _s(st)
    info = s.data.get("result")
    if isinstance(inp, Confirm):
        return end_session(st, now, "finished", pol)
    if isinstance(inp, Choose) and isinstance(info, ResultInfo):
        if inp.option == "menu" and info.offer_menu:
            return _to_menu(st, now)
        if inp.option == "staff" and info.offer_staff:
            st, alert = staff_alert(st, "call_staff")
            return Transition(replace(st, staff_called=True), (alert,))
    return None


# --------------------------------------------------------------------------- certificate


def _on_certificate(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    from kiosk.session.core import end_session

    s = _s(st)
    if isinstance(inp, Choose) and inp.option == "print":
        if not st.terminal.device_ok("printer"):
            return None
        doc = s.data.get("certificate", {})
        printed = replace(st, session=s.with_data(printed=True))
        return Transition(printed, (PrintDocument(dict(doc.get("document", doc))),))
    if isinstance(inp, EffectFailed) and inp.effect == "PrintDocument":
        return Transition(replace(st, session=s.with_data(printed=False), notice=
                                  "certificate.print_failed"))
    if isinstance(inp, Confirm):
        return end_session(st, now, "finished", pol)
    if isinstance(inp, Back):
        return _to_menu(st, now)
    return None


# --------------------------------------------------------------------------- utility


def _on_utility_kind(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    if isinstance(inp, Choose) and inp.option in UTILITIES:
        s = _s(st).with_data(utility=inp.option, account_error="")
        return Transition(goto(st, S.UTILITY_ACCOUNT, now, session=s))
    if isinstance(inp, Back):
        return _to_menu(st, now)
    return None


def _on_utility_account(st: MachineState, inp: Input, now: float, pol: Policy
                        ) -> Transition | None:
    s = _s(st)
    if isinstance(inp, EnterText) and inp.field == "account_number":
        value = inp.value.strip()
        if not _ACCOUNT_RE.match(value):
            st = replace(st, session=s.with_data(account_error="validation.account_number"),
                         activity_at=now)
            return Transition(st)
        st = replace(st, session=s.with_data(account=value, account_error=""))
        params = {"utility": s.data.get("utility", ""), "account_number": value}
        return _call(st, now, pol, "bills", "working.bills", "utility", "bills", params)
    if isinstance(inp, Back):
        return Transition(goto(st, S.UTILITY_KIND, now))
    return None


def _on_utility_bill(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    s = _s(st)
    bills = s.data.get("bills", ())
    if isinstance(inp, Choose):
        bill = next((b for b in bills if str(b.get("bill_id")) == inp.option), None)
        if bill is None:
            return None
        amount = int(bill.get("amount_cents", 0))
        fields = (
            FieldView("utility", text("field.utility"), text(f"utility.{s.data.get('utility')}")),
            FieldView("account", text("field.account_number"), str(s.data.get("account", ""))),
            FieldView("period", text("field.period"), str(bill.get("period", ""))),
            FieldView("amount", text("field.amount"), money(amount)),
        )
        spec = ConfirmSpec(kind="payment", title=text("confirm.utility"), fields=fields,
                           key=pol.new_key(), back=S.UTILITY_BILL, purpose="utility_bill",
                           reference=str(bill.get("bill_id")), amount_cents=amount)
        return _confirm(st, now, spec)
    if isinstance(inp, NextPage | PrevPage):
        return _page(st, inp, pol, len(bills))
    if isinstance(inp, Back):
        return Transition(goto(st, S.UTILITY_ACCOUNT, now))
    return None


# --------------------------------------------------------------------------- training


def _on_course_list(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    s = _s(st)
    courses = s.data.get("courses", ())
    if isinstance(inp, Choose):
        course = next((c for c in courses if str(c.get("course_id")) == inp.option), None)
        if course is None or int(course.get("seats_left", 1)) <= 0:
            return None
        fields = (
            *_holder_fields(s),
            FieldView("course", text("field.course"), str(course.get("name", ""))),
            FieldView("starts", text("field.starts"), str(course.get("starts", ""))),
        )
        spec = ConfirmSpec(kind="registration", title=text("confirm.training"), fields=fields,
                           key=pol.new_key(), back=S.COURSE_LIST,
                           payload=(("type", "training"), ("course_id", inp.option)))
        return _confirm(st, now, spec)
    if isinstance(inp, NextPage | PrevPage):
        return _page(st, inp, pol, len(courses))
    if isinstance(inp, Back):
        return _to_menu(st, now)
    return None


# --------------------------------------------------------------------------- PIN change


def _held_pins(s: Session) -> list[PinBuffer]:
    return [p for p in (s.data.get("pin_old"), s.data.get("pin_new")) if isinstance(p, PinBuffer)]


def wipe_held_pins(s: Session | None) -> None:
    """Zero PIN buffers the PIN change screens hold (dropping a reference leaves the bytes)."""
    if s is not None:
        for pin in _held_pins(s):
            pin.wipe()


def _on_pin_change(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    s = _s(st)
    if isinstance(inp, Back):
        wipe_held_pins(s)
        st = replace(st, session=s.with_data(pin_old=None, pin_new=None))
        return _to_menu(st, now)
    if not isinstance(inp, EnterPin):
        return None
    if st.name is S.PIN_CHANGE_OLD:
        return Transition(goto(st, S.PIN_CHANGE_NEW, now, session=s.with_data(pin_old=inp.pin)))
    if st.name is S.PIN_CHANGE_NEW:
        return Transition(goto(st, S.PIN_CHANGE_REPEAT, now,
                               session=s.with_data(pin_new=inp.pin)))
    old, new = s.data.get("pin_old"), s.data.get("pin_new")
    if not isinstance(old, PinBuffer) or not isinstance(new, PinBuffer):
        return None
    s = s.with_data(pin_old=None, pin_new=None)
    st = replace(st, session=s)
    key = pol.new_key()
    return _working(st, now, "pin_change", "working.pin_change", ChangePin(old, new, inp.pin), key)


def _pin_changed(st: MachineState, now: float, inp: Input) -> Transition:
    s = _s(st)
    if isinstance(inp, PinChanged):
        info = ResultInfo(title=text("result.pin_changed"), success=True,
                          body=(text("result.pin_changed.body"),))
        return Transition(show_result(st, now, info, outcome="completed"))
    # The runner wiped all three PINs after the card's answer: start again from the current PIN.
    if isinstance(inp, PinChangeFailed) and inp.reason in ("mismatch", "pin_mismatch"):
        return Transition(goto(st, S.PIN_CHANGE_OLD, now, session=s,
                               notice="error.pin_mismatch"))
    if isinstance(inp, PinRejected) and inp.tries_left > 0:
        s = replace(s, pin_tries_left=inp.tries_left)
        return Transition(goto(st, S.PIN_CHANGE_OLD, now, session=s, notice="error.pin_wrong"))
    if isinstance(inp, PinChangeFailed) and inp.reason == "format":
        return Transition(goto(st, S.PIN_CHANGE_OLD, now, notice="error.pin_format"))
    code = inp.reason if isinstance(inp, PinChangeFailed) else "card.pin_blocked"
    return Transition(fail(st, now, code))


def holder_masked(value: str, kind: PersonalKind) -> Masked:
    return Masked(value, kind)


HANDLERS = {
    S.INQUIRY: _on_inquiry,
    S.WORKING: _on_working,
    S.CONFIRM: _on_confirm,
    S.RESULT: _on_result,
    S.CERTIFICATE: _on_certificate,
    S.UTILITY_KIND: _on_utility_kind,
    S.UTILITY_ACCOUNT: _on_utility_account,
    S.UTILITY_BILL: _on_utility_bill,
    S.COURSE_LIST: _on_course_list,
    S.PIN_CHANGE_OLD: _on_pin_change,
    S.PIN_CHANGE_NEW: _on_pin_change,
    S.PIN_CHANGE_REPEAT: _on_pin_change,
}

_ = error_info  # re-exported for the views
