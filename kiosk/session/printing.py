"""Printing where a hall kiosk prints: the payment receipt (utility bill, flexible-employment
contribution), the insured certificate, and the contribution statement of the insurance and
the years the inquiry shows.

The screens that have a document (`document_for`) get a ``print`` choice while the printer is
healthy (no choice at all without one). `Choose("print")` emits `PrintDocument(template, the
session's language, data, key)` with the personal values `Masked` (they print masked); the
answer is `DocumentPrinted(key)`, or `EffectFailed("PrintDocument", code, key)` when the
printer was not ready or stopped mid-document: then the screen says so in plain words and
shows the QR code of the reference / verification code instead, and the terminal's statistics
count it (``print_failed``, ``failures.<printer code>``).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from drivers.personal import Masked, PersonalKind
from kiosk.session.effects import PrintDocument
from kiosk.session.events import DocumentPrinted, EffectFailed, Event
from kiosk.session.intents import Choose, Intent
from kiosk.session.journey import INSURANCES, money
from kiosk.session.model import MachineState, Policy, Session, Transition
from kiosk.session.results import ResultInfo
from kiosk.session.states import StateName
from kiosk.session.view import Choice, ErrorInfo, text

__all__ = ["PRINT_FAILURES", "Printable", "document_for", "on_event", "on_intent", "view_parts"]

S = StateName
Printable = tuple[str, dict[str, Any], str]
"""(template, data, the code a QR shows when the paper did not come out)."""

# Printer error code → what the citizen reads (every other code: print.failed).
PRINT_FAILURES = {
    "printer.paper_out": "print.failed.paper_out",
    "printer.cover_open": "print.failed.cover_open",
    "printer.offline": "print.failed.offline",
    "printer.fault": "print.failed",
}


def _session(st: MachineState) -> Session:
    assert st.session is not None
    return st.session


def _holder_values(s: Session, doc: dict[str, Any] | None = None) -> dict[str, Masked]:
    """The holder's name, ID and card number as `Masked` (the card's; in an e-SSC session the
    central's already-masked values, masked again: never the raw ones)."""
    h = s.holder
    doc = doc or {}
    if h is not None:
        return {"holder_name": h.name, "id_number": h.id_number, "card_number": h.card_number}
    return {
        "holder_name": Masked(str(doc.get("holder_name_masked", "")), PersonalKind.NAME),
        "id_number": Masked(str(doc.get("id_number_masked", "")), PersonalKind.ID_NUMBER),
        "card_number": Masked("", PersonalKind.CARD_NUMBER),
    }


def _insurance_name(kind: str, lang: str) -> str:
    from kiosk.session.messages import catalog

    return catalog(lang).get(f"insurance.{kind}", kind)


def _period(value: Any) -> str:
    p = str(value or "")
    return f"{p[:4]}-{p[4:6]}" if len(p) == 6 and p.isdigit() else p


def _certificate(st: MachineState) -> Printable | None:
    s = _session(st)
    cert: dict[str, Any] = dict(s.data.get("certificate", {}))
    doc: dict[str, Any] = dict(cert.get("document", cert))
    code = str(cert.get("verification_code") or doc.get("verification_code") or "")
    if not code:
        return None
    issued = doc.get("issued_at")
    periods = [
        {
            "insurance": _insurance_name(str(p.get("insurance", "")), st.language),
            "start": _period(p.get("from_period")),
            "end": _period(p.get("to_period")),
            "months": str(p.get("months", "")),
        }
        for p in doc.get("periods", ())
        if isinstance(p, dict)
    ]
    data = {
        **_holder_values(s, doc),
        "issued": time.strftime("%Y-%m-%d", time.localtime(float(issued)))
        if isinstance(issued, int | float) else "",
        "periods": periods,
        "code": code,
    }
    return "insured_certificate", data, str(cert.get("qr") or code)


def _receipt(st: MachineState) -> Printable | None:
    s = _session(st)
    receipt = s.data.get("receipt")
    info = s.data.get("result")
    if not isinstance(receipt, dict) or not isinstance(info, ResultInfo) or not info.success:
        return None
    data = {**_holder_values(s), **receipt}
    data.pop("id_number", None)
    return "payment_receipt", data, str(receipt.get("reference", ""))


def _statement(st: MachineState) -> Printable | None:
    s = _session(st)
    tab = str(s.data.get("tab", ""))
    rows = s.data.get("loaded", {}).get(tab)
    if tab not in INSURANCES or not rows:
        return None
    years = sorted({str(r.get("period", ""))[:4] for r in rows})
    records = [
        {
            "period": _period(r.get("period")),
            "base": money(int(r.get("base_cents", 0))),
            "employer": money(int(r.get("employer_cents", 0))),
            "personal": money(int(r.get("personal_cents", 0))),
        }
        for r in rows
    ]
    total = sum(int(r.get("employer_cents", 0)) + int(r.get("personal_cents", 0)) for r in rows)
    span = years[0] if len(years) == 1 else f"{years[0]}-{years[-1]}"
    data = {
        **_holder_values(s),
        "insurance": _insurance_name(tab, st.language),
        "years": span,
        "records": records,
        "total": money(total),
    }
    data.pop("card_number", None)
    # The statement has no code of its own: its QR-less fallback is the screen itself.
    return "contribution_statement", data, ""


def document_for(st: MachineState) -> Printable | None:
    """What the current screen can print, or None."""
    if st.session is None:
        return None
    if st.name is S.CERTIFICATE:
        return _certificate(st)
    if st.name is S.RESULT:
        return _receipt(st)
    if st.name is S.INQUIRY:
        return _statement(st)
    return None


def _offered(st: MachineState) -> bool:
    return (
        st.terminal.device_ok("printer")
        and document_for(st) is not None
        and _session(st).data.get("print_state") != "printing"
    )


def on_intent(st: MachineState, inp: Intent, now: float, pol: Policy) -> Transition | None:
    """`Choose("print")` on a screen with a document and a healthy printer."""
    if not (isinstance(inp, Choose) and inp.option == "print") or st.session is None:
        return None
    if not _offered(st):
        return Transition(st)  # no printer, nothing to print, or already printing: ignored
    printable = document_for(st)
    assert printable is not None
    template, data, _ = printable
    key = pol.new_key()
    s = _session(st).with_data(print_state="printing", print_key=key, print_code="")
    return Transition(replace(st, session=s), (PrintDocument(template, st.language, data, key),))


def on_event(st: MachineState, ev: Event) -> Transition | None:
    """The printer's answer to this screen's print; None for anything else."""
    s = st.session
    if s is None or not s.data.get("print_key"):
        return None
    key = s.data.get("print_key")
    if isinstance(ev, DocumentPrinted) and ev.key == key:
        stats = st.terminal.stats.bump("printed")
        st = replace(st, terminal=replace(st.terminal, stats=stats))
        return Transition(replace(st, session=s.with_data(print_state="printed", print_key="")))
    if isinstance(ev, EffectFailed) and ev.effect == "PrintDocument" and ev.key == key:
        stats = st.terminal.stats.bump("print_failed").bump(f"failures.{ev.code}")
        st = replace(st, terminal=replace(st.terminal, stats=stats))
        s = replace(s, print_failures=s.print_failures + 1).with_data(
            print_state="failed", print_key="", print_code=ev.code
        )
        return Transition(replace(st, session=s))
    return None


def view_parts(st: MachineState, parts: dict[str, Any]) -> dict[str, Any]:
    """`parts` of a screen with a document, with the print choice, the printing notices and,
    after a failed print, the failure in plain words and the QR code instead."""
    printable = document_for(st)
    if printable is None:
        return parts
    s = _session(st)
    state = str(s.data.get("print_state", ""))
    out = dict(parts)
    notices = list(out.get("notices", ()))
    if _offered(st):
        label = "print.again" if state == "printed" else f"print.{printable[0]}"
        out["choices"] = (*out.get("choices", ()), Choice("print", text(label), "print"))
    if state == "printing":
        notices.append(text("print.printing"))
    elif state == "printed":
        notices.append(text("print.done"))
    elif state == "failed":
        code = str(s.data.get("print_code", ""))
        qr = printable[2]
        out["error"] = ErrorInfo(
            text(PRINT_FAILURES.get(code, "print.failed")),
            text("print.use_qr" if qr else "print.use_screen"),
            code,
        )
        if qr:
            out["qr"] = qr
    out["notices"] = tuple(notices)
    return out
