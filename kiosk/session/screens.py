"""Input screens of the payment, training and PIN change journeys."""

from __future__ import annotations

import re
from dataclasses import replace

from drivers.personal import PinBuffer
from kiosk.session.core import fail, goto, show_result
from kiosk.session.effects import ChangePin
from kiosk.session.events import (
    PinChanged,
    PinChangeFailed,
    PinRejected,
)
from kiosk.session.intents import Back, Choose, EnterPin, EnterText, NextPage, PrevPage
from kiosk.session.journey import (
    UTILITIES,
    ConfirmSpec,
    call,
    confirm,
    holder_fields,
    money,
    page,
    session_of,
    to_menu,
    working,
)
from kiosk.session.model import Input, MachineState, Policy, Session, Transition
from kiosk.session.results import ResultInfo
from kiosk.session.states import StateName
from kiosk.session.view import FieldView, text

__all__ = ["HANDLERS", "pin_changed", "wipe_held_pins"]

S = StateName
_ACCOUNT_RE = re.compile(r"^[0-9]{4,32}$")


# --------------------------------------------------------------------------- utility


def _on_utility_kind(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    if isinstance(inp, Choose) and inp.option in UTILITIES:
        s = session_of(st).with_data(utility=inp.option, account_error="")
        return Transition(goto(st, S.UTILITY_ACCOUNT, now, session=s))
    if isinstance(inp, Back):
        return to_menu(st, now)
    return None


def _on_utility_account(st: MachineState, inp: Input, now: float, pol: Policy
                        ) -> Transition | None:
    s = session_of(st)
    if isinstance(inp, EnterText) and inp.field == "account_number":
        value = inp.value.strip()
        if not _ACCOUNT_RE.match(value):
            st = replace(st, session=s.with_data(account_error="validation.account_number"),
                         activity_at=now)
            return Transition(st)
        st = replace(st, session=s.with_data(account=value, account_error=""))
        params = {"utility": s.data.get("utility", ""), "account_number": value}
        return call(st, now, pol, "bills", "working.bills", "utility", "bills", params)
    if isinstance(inp, Back):
        return Transition(goto(st, S.UTILITY_KIND, now))
    return None


def _on_utility_bill(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    s = session_of(st)
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
        return confirm(st, now, spec)
    if isinstance(inp, NextPage | PrevPage):
        return page(st, inp, pol, len(bills))
    if isinstance(inp, Back):
        return Transition(goto(st, S.UTILITY_ACCOUNT, now))
    return None


# --------------------------------------------------------------------------- training


def _on_course_list(st: MachineState, inp: Input, now: float, pol: Policy) -> Transition | None:
    s = session_of(st)
    courses = s.data.get("courses", ())
    if isinstance(inp, Choose):
        course = next((c for c in courses if str(c.get("course_id")) == inp.option), None)
        if course is None or int(course.get("seats_left", 1)) <= 0:
            return None
        fields = (
            *holder_fields(s),
            FieldView("course", text("field.course"), str(course.get("title", ""))),
            FieldView("starts", text("field.starts"), str(course.get("starts", ""))),
        )
        spec = ConfirmSpec(kind="registration", title=text("confirm.training"), fields=fields,
                           key=pol.new_key(), back=S.COURSE_LIST,
                           payload=(("type", "training"), ("course_id", inp.option)))
        return confirm(st, now, spec)
    if isinstance(inp, NextPage | PrevPage):
        return page(st, inp, pol, len(courses))
    if isinstance(inp, Back):
        return to_menu(st, now)
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
    s = session_of(st)
    if isinstance(inp, Back):
        wipe_held_pins(s)
        st = replace(st, session=s.with_data(pin_old=None, pin_new=None))
        return to_menu(st, now)
    if not isinstance(inp, EnterPin):
        return None
    from kiosk.session.identity import pin_length_ok

    if not pin_length_ok(inp.pin, pol):
        inp.pin.wipe()
        return Transition(replace(st, notice="error.pin_format"))
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
    return working(st, now, "pin_change", "working.pin_change", ChangePin(old, new, inp.pin), key)


def pin_changed(st: MachineState, now: float, inp: Input) -> Transition:
    s = session_of(st)
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




HANDLERS = {
    S.UTILITY_KIND: _on_utility_kind,
    S.UTILITY_ACCOUNT: _on_utility_account,
    S.UTILITY_BILL: _on_utility_bill,
    S.COURSE_LIST: _on_course_list,
    S.PIN_CHANGE_OLD: _on_pin_change,
    S.PIN_CHANGE_NEW: _on_pin_change,
    S.PIN_CHANGE_REPEAT: _on_pin_change,
}
