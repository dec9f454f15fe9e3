"""`view_of(state, policy)`: the frozen View of the current state (what the screen shows)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from kiosk.session import activation
from kiosk.session.availability import availability
from kiosk.session.core import allowed_intents, deadline, warning_from
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
from kiosk.session.services import GROUP_ICONS, GROUPS, SERVICE_ICONS, MenuGroup, ServiceId
from kiosk.session.states import CITIZEN_FACING, StateName
from kiosk.session.view import (
    Cell,
    Chart,
    Choice,
    ErrorInfo,
    FieldView,
    PinSpec,
    Progress,
    Series,
    Step,
    Table,
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
    return {"body": (text("idle.insert_card"), text("idle.help"))}


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
    if any(r.startswith("menu.reason.device") for r in offered.values()):
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


def _pin_error(st: MachineState) -> ErrorInfo | None:
    s = _s(st)
    if st.notice == "error.pin_wrong" and s.pin_tries_left is not None:
        return ErrorInfo(text("error.pin_wrong", tries=s.pin_tries_left), text("next.pin_again"),
                         "card.pin_wrong")
    if st.notice in ("error.pin_mismatch", "error.pin_format"):
        info = error_info("pin_mismatch" if st.notice == "error.pin_mismatch"
                          else "card.pin_invalid_format")
        return info
    return None


def _pin_entry(st: MachineState, pol: Policy) -> Parts:
    parts: Parts = {"body": (text("pin.enter"),), "pin": _pin_spec(st, pol, "verify")}
    err = _pin_error(st)
    if err is not None:
        parts["error"] = err
    return parts


def _pin_change(purpose: str) -> Callable[[MachineState, Policy], Parts]:
    def build(st: MachineState, pol: Policy) -> Parts:
        parts: Parts = {"body": (text(f"pin.{purpose}"),), "pin": _pin_spec(st, pol, purpose)}
        err = _pin_error(st)
        if err is not None:
            parts["error"] = err
        return parts

    return build


def _consent(st: MachineState, pol: Policy) -> Parts:
    s = _s(st)
    needs = sorted(pol.policy.credentials_for(s.service) & {"face", "fingerprint"})
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
    fields = [
        FieldView("holder", text("field.holder"), str(doc.get("holder", ""))),
        FieldView("periods", text("field.insured_periods"), str(doc.get("periods", ""))),
        FieldView("code", text("field.verification_code"), str(cert.get("verification_code", ""))),
    ]
    printer = st.terminal.device_ok("printer")
    choice = Choice("print", text("certificate.print"), "print", printer,
                    None if printer else text("menu.reason.device.printer"))
    notices = (text("certificate.printed"),) if s.data.get("printed") else ()
    qr = str(cert.get("qr") or cert.get("verification_code") or "") or None
    return {"fields": tuple(fields), "choices": (choice,), "qr": qr,
            "body": (text("certificate.body"),), "notices": notices}


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
        tuple((str(c.get("name", "")), str(c.get("starts", "")), str(c.get("seats_left", "")))
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


_BUILDERS: dict[StateName, Callable[[MachineState, Policy], Parts]] = {
    S.IDLE: _idle,
    S.TAKE_CARD: _take_card,
    S.CARD_LEFT: _card_left,
    S.OUT_OF_SERVICE: _out_of_service,
    S.TECHNICIAN_LOGIN: _technician_login,
    S.MAINTENANCE: _maintenance,
    S.READING_CARD: _reading_card,
    S.MENU: _menu,
    S.PIN_ENTRY: _pin_entry,
    S.VERIFYING_PIN: lambda st, pol: _progress("progress.verifying_pin"),
    S.CONSENT: _consent,
    S.FACE_CHECK: _face_check,
    S.FINGER_CHECK: _finger_check,
    S.IDENTITY_RETRY: _identity_retry,
    S.OPENING_SESSION: _opening_session,
    S.WORKING: _working,
    S.INQUIRY: _inquiry,
    S.CERTIFICATE: _certificate,
    S.UTILITY_KIND: _utility_kind,
    S.UTILITY_ACCOUNT: _utility_account,
    S.UTILITY_BILL: _utility_bill,
    S.COURSE_LIST: _course_list,
    S.PIN_CHANGE_OLD: _pin_change("old"),
    S.PIN_CHANGE_NEW: _pin_change("new"),
    S.PIN_CHANGE_REPEAT: _pin_change("repeat"),
    S.CONFIRM: _confirm,
    S.RESULT: _result,
    S.ACTIVATION_ID: _activation_id,
    S.ACTIVATION_BANK_SWAP: _activation_swap,
    S.ACTIVATION_FORM: _activation_form,
    S.ACTIVATION_WRITING: _activation_writing,
}
