"""View builders of the service screens: inquiry, certificate, payments, training, confirm,
result and the activation wizard (views.py has the frame and the other states)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kiosk.session import activation
from kiosk.session.flows import (
    INQUIRY_TABS,
    UTILITIES,
    ConfirmSpec,
    money,
    page_count,
    rows_per_page,
)
from kiosk.session.model import MachineState, Policy, Session
from kiosk.session.results import ResultInfo, error_info
from kiosk.session.states import StateName
from kiosk.session.view import (
    Cell,
    Chart,
    Choice,
    ErrorInfo,
    FieldView,
    Progress,
    Series,
    Table,
    Text,
    TextKind,
    TextSpec,
    text,
)

__all__ = ["BUILDERS"]

S = StateName
Parts = dict[str, Any]


def _s(st: MachineState) -> Session:
    assert st.session is not None
    return st.session


# --------------------------------------------------------------------------- inquiry


_COLUMNS = {
    "contributions": ("col.period", "col.base", "col.personal", "col.employer", "col.status"),
    "accounts": ("col.account", "col.balance", "col.months", "col.as_of"),
    "benefits": ("col.period", "col.benefit", "col.amount", "col.paid_on"),
}


def _row(tab: str, r: dict[str, Any]) -> tuple[Cell, ...]:
    if tab == "accounts":
        return (text(f"account.{r.get('kind', '')}"), money(int(r.get("balance_cents", 0))),
                str(r.get("months", "")), str(r.get("as_of", "")))
    if tab == "benefits":
        return (str(r.get("period", "")), str(r.get("kind", "")),
                money(int(r.get("amount_cents", 0))), str(r.get("paid_on", "")))
    return (str(r.get("period", "")), money(int(r.get("base_cents", 0))),
            money(int(r.get("personal_cents", 0))), money(int(r.get("employer_cents", 0))),
            text("status.paid" if r.get("paid", True) else "status.unpaid"))


def _paged(
    st: MachineState, pol: Policy, rows: tuple[Any, ...]
) -> tuple[tuple[Any, ...], int, int]:
    per = rows_per_page(st, pol)
    pages = page_count(len(rows), per)
    page = min(max(1, int(_s(st).data.get("page", 1))), pages)
    return rows[(page - 1) * per : page * per], page, pages


def _chart(loaded: dict[str, Any]) -> Chart:
    series = []
    for kind in ("pension", "medical", "unemployment", "work_injury", "maternity"):
        records = loaded.get(kind)
        if not records:
            continue
        per_year: dict[str, int] = {}
        for r in records:
            year = str(r.get("period", ""))[:4]
            per_year[year] = per_year.get(year, 0) + int(r.get("personal_cents", 0)) + int(
                r.get("employer_cents", 0))
        series.append(Series(text(f"insurance.{kind}"),
                             tuple((y, per_year[y] / 100) for y in sorted(per_year))))
    return Chart(text("chart.per_year"), tuple(series))


def _inquiry(st: MachineState, pol: Policy) -> Parts:
    s = _s(st)
    tab = str(s.data.get("tab", "pension"))
    loaded: dict[str, Any] = dict(s.data.get("loaded", {}))
    parts: Parts = {
        "choices": tuple(Choice(t, text(f"tab.{t}"), selected=t == tab) for t in INQUIRY_TABS),
        "body": (text(f"inquiry.{'chart' if tab == 'chart' else 'table'}"),),
    }
    if s.data.get("loading"):
        parts["progress"] = Progress(text("progress.loading"))
    if s.data.get("query_error"):
        parts["error"] = error_info(str(s.data["query_error"]))
    if tab == "chart":
        parts["chart"] = _chart(loaded)
    elif tab in loaded:
        kind = tab if tab in ("accounts", "benefits") else "contributions"
        rows, page, pages = _paged(st, pol, tuple(loaded[tab]))
        parts["table"] = Table(_COLUMNS[kind], tuple(_row(tab, r) for r in rows), page, pages,
                               empty=text("table.empty"))
    return parts


# --------------------------------------------------------------------------- services


def _certificate(st: MachineState, pol: Policy) -> Parts:
    s = _s(st)
    cert: dict[str, Any] = dict(s.data.get("certificate", {}))
    doc: dict[str, Any] = dict(cert.get("document", cert))
    # The central's document masks the holder itself (family name; ID number first 3, last 4).
    fields = [
        FieldView("holder", text("field.holder"), str(doc.get("holder_name_masked", ""))),
        FieldView("id_number", text("field.id_number"), str(doc.get("id_number_masked", ""))),
        FieldView("periods", text("field.insured_periods"), _insured_periods(doc)),
        FieldView("code", text("field.verification_code"), str(cert.get("verification_code", ""))),
    ]
    # The print choice and its notices come from printing.py (only with a healthy printer).
    qr = str(cert.get("qr") or cert.get("verification_code") or "") or None
    return {"fields": tuple(fields), "qr": qr, "body": (text("certificate.body"),)}


def _insured_periods(doc: Mapping[str, Any]) -> Text:
    """The document's periods in a line a citizen reads: how many insurances, first and last
    insured month (the printed certificate lists every period)."""
    periods = [p for p in doc.get("periods", ()) if isinstance(p, Mapping)]
    if not periods:
        return text("certificate.no_periods")
    kinds = {str(p.get("insurance", "")) for p in periods}

    def month(period: object) -> str:
        value = str(period)
        return f"{value[:4]}-{value[4:]}" if len(value) == 6 else value

    return text("certificate.periods", count=len(kinds),
                start=month(min(str(p.get("from_period", "")) for p in periods)),
                end=month(max(str(p.get("to_period", "")) for p in periods)))


def _utility_kind(st: MachineState, pol: Policy) -> Parts:
    icons = {"water": "water_drop", "power": "bolt", "gas": "local_fire_department"}
    return {"body": (text("utility.choose"),),
            "choices": tuple(Choice(u, text(f"utility.{u}"), icons[u]) for u in UTILITIES)}


def _utility_account(st: MachineState, pol: Policy) -> Parts:
    s = _s(st)
    err = str(s.data.get("account_error", ""))
    return {
        "body": (text("utility.account", utility=text(f"utility.{s.data.get('utility', '')}")),),
        "text_input": TextSpec("account_number", TextKind.DIGITS, 32, 4,
                               validation=text(err) if err else None),
    }


def _utility_bill(st: MachineState, pol: Policy) -> Parts:
    s = _s(st)
    rows, page, pages = _paged(st, pol, tuple(s.data.get("bills", ())))
    table = Table(
        ("col.period", "col.amount", "col.due_date"),
        tuple((str(b.get("period", "")), money(int(b.get("amount_cents", 0))),
               str(b.get("due_date", ""))) for b in rows),
        page, pages, tuple(str(b.get("bill_id", "")) for b in rows), text("utility.no_bills"),
    )
    return {"body": (text("utility.choose_bill"),), "table": table}


def _course_list(st: MachineState, pol: Policy) -> Parts:
    s = _s(st)
    rows, page, pages = _paged(st, pol, tuple(s.data.get("courses", ())))
    table = Table(
        ("col.course", "col.starts", "col.seats"),
        tuple((str(c.get("title", "")), str(c.get("starts", "")), str(c.get("seats_left", "")))
              for c in rows),
        page, pages, tuple(str(c.get("course_id", "")) for c in rows), text("training.none"),
    )
    return {"body": (text("training.choose"),), "table": table}


def _confirm(st: MachineState, pol: Policy) -> Parts:
    s = _s(st)
    spec = s.data.get("confirm")
    if not isinstance(spec, ConfirmSpec):
        return {}
    body = [text("confirm.check")]
    if spec.kind == "payment":
        body.append(text("confirm.pay_once", amount=money(spec.amount_cents)))
    elif spec.kind == "card_action":
        body.append(text(f"confirm.{spec.action}.warning"))
    elif spec.kind in ("application", "registration") and not st.terminal.central_online:
        body.append(text("confirm.will_queue"))
    return {"title": spec.title, "fields": spec.fields, "body": tuple(body)}


def _result(st: MachineState, pol: Policy) -> Parts:
    s = _s(st)
    info = s.data.get("result")
    if not isinstance(info, ResultInfo):
        return {}
    choices = []
    if info.offer_menu:
        choices.append(Choice("menu", text("result.another_service"), "apps"))
    if info.offer_staff:
        choices.append(Choice("staff", text("result.ask_staff"), "support_agent"))
    parts: Parts = {"title": info.title, "fields": info.fields, "qr": info.qr,
                    "choices": tuple(choices), "body": (*info.body, text("result.finish_hint"))}
    if info.error is not None:
        parts["error"] = info.error
    return parts


# --------------------------------------------------------------------------- activation


def _activation_id(st: MachineState, pol: Policy) -> Parts:
    s = _s(st)
    if s.data.get("id_mode") == "card":
        parts: Parts = {"body": (text("activation.idcard_body"),),
                        "progress": Progress(text("progress.idcard"))}
        if pol.policy.id_card_check == "id_card_or_typed":
            parts["choices"] = (Choice("type_id", text("activation.type_id"), "keyboard"),)
        return parts
    err = str(s.data.get("id_error", ""))
    return {"body": (text("activation.id_body"),),
            "text_input": TextSpec("id_number", TextKind.ID_NUMBER, 18, 18,
                                   validation=text(err) if err else None)}


def _activation_swap(st: MachineState, pol: Policy) -> Parts:
    s = _s(st)
    sub = str(s.data.get("swap", "remove_ssc"))
    parts: Parts = {"body": (text(f"swap.{sub}"),)}
    if sub.startswith("reading"):
        parts["progress"] = Progress(text(f"swap.{sub}"))
    if s.data.get("swap_error"):
        parts["error"] = ErrorInfo(text(str(s.data["swap_error"])), text("next.bank_card_other"),
                                   "card.not_bank")
    return parts


def _activation_form(st: MachineState, pol: Policy) -> Parts:
    s = _s(st)
    current = str(s.data.get("form_field", ""))
    err = str(s.data.get("form_error", ""))
    parts: Parts = {
        "body": (text("activation.form_body"),),
        "fields": tuple(activation.form_fields(s)),
        "choices": tuple(Choice(f, text(f"field.{f}"), "edit", selected=f == current)
                         for f in activation.EDITABLE),
    }
    if current:
        kind = TextKind.PHONE if current == "phone" else TextKind.TEXT
        parts["text_input"] = TextSpec(current, kind, 11 if current == "phone" else 100,
                                       11 if current == "phone" else 4,
                                       validation=text(err) if err else None)
    elif err:
        parts["error"] = ErrorInfo(text(err), text("next.fill_form"), "form")
    return parts


def _activation_writing(st: MachineState, pol: Policy) -> Parts:
    s = _s(st)
    step = str(s.data.get("progress_step", "approval"))
    fraction = float(s.data.get("progress", 0.0))
    return {"progress": Progress(text(f"progress.activation.{step}"), fraction),
            "body": (text("activation.writing_body"),)}


BUILDERS: dict[StateName, Callable[[MachineState, Policy], Parts]] = {
    S.INQUIRY: _inquiry,
    S.CERTIFICATE: _certificate,
    S.UTILITY_KIND: _utility_kind,
    S.UTILITY_ACCOUNT: _utility_account,
    S.UTILITY_BILL: _utility_bill,
    S.COURSE_LIST: _course_list,
    S.CONFIRM: _confirm,
    S.RESULT: _result,
    S.ACTIVATION_ID: _activation_id,
    S.ACTIVATION_BANK_SWAP: _activation_swap,
    S.ACTIVATION_FORM: _activation_form,
    S.ACTIVATION_WRITING: _activation_writing,
}
