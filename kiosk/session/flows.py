"""The service journeys after identity: inquiry, certificate, confirm, waiting and results.

Each `start` enters the service's first screen; handlers map intents and answers to the next
screen. A charge (`SubmitPayment`) is emitted in exactly one place: `Confirm` on a CONFIRM
screen whose payment key this session armed. The input screens of the payment, training and PIN
change journeys are in screens.py; shared building blocks in journey.py.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kiosk.session.core import fail, goto, show_result
from kiosk.session.effects import CallService, RecordOutbox, SubmitPayment
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
from kiosk.session.intents import Back, Choose, Confirm, NextPage, PrevPage
from kiosk.session.journey import (
    INQUIRY_TABS,
    INSURANCES,
    UTILITIES,
    ConfirmSpec,
    call,
    confirm,
    holder_fields,
    money,
    page,
    page_count,
    rows_per_page,
    session_of,
    to_menu,
    working,
)
from kiosk.session.model import Input, MachineState, Policy, Session, Transition
from kiosk.session.results import ResultInfo
from kiosk.session.services import ServiceId
from kiosk.session.states import StateName
from kiosk.session.view import FieldView, text

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
_DECLINE_REASONS = {"insufficient_balance", "bill_paid", "already_paid"}


def _application(st: MachineState, now: float, pol: Policy, kind: str, what: str,
                 extra: tuple[tuple[str, Any], ...] = ()) -> Transition:
    s = session_of(st)
    fields = (*holder_fields(s), FieldView("what", text("field.request"), text(f"request.{what}")))
    spec = ConfirmSpec(kind=kind, title=text(f"confirm.{what}"), fields=fields,
                       key=pol.new_key(), payload=(("type", what), *extra))
    return confirm(st, now, spec)



def start(st: MachineState, now: float, pol: Policy) -> Transition:
    """The first screen of the chosen service (identity is complete)."""
    s = session_of(st)
    service = s.service
    if service == ServiceId.INQUIRY:
        return _inquiry_load(goto(st, S.INQUIRY, now, session=s.with_data(tab="pension", page=1)),
                             now, pol, "pension")
    if service == ServiceId.CERTIFICATE:
        return call(st, now, pol, "certificate", "working.certificate", "certificate", "issue")
    if service == ServiceId.UTILITY_PAYMENT:
        return Transition(goto(st, S.UTILITY_KIND, now))
    if service == ServiceId.FLEXIBLE_CONTRIBUTION:
        return call(st, now, pol, "quote", "working.quote", "contribution", "quote")
    if service == ServiceId.PIN_CHANGE:
        return Transition(goto(st, S.PIN_CHANGE_OLD, now))
    if service == ServiceId.LOSS_REPORT:
        spec = ConfirmSpec(kind="card_action", title=text("confirm.loss_report"),
                           fields=holder_fields(s), key=pol.new_key(), action="report_loss")
        return confirm(st, now, spec)
    if service == ServiceId.LOSS_CANCEL:
        spec = ConfirmSpec(kind="card_action", title=text("confirm.loss_cancel"),
                           fields=holder_fields(s), key=pol.new_key(), action="cancel_loss")
        return confirm(st, now, spec)
    if service == ServiceId.EMPLOYMENT_CERTIFICATE:
        return _application(st, now, pol, "application", "employment_certificate")
    if service == ServiceId.UNEMPLOYMENT_REGISTRATION:
        return _application(st, now, pol, "registration", "unemployment_registration")
    if service == ServiceId.TRAINING:
        return call(st, now, pol, "courses", "working.courses", "training", "courses")
    if service == ServiceId.PENSION_QUALIFICATION:
        return call(st, now, pol, "pension", "working.pension", "pension", "qualify")
    return Transition(fail(st, now, "internal"))



# --------------------------------------------------------------------------- inquiry


def _inquiry_load(st: MachineState, now: float, pol: Policy, tab: str) -> Transition:
    s = session_of(st)
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
    s = session_of(st)
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
        return page(st, inp, pol, _inquiry_rows(s))
    if isinstance(inp, Back):
        return to_menu(st, now)
    return None


def _rows_of(tab: str, data: Any) -> tuple[dict[str, Any], ...]:
    source = {"accounts": "accounts", "benefits": "payments"}.get(tab, "records")
    return tuple(dict(r) for r in data.get(source, ()))


def _inquiry_rows(s: Session) -> int:
    tab = str(s.data.get("tab", ""))
    return len(s.data.get("loaded", {}).get(tab, ()))


# --------------------------------------------------------------------------- waiting


def _on_working(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    s = session_of(st)
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
        from kiosk.session.screens import pin_changed

        return pin_changed(st, now, inp)
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
    s = session_of(st)
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
            *holder_fields(s),
            FieldView("period", text("field.period"), period),
            FieldView("base", text("field.base"), money(int(data.get("base_cents", 0)))),
            FieldView("amount", text("field.amount"), money(amount)),
        )
        spec = ConfirmSpec(kind="payment", title=text("confirm.contribution"), fields=fields,
                           key=pol.new_key(), purpose="contribution", reference=period,
                           amount_cents=amount)
        return confirm(st, now, spec)
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
    s = session_of(st)
    spec = s.data.get("confirm")
    assert isinstance(spec, ConfirmSpec)
    if isinstance(inp, PaymentSucceeded):
        fields = [f for f in spec.fields if f.id not in ("name", "id_number")]
        fields.append(FieldView("reference", text("field.reference"), inp.reference))
        if inp.balance_cents is not None:
            fields.append(FieldView("balance", text("field.balance"), money(inp.balance_cents)))
        info = ResultInfo(title=text("result.paid"), success=True, fields=tuple(fields))
        st = replace(st, session=s.with_data(receipt=_receipt(st, spec, inp)))
        return Transition(show_result(st, now, info, outcome="completed"))
    if isinstance(inp, PaymentDeclined):
        reason = inp.reason if inp.reason in _DECLINE_REASONS else "payment_refused"
        return Transition(fail(st, now, reason))
    return Transition(fail(st, now, "payment.unknown", staff=True))


def _receipt(st: MachineState, spec: ConfirmSpec, paid: PaymentSucceeded) -> dict[str, str]:
    """What the payment receipt prints (printing.py adds the holder, masked)."""
    from kiosk.session.messages import catalog

    s = session_of(st)
    words = catalog(st.language)
    if spec.purpose == "utility_bill":
        utility = str(s.data.get("utility", ""))
        item = words.get(f"utility.{utility}", utility)
        account = str(s.data.get("account", ""))
    else:
        item = words.get("receipt.contribution", "contribution")
        account = spec.reference
    balance = "" if paid.balance_cents is None else money(paid.balance_cents)
    return {"item": item, "account": account, "amount": money(spec.amount_cents),
            "balance": balance, "reference": paid.reference}


def _on_confirm(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    s = session_of(st)
    spec = s.data.get("confirm")
    if not isinstance(spec, ConfirmSpec):
        return None
    if isinstance(inp, Back):
        if spec.back is S.MENU:
            return to_menu(st, now)
        return Transition(goto(st, spec.back, now))
    if not isinstance(inp, Confirm):
        return None
    if spec.kind == "payment":
        if not st.terminal.central_online:
            return Transition(fail(st, now, "sync.offline"))
        s = replace(s, confirmed=s.confirmed | {spec.key})
        effect = SubmitPayment(spec.purpose, spec.reference, spec.amount_cents, spec.key)
        return working(replace(st, session=s), now, "payment", "working.payment", effect,
                        spec.key)
    if spec.kind in ("application", "registration"):
        payload: dict[str, Any] = dict(spec.payload)
        payload.update(terminal_id=pol.terminal_id, session_key=s.id)
        if s.holder is not None:
            payload["id_number"] = s.holder.id_number
            payload["card_number"] = s.holder.card_number
        # The screen says "received" only once the journal holds it (OutboxRecorded).
        record = RecordOutbox(spec.kind, payload, spec.key)
        return working(st, now, "application", "working.application", record, spec.key)
    if spec.kind == "card_action":
        st = replace(st, session=s.with_data(card_action=spec.action))
        key = spec.key
        call = CallService("card", spec.action, {}, key)
        return working(st, now, "card_action", f"working.{spec.action}", call, key)
    if spec.kind == "activation":
        from kiosk.session import activation

        return activation.submit(st, now, pol, spec)
    return None


def _on_result(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    from kiosk.session.core import end_session, staff_alert

    s = session_of(st)
    info = s.data.get("result")
    if isinstance(inp, Confirm):
        return end_session(st, now, "finished", pol)
    if isinstance(inp, Choose) and isinstance(info, ResultInfo):
        if inp.option == "menu" and info.offer_menu:
            return to_menu(st, now, keep_group=False)
        if inp.option == "staff" and info.offer_staff:
            st, alert = staff_alert(st, "call_staff")
            return Transition(replace(st, staff_called=True), (alert,))
    return None


# --------------------------------------------------------------------------- certificate


def _on_certificate(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    from kiosk.session.core import end_session

    # Printing (the print choice and the printer's answers) is printing.py's.
    if isinstance(inp, Confirm):
        return end_session(st, now, "finished", pol)
    if isinstance(inp, Back):
        return to_menu(st, now)
    return None



HANDLERS = {
    S.INQUIRY: _on_inquiry,
    S.WORKING: _on_working,
    S.CONFIRM: _on_confirm,
    S.RESULT: _on_result,
    S.CERTIFICATE: _on_certificate,
}
