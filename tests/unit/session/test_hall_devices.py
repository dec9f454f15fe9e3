"""The hall's other devices in the pure session: printing where a hall kiosk prints (and what
a failed print shows), the resident ID card in activation's identity step, and the e-SSC QR
login (a session without a card, minus what only the card can do)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from drivers.personal import Masked
from drivers.vocabulary import DeviceHealth, DeviceKind
from kiosk.printing import PrintFailedError
from kiosk.session import effects as fx
from kiosk.session.events import (
    CardRemoved,
    CentralSessionRefused,
    DeviceHealthChanged,
    EffectFailed,
    Event,
    IdCardRead,
    IdCardReadFailed,
    QrScanFailed,
    QrScanned,
)
from kiosk.session.intents import Back, Choose, ChooseService, Confirm, EnterText
from kiosk.session.services import CARD_ONLY, MenuGroup
from tests.unit.session.fakes import ID_NUMBER, NAME, Harness, id_card, make_policy
from tests.unit.session.test_journeys import at_menu, choose, of, pay_power_bill


def _print_failed(document: Any) -> Event:
    raise PrintFailedError("paper out after 4 lines", "printer.paper_out", partial=True)


def choice_ids(h: Harness) -> set[str]:
    return {c.id for c in h.view.choices}


# --------------------------------------------------------------------------- printing


def test_payment_receipt_prints_masked_in_the_session_language() -> None:
    h = at_menu()
    pay_power_bill(h)
    h.send(Confirm())
    assert h.state == "result" and "print" in choice_ids(h)
    h.send(Choose("print"))
    (effect,) = of(h, fx.PrintDocument)
    assert isinstance(effect, fx.PrintDocument)
    assert effect.template == "payment_receipt" and effect.lang == "zh_CN"
    data = effect.data
    assert data["reference"] == "TXN-0001" and data["amount"] == "123.45"
    assert isinstance(data["holder_name"], Masked) and isinstance(data["card_number"], Masked)
    assert data["item"] == "电费"  # the catalog's word for the utility, in the session's language
    assert h.view.notices[0].key == "print.done"
    assert h.st.terminal.stats.get("printed") == 1


def test_receipt_in_english_when_the_citizen_switched() -> None:
    from kiosk.session.intents import SetLanguage

    h = at_menu()
    h.send(SetLanguage("en"))
    pay_power_bill(h)
    h.send(Confirm())
    h.send(Choose("print"))
    (effect,) = of(h, fx.PrintDocument)
    assert isinstance(effect, fx.PrintDocument) and effect.lang == "en"
    assert effect.data["item"] == "Electricity"


def test_flexible_contribution_receipt() -> None:
    h = at_menu()
    choose(h, "payments", "flexible_contribution")
    h.enter_pin()
    h.send(Confirm())
    assert h.state == "result"
    h.send(Choose("print"))
    (effect,) = of(h, fx.PrintDocument)
    assert isinstance(effect, fx.PrintDocument) and effect.template == "payment_receipt"
    assert effect.data["account"] == "202612" and effect.data["amount"] == "980.00"


def test_printer_failing_mid_document_says_so_and_shows_the_reference_qr() -> None:
    h = at_menu()
    h.ports.overrides["print_document"] = _print_failed
    pay_power_bill(h)
    h.send(Confirm())
    h.send(Choose("print"))
    v = h.view
    assert h.state == "result" and v.error is not None
    assert v.error.message.key == "print.failed.paper_out" and v.error.code == "printer.paper_out"
    assert v.error.next_step.key == "print.use_qr" and v.qr == "TXN-0001"
    stats = h.st.terminal.stats
    assert stats.get("print_failed") == 1 and stats.get("failures.printer.paper_out") == 1
    # the journey itself is still the completed payment
    h.send(Confirm())
    outcome = next(e for e in h.effects if isinstance(e, fx.RecordOutbox)
                   and e.kind == "session_stats")
    assert outcome.payload["journeys"][0]["outcome"] == "completed"


def test_no_print_choice_without_a_healthy_printer() -> None:
    h = at_menu()
    h.send(DeviceHealthChanged(DeviceKind.PRINTER, DeviceHealth.USER_ERROR))  # paper out
    pay_power_bill(h)
    h.send(Confirm())
    assert h.state == "result" and "print" not in choice_ids(h)
    h.send(Choose("print"))
    assert not of(h, fx.PrintDocument)


def test_printing_is_not_offered_twice_at_once() -> None:
    h = at_menu()
    h.auto = True
    choose(h, "query", "certificate")
    h.enter_pin()
    h.auto = False
    h.send(Choose("print"))
    assert "print" not in choice_ids(h)  # printing: no second job
    h.send(Choose("print"))
    assert len(of(h, fx.PrintDocument)) == 1
    assert h.view.notices[0].key == "print.printing"


def test_contribution_statement_of_the_tab_and_years_shown() -> None:
    h = at_menu()
    choose(h, "query", "inquiry")
    h.enter_pin()
    assert h.state == "inquiry" and "print" in choice_ids(h)
    h.send(Choose("print"))
    (effect,) = of(h, fx.PrintDocument)
    assert isinstance(effect, fx.PrintDocument) and effect.template == "contribution_statement"
    data = effect.data
    assert data["insurance"] == "养老保险" and data["years"] == "2020-2022"
    assert len(data["records"]) == 30 and data["records"][0]["period"] == "2020-01"
    assert data["total"] == "36000.00"  # 30 months x (800 + 400)
    assert isinstance(data["id_number"], Masked) and "card_number" not in data


def test_the_real_templates_take_the_session_data() -> None:
    # What the machine emits renders with the shipped templates (personal values masked).
    from kiosk.documents import render_document

    for script in ("receipt", "statement", "certificate"):
        h = at_menu()
        if script == "receipt":
            pay_power_bill(h)
            h.send(Confirm())
        elif script == "statement":
            choose(h, "query", "inquiry")
            h.enter_pin()
        else:
            choose(h, "query", "certificate")
            h.enter_pin()
        h.send(Choose("print"))
        (effect,) = of(h, fx.PrintDocument)
        assert isinstance(effect, fx.PrintDocument)
        data = {**effect.data, "time": "2026-12-03 09:30", "terminal": "SSK-TEST-0001"}
        doc = render_document(effect.template, data, lang="zh_CN")
        printed = "\n".join(getattr(b, "text", "") for b in doc.blocks)
        assert NAME not in printed and ID_NUMBER not in printed


# --------------------------------------------------------------------------- ID card


def with_reader(policy: dict[str, Any] | None = None) -> Harness:
    h = Harness(pol=make_policy(policy))
    h.send(DeviceHealthChanged(DeviceKind.ID_CARD_READER, DeviceHealth.ONLINE))
    return at_menu(h)


def still_reading(h: Harness) -> None:
    """The ID card read stays unanswered (an answer for another key is ignored)."""
    h.ports.overrides["read_id_card"] = lambda key, t: IdCardReadFailed("another", "x")


def start_activation(h: Harness) -> None:
    choose(h, "card", "activation")
    h.enter_pin()


def test_the_holders_id_card_leads_to_the_bank_card_swap() -> None:
    h = with_reader()
    start_activation(h)
    (read,) = of(h, fx.ReadIdCard)
    assert isinstance(read, fx.ReadIdCard) and read.timeout_s == 30.0
    assert h.state == "activation_bank_swap"


def test_a_typed_id_number_is_not_asked_when_the_reader_reads() -> None:
    h = with_reader()
    still_reading(h)
    start_activation(h)
    assert h.state == "activation_id" and h.view.text_input is None
    assert h.view.progress is not None and h.view.progress.label.key == "progress.idcard"
    assert "type_id" in choice_ids(h)


@pytest.mark.parametrize(
    ("card", "code", "message"),
    [
        (id_card(id_number="110101195803140024"), "idcard.mismatch", "error.idcard_mismatch"),
        (id_card(name="欧阳丽"), "idcard.mismatch", "error.idcard_mismatch"),
        (id_card(valid_until=dt.date(2016, 1, 1)), "idcard.expired", "error.idcard_expired"),
    ],
    ids=["other_id_number", "other_name", "expired"],
)
def test_a_wrong_id_card_stops_with_a_plain_message(card: Any, code: str, message: str) -> None:
    expired = code == "idcard.expired"
    h = with_reader()
    h.ports.overrides["read_id_card"] = lambda key, t: IdCardRead(key, card, expired)
    start_activation(h)
    v = h.view
    assert h.state == "result" and v.error is not None
    assert v.error.code == code and v.error.message.key == message
    assert not of(h, fx.ReadBankCard)
    assert h.st.session is not None and h.st.session.data.get("failure") == code


@pytest.mark.parametrize("code", ["idcard.no_card", "idcard.data_invalid", "idcard.link_error"])
def test_no_card_bad_check_digit_or_reader_fault_stop(code: str) -> None:
    h = with_reader()
    h.ports.overrides["read_id_card"] = lambda key, t: IdCardReadFailed(key, code)
    start_activation(h)
    assert h.state == "result" and h.view.error is not None and h.view.error.code == code
    expected = {"idcard.no_card": "next.idcard_again", "idcard.data_invalid": "next.idcard_counter",
                "idcard.link_error": "next.counter"}
    assert h.view.error.next_step.key == expected[code]


def test_the_citizen_may_type_instead_where_policy_allows() -> None:
    h = with_reader()
    still_reading(h)
    start_activation(h)
    (read,) = of(h, fx.ReadIdCard)
    assert isinstance(read, fx.ReadIdCard)
    h.send(Choose("type_id"))
    assert h.view.text_input is not None and h.view.text_input.field == "id_number"
    h.send(IdCardRead(read.key, id_card(id_number="110101195803140024")))  # late: ignored
    assert h.state == "activation_id"
    h.send(EnterText("id_number", "110105194912310021"))  # GB 11643 check digit wrong
    assert h.view.text_input is not None and h.view.text_input.validation is not None
    h.send(EnterText("id_number", ID_NUMBER))
    assert h.state == "activation_bank_swap"


def test_policy_id_card_refuses_typing_and_hides_activation_without_a_reader() -> None:
    h = with_reader({"id_card_check": "id_card"})
    still_reading(h)
    start_activation(h)
    assert "type_id" not in choice_ids(h)
    h.send(Choose("type_id"))
    assert h.view.text_input is None
    h.send(Back())
    h.send(DeviceHealthChanged(DeviceKind.ID_CARD_READER, DeviceHealth.NO_DEVICE))
    h.send(Choose(MenuGroup.CARD.value))
    assert "activation" not in choice_ids(h)
    assert any(n.key == "notice.degraded" for n in h.view.notices)


def test_reader_down_means_typed_when_policy_allows() -> None:
    h = at_menu()  # the reader never reported: this terminal has none
    start_activation(h)
    assert h.state == "activation_id" and h.view.text_input is not None
    assert not of(h, fx.ReadIdCard)


def test_back_from_the_swap_reads_the_id_card_again() -> None:
    h = with_reader()
    start_activation(h)
    assert h.state == "activation_bank_swap"
    h.send(Back())
    assert len(of(h, fx.ReadIdCard)) == 2 and h.state == "activation_bank_swap"


# --------------------------------------------------------------------------- e-SSC


def essc_at_menu() -> Harness:
    h = Harness(pol=make_policy(essc=True))
    assert "essc" in choice_ids(h)
    h.send(Choose("essc"))
    assert h.state == "menu", h.state
    return h


def test_essc_login_offers_the_menu_minus_the_card_only_services() -> None:
    h = essc_at_menu()
    (scan,) = of(h, fx.ScanQr)
    assert isinstance(scan, fx.ScanQr) and scan.timeout_s == 45.0
    (redeem,) = of(h, fx.RedeemEssc)
    assert isinstance(redeem, fx.RedeemEssc) and "ESSC1" not in repr(redeem)
    assert not of(h, fx.OpenCentralSession) and not of(h, fx.ReadCard)
    offered: set[str] = set()
    for group in MenuGroup:
        h.send(Choose(group.value))
        offered |= choice_ids(h)
        h.send(Back())
    assert offered and not offered & set(CARD_ONLY)
    assert {"inquiry", "certificate", "utility_payment", "loss_report"} <= offered


def test_essc_session_runs_a_query_and_ends_without_take_card() -> None:
    h = essc_at_menu()
    h.send(Choose("query"))
    h.send(ChooseService("inquiry"))
    assert h.state == "inquiry" and not of(h, fx.VerifyPin)
    h.send(CardRemoved())  # no card of this session: nothing happens
    assert h.state == "inquiry"
    h.send(Back())
    h.send(Choose("menu"))
    from kiosk.session.intents import Cancel

    h.send(Cancel())
    assert h.state == "idle" and h.st.session is None
    assert h.st.terminal.stats.get("essc_logins.opened") == 1


def test_the_qr_scan_state_shows_the_camera_and_a_prompt() -> None:
    h = Harness(pol=make_policy(essc=True), auto=False)
    h.send(Choose("essc"))
    v = h.view
    assert v.state == "qr_scan" and v.preview == "camera"
    assert v.body[0].key == "qr.hold" and dict(v.body[0].params)["seconds"] == 45
    assert "Cancel" in v.intents


@pytest.mark.parametrize(
    ("reason", "message", "next_step"),
    [
        ("forbidden", "error.essc_refused", "next.essc_refresh"),
        ("card_lost", "error.essc_card_lost", "next.counter_lost_card"),
    ],
)
def test_essc_refusals_end_with_a_plain_message(reason: str, message: str,
                                                next_step: str) -> None:
    h = Harness(pol=make_policy(essc=True))
    h.ports.overrides["redeem_essc"] = lambda code: CentralSessionRefused(reason)
    h.send(Choose("essc"))
    v = h.view
    assert h.state == "result" and v.error is not None
    assert v.error.message.key == message and v.error.next_step.key == next_step
    assert "Choose" not in v.intents  # nothing else to offer without an identity
    h.send(Confirm())
    assert h.state == "idle"


def test_no_code_in_time() -> None:
    h = Harness(pol=make_policy(essc=True))
    h.ports.overrides["scan_qr"] = lambda key, t: QrScanFailed(key, "qr.timeout")
    h.send(Choose("essc"))
    assert h.view.error is not None and h.view.error.message.key == "error.qr_timeout"
    assert not of(h, fx.RedeemEssc)


@pytest.mark.parametrize("scanned", [False, True])
def test_essc_no_answer_in_time_refuses_without_a_menu(scanned: bool) -> None:
    """The camera or the central silent past the busy guard: refused, and no way into a
    menu without an identity (it once offered the menu to a session with no token)."""
    h = Harness(pol=make_policy(essc=True), auto=False)
    (scan,) = h.send(Choose("essc"))
    assert isinstance(scan, fx.ScanQr)
    if scanned:
        (redeem,) = h.send(QrScanned(scan.key, "ESSC1.token"))
        assert isinstance(redeem, fx.RedeemEssc) and h.state == "opening_session"
    h.wait(max(h.pol.session.busy_timeout_s, h.pol.policy.qr_timeout_s) + 1)
    v = h.view
    assert h.state == "result" and v.error is not None
    assert v.error.message.key == "error.no_answer"
    assert "Choose" not in v.intents
    h.send(Confirm())
    assert h.state == "idle" and h.st.session is None


def test_essc_not_offered_without_camera_central_or_policy() -> None:
    from kiosk.session.events import CentralReachability

    assert "essc" not in choice_ids(Harness())  # policy off
    h = Harness(pol=make_policy(essc=True))
    h.send(DeviceHealthChanged(DeviceKind.CAMERA, DeviceHealth.OFFLINE))
    assert "essc" not in choice_ids(h)
    h.send(Choose("essc"))
    assert h.state == "idle"
    h = Harness(pol=make_policy(essc=True))
    h.send(CentralReachability(False))
    assert "essc" not in choice_ids(h)


def test_a_failed_scan_effect_is_answered() -> None:
    h = Harness(pol=make_policy(essc=True), auto=False)
    (scan,) = h.send(Choose("essc"))
    assert isinstance(scan, fx.ScanQr)
    h.send(EffectFailed("ScanQr", "camera.unavailable", scan.key))
    assert h.state == "result" and h.view.error is not None
    assert h.view.error.message.key == "error.camera"
