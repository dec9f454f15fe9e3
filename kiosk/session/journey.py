"""Building blocks of the service screens: the confirm spec, money, paging, waiting states."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from kiosk.session.core import back_to_menu, goto
from kiosk.session.effects import CallService
from kiosk.session.intents import NextPage
from kiosk.session.model import Input, MachineState, Policy, Session, Transition
from kiosk.session.states import StateName
from kiosk.session.view import FieldView, Text, text

__all__ = [
    "INQUIRY_TABS",
    "INSURANCES",
    "UTILITIES",
    "ConfirmSpec",
    "call",
    "confirm",
    "holder_fields",
    "money",
    "page",
    "page_count",
    "rows_per_page",
    "session_of",
    "to_menu",
    "working",
]

S = StateName
INSURANCES = ("pension", "medical", "unemployment", "work_injury", "maternity")
INQUIRY_TABS = (*INSURANCES, "accounts", "benefits", "chart")
UTILITIES = ("water", "power", "gas")


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


def session_of(st: MachineState) -> Session:
    assert st.session is not None
    return st.session


def working(
    st: MachineState, now: float, work: str, label: str, effect: Any, key: str
) -> Transition:
    s = replace(session_of(st), pending=key).with_data(work=work, work_label=label)
    return Transition(goto(st, S.WORKING, now, session=s), (effect,))


def call(st: MachineState, now: float, pol: Policy, work: str, label: str, service: str,
          action: str, params: dict[str, Any] | None = None) -> Transition:
    key = pol.new_key()
    return working(st, now, work, label, CallService(service, action, params or {}, key), key)


def confirm(st: MachineState, now: float, spec: ConfirmSpec) -> Transition:
    s = session_of(st).with_data(confirm=spec)
    return Transition(goto(st, S.CONFIRM, now, session=s))


def holder_fields(s: Session) -> tuple[FieldView, ...]:
    h = s.holder
    if h is None:
        return ()
    return (
        FieldView("name", text("field.name"), h.name, revealable=True),
        FieldView("id_number", text("field.id_number"), h.id_number, revealable=True),
    )


def page(st: MachineState, inp: Input, pol: Policy, n: int) -> Transition | None:
    s = session_of(st)
    page = int(s.data.get("page", 1))
    pages = page_count(n, rows_per_page(st, pol))
    new = page + 1 if isinstance(inp, NextPage) else page - 1
    if not 1 <= new <= pages:
        return None
    return Transition(replace(st, session=s.with_data(page=new), revealed=frozenset()))


def to_menu(st: MachineState, now: float, keep_group: bool = True) -> Transition:
    return back_to_menu(st, now, keep_group)
