"""One focused test per journey (and its failures) on the pure machine with fake ports."""

from __future__ import annotations

from typing import Any

import pytest

from drivers.personal import Masked
from drivers.vocabulary import DeviceHealth, DeviceKind
from kiosk.session import effects as fx
from kiosk.session.events import (
    CardInserted,
    CardRead,
    CardRemoved,
    CentralReachability,
    CentralSessionRefused,
    DeviceHealthChanged,
    EnrolmentRefused,
    FaceFailed,
    PaymentDeclined,
    PaymentUnknown,
    PinBlocked,
    PinChangeFailed,
    PinRejected,
    PinVerified,
    QueryAnswered,
    QueryFailed,
)
from kiosk.session.intents import (
    Back,
    Cancel,
    Choose,
    ChooseService,
    Confirm,
    ConsentGiven,
    ConsentRefused,
    EnterText,
    NextPage,
    PrevPage,
    Reveal,
)
from kiosk.session.messages import render
from kiosk.session.view import text
from tests.unit.session.fakes import (
    ADDRESS,
    CARD_NUMBER,
    ID_NUMBER,
    NAME,
    PHONE,
    FakePorts,
    Harness,
    holder,
)


def at_menu(h: Harness | None = None) -> Harness:
    h = h or Harness()
    h.insert_card()
    assert h.state == "menu"
    return h


def choose(h: Harness, group: str, service: str) -> None:
    h.send(Choose(group))
    h.send(ChooseService(service))


def of(h: Harness, kind: type) -> list[fx.Effect]:
    return [e for e in h.effects if isinstance(e, kind)]


# --------------------------------------------------------------------------- login and menu


def test_card_read_shows_masked_holder_and_reveal_is_for_that_view_only() -> None:
    h = at_menu()
    name = next(f for f in h.view.fields if f.id == "name")
    assert isinstance(name.value, Masked) and name.display() == "欧***"
    h.send(Reveal("name"))
    name = next(f for f in h.view.fields if f.id == "name")
    assert name.revealed and name.display() == NAME
    h.send(Choose("query"))  # same state, new screen content: reveals stay for the state
    h.send(ChooseService("inquiry"))
    h.send(Back())  # back to the menu: a new view, masked again
    assert all(not f.revealed for f in h.view.fields)


def test_expired_card_ends_at_once_with_the_reason() -> None:
    h = Harness(ports=FakePorts(overrides={"read_card": lambda: CardRead(holder(), True)}))
    h.insert_card()
    assert h.state == "take_card"
    assert h.view.notices[0].key == "error.card_expired"
    assert of(h, fx.WipePersonalData)


def test_wrong_pin_shows_tries_left_then_blocked() -> None:
    tries = iter([PinRejected(2), PinBlocked()])
    h = at_menu(Harness(ports=FakePorts(overrides={"verify_pin": lambda p: next(tries)})))
    choose(h, "query", "inquiry")
    h.enter_pin(b"000000")
    assert h.state == "pin_entry"
    assert h.view.error is not None and h.view.error.message.params_dict() == {"tries": 2}
    assert h.view.pin is not None and h.view.pin.tries_left == 2
    h.enter_pin(b"111111")
    assert h.state == "result"
    assert h.view.error is not None and h.view.error.code == "card.pin_blocked"
    assert h.view.error.next_step.key == "next.counter_unblock"


def test_pin_buffers_are_wiped_after_verification() -> None:
    h = at_menu()
    choose(h, "query", "inquiry")
    h.enter_pin()
    verify = of(h, fx.VerifyPin)[0]
    assert isinstance(verify, fx.VerifyPin) and len(verify.pin) == 0


# --------------------------------------------------------------------------- inquiry


def test_inquiry_tabs_paging_and_chart() -> None:
    h = at_menu()
    choose(h, "query", "inquiry")
    h.enter_pin()
    v = h.view
    assert h.state == "inquiry" and v.table is not None
    assert (v.table.page, v.table.pages) == (1, 6)  # 30 months, 5 rows a page
    assert v.table.rows[0][:2] == ("202001", "5000.00")
    h.send(PrevPage())  # already on the first page: ignored
    assert h.view.table is not None and h.view.table.page == 1
    h.send(NextPage())
    assert h.view.table is not None and h.view.table.page == 2
    h.send(Choose("accounts"))
    assert h.view.table is not None and h.view.table.rows[0][1] == "12345.67"
    h.send(Choose("chart"))
    chart = h.view.chart
    assert chart is not None and chart.series[0].points == (
        ("2020", 14400.0), ("2021", 14400.0), ("2022", 7200.0))
    services = [e for e in h.effects if isinstance(e, fx.CallService)]
    assert [(e.service, e.action) for e in services] == [
        ("inquiry", "contributions"), ("inquiry", "accounts")]
    assert next(e for e in h.effects if isinstance(e, fx.OpenCentralSession)).credentials == {
        "card", "pin"}


def test_elderly_mode_pages_shorter_and_doubles_time() -> None:
    h = at_menu()
    from kiosk.session.intents import SetElderly

    h.send(SetElderly(True))
    assert h.view.timeout is not None and h.view.timeout.total_s == 120
    choose(h, "query", "inquiry")
    h.enter_pin()
    assert h.view.table is not None and h.view.table.pages == 10  # 3 rows a page


# --------------------------------------------------------------------------- payments


def pay_power_bill(h: Harness) -> None:
    choose(h, "payments", "utility_payment")
    h.enter_pin()
    assert h.state == "utility_kind" and h.view.step is not None and h.view.step.n == 1
    h.send(Choose("power"))
    h.send(EnterText("account_number", "12ab"))
    assert h.view.text_input is not None
    assert h.view.text_input.validation is not None
    assert h.view.text_input.validation.key == "validation.account_number"
    h.send(EnterText("account_number", "12345678"))
    assert h.state == "utility_bill"
    assert h.view.table is not None and h.view.table.row_ids == ("B-1",)  # the paid one hidden
    h.send(Choose("B-1"))
    assert h.state == "confirm"


def test_utility_payment_charges_once_after_confirm_with_receipt() -> None:
    h = at_menu()
    pay_power_bill(h)
    assert not of(h, fx.SubmitPayment)
    assert {f.id: f.display() for f in h.view.fields}["amount"] == "123.45"
    h.send(Confirm())
    payments = of(h, fx.SubmitPayment)
    assert len(payments) == 1
    p = payments[0]
    assert isinstance(p, fx.SubmitPayment)
    assert (p.purpose, p.reference, p.amount_cents) == ("utility_bill", "B-1", 12345)
    assert h.state == "result"
    receipt = {f.id: f.display() for f in h.view.fields}
    assert receipt["reference"] == "TXN-0001" and receipt["amount"] == "123.45"
    h.send(Confirm())  # finish
    assert h.state == "take_card" and len(of(h, fx.SubmitPayment)) == 1
    h.send(CardRemoved())
    assert h.state == "idle"
    assert h.st.terminal.stats.get("journeys.utility_payment.completed") == 1


def test_insufficient_balance_says_what_to_do() -> None:
    ports = FakePorts(overrides={"pay": lambda *a: PaymentDeclined(a[3], "insufficient_balance")})
    h = at_menu(Harness(ports=ports))
    pay_power_bill(h)
    h.send(Confirm())
    assert h.view.error is not None and h.view.error.next_step.key == "next.top_up"
    assert h.st.session is not None and h.st.session.data["failure"] == "insufficient_balance"


def test_unknown_payment_is_not_retried_and_offers_staff() -> None:
    h = at_menu(Harness(ports=FakePorts(overrides={"pay": lambda *a: PaymentUnknown(a[3])})))
    pay_power_bill(h)
    h.send(Confirm())
    assert h.view.error is not None and h.view.error.code == "payment.unknown"
    assert [c.id for c in h.view.choices] == ["menu", "staff"]
    assert len(of(h, fx.SubmitPayment)) == 1


def test_payment_without_answer_becomes_unknown_not_a_second_charge() -> None:
    h = at_menu(Harness(auto=True))
    pay_power_bill(h)
    h.auto = False
    h.send(Confirm())
    assert h.state == "working"
    h.wait(h.pol.session.busy_timeout_s + 1)
    assert h.view.error is not None and h.view.error.code == "payment.unknown"
    assert len(of(h, fx.SubmitPayment)) == 1


def test_payments_are_offline_only_disabled_with_reason() -> None:
    h = at_menu()
    h.send(CentralReachability(False))
    h.send(Choose("payments"))
    reasons = {c.id: c.reason.key for c in h.view.choices if c.reason}
    assert reasons == {"utility_payment": "menu.reason.offline",
                       "flexible_contribution": "menu.reason.offline"}
    h.send(ChooseService("utility_payment"))
    assert h.state == "menu"  # a disabled tile does nothing
    assert any(n.key == "notice.offline" for n in h.view.notices)


def test_flexible_contribution_quote_confirm_pay() -> None:
    h = at_menu()
    choose(h, "payments", "flexible_contribution")
    h.enter_pin()
    assert h.state == "confirm"
    assert h.view.body[1].params_dict() == {"amount": "980.00"}
    h.send(Confirm())
    p = of(h, fx.SubmitPayment)[0]
    assert isinstance(p, fx.SubmitPayment) and (p.purpose, p.reference) == ("contribution",
                                                                           "202612")
    assert h.view.title.key == "result.paid"


def _quote_says(code: str) -> Any:
    def call(service: str, action: str, params: Any, key: str) -> Any:
        if (service, action) == ("contribution", "quote"):
            return QueryFailed(key, code)
        return QueryAnswered(key, {})

    return call


def test_a_month_already_paid_is_not_offered_for_payment() -> None:
    """The central's quote refuses a paid month (``already_paid``): the citizen is told so in
    plain words and is never shown the confirm step, so no charge can even be asked for."""
    h = at_menu(Harness(ports=FakePorts(overrides={"call": _quote_says("already_paid")})))
    choose(h, "payments", "flexible_contribution")
    h.enter_pin()
    assert h.state == "result" and not of(h, fx.SubmitPayment)
    assert h.st.session is not None and "confirm" not in h.st.session.data
    error = h.view.error
    assert error is not None and error.code == "already_paid"
    assert error.next_step.key == "next.menu"
    assert render(error.message, "en") == (
        "The contribution for this month has already been paid. Nothing was charged."
    )
    assert render(error.message, "zh_CN") == "这个月份的缴费已经缴过，本次没有扣款。"
    assert h.st.session is not None and h.st.session.data["failure"] == "already_paid"


def test_no_flexible_contribution_registered_says_so_in_plain_words() -> None:
    """The central has no contribution base for the holder (``no_contribution_base``): its own
    words and the counter, not the generic fault."""
    h = at_menu(Harness(ports=FakePorts(overrides={"call": _quote_says("no_contribution_base")})))
    choose(h, "payments", "flexible_contribution")
    h.enter_pin()
    assert h.state == "result" and not of(h, fx.SubmitPayment)
    error = h.view.error
    assert error is not None and error.code == "no_contribution_base"
    assert error.message.key == "error.no_contribution_base"
    assert error.next_step.key == "next.counter"
    assert "Nothing was charged" in render(error.message, "en")
    assert "没有扣款" in render(error.message, "zh_CN")


def test_a_month_paid_meanwhile_is_declined_already_paid_in_plain_words() -> None:
    """Quoted unpaid, paid at another kiosk before this Confirm: the ledger declines the second
    key ``already_paid`` and the screen says so (not the generic refusal)."""
    ports = FakePorts(overrides={"pay": lambda *a: PaymentDeclined(a[3], "already_paid")})
    h = at_menu(Harness(ports=ports))
    choose(h, "payments", "flexible_contribution")
    h.enter_pin()
    h.send(Confirm())
    assert len(of(h, fx.SubmitPayment)) == 1
    assert h.view.error is not None and h.view.error.code == "already_paid"
    assert h.view.error.message.key == "error.already_paid"


def test_back_from_confirm_then_confirm_again_uses_a_new_screen_key_once() -> None:
    h = at_menu()
    pay_power_bill(h)
    h.send(Back())
    assert h.state == "utility_bill"
    h.send(Choose("B-1"))
    h.send(Confirm())
    assert len(of(h, fx.SubmitPayment)) == 1


# --------------------------------------------------------------------------- certificate


def test_certificate_qr_and_print_only_with_a_printer() -> None:
    h = at_menu()
    choose(h, "query", "certificate")
    h.enter_pin()
    assert h.state == "certificate" and h.view.qr == "ssk:verify:VC-7F3K"
    assert {f.id: f.display() for f in h.view.fields}["code"] == "VC-7F3K-99QX"
    h.send(Choose("print"))
    assert of(h, fx.PrintDocument) and h.view.notices[0].key == "print.done"
    h.send(DeviceHealthChanged(DeviceKind.PRINTER, DeviceHealth.OFFLINE))
    assert "print" not in {c.id for c in h.view.choices}  # no healthy printer: not offered
    h.send(Choose("print"))
    assert len(of(h, fx.PrintDocument)) == 1


# --------------------------------------------------------------------------- activation


def activation_to_form(h: Harness) -> None:
    choose(h, "card", "activation")
    h.enter_pin()
    assert h.state == "activation_id" and h.view.step is not None and h.view.step.n == 1
    h.send(EnterText("id_number", "110105194912310021"))
    assert h.view.text_input is not None and h.view.text_input.validation is not None
    assert h.view.text_input.validation.key == "validation.id_number"
    h.send(EnterText("id_number", "11010519491231003X".replace("3X", "14")))
    h.send(EnterText("id_number", ID_NUMBER.lower()))
    assert h.state == "activation_bank_swap"
    h.send(CardRemoved())  # the SSC comes out: the session goes on
    assert h.state == "activation_bank_swap" and h.st.session is not None
    h.send(CardInserted())  # bank card → read
    assert h.st.session is not None and h.st.session.data["swap"] == "remove_bank"
    h.send(CardRemoved())
    h.send(CardInserted())  # SSC again → read and re-checked
    assert h.state == "activation_form"


def test_activation_wizard_end_to_end() -> None:
    h = at_menu()
    activation_to_form(h)
    h.send(EnterText("phone", "2391234567"))
    assert h.view.text_input is not None and h.view.text_input.validation is not None
    assert h.view.text_input.validation.key == "validation.phone"
    h.send(Confirm())  # incomplete: says so
    assert h.state == "activation_form"
    h.send(EnterText("phone", PHONE))
    h.send(EnterText("address", ADDRESS))
    shown = {f.id: f for f in h.view.fields}
    assert shown["bank_number"].display() == "622202*********0123"
    assert shown["phone"].display() == "139****5678"
    h.send(Confirm())
    assert h.state == "pin_entry"  # the card was reset by the swap: its PIN state is gone
    h.enter_pin()
    assert h.state == "consent"
    assert not of(h, fx.CaptureFace)  # nothing biometric before consent
    h.send(ConsentGiven())
    assert h.state == "confirm" and h.view.step is not None and h.view.step.n == 7
    assert [type(e).__name__ for e in h.effects if isinstance(
        e, fx.CaptureFace | fx.EnrollFinger | fx.VerifyFinger)] == ["CaptureFace",
                                                                    "EnrollFinger"]
    opens = [e.credentials for e in h.effects if isinstance(e, fx.OpenCentralSession)]
    assert opens[-1] == {"card", "pin", "face", "fingerprint"}
    assert h.ports.held_enrolment and not of(h, fx.SubmitEnrolment)  # held until Confirm
    h.send(Confirm())
    run = of(h, fx.RunActivation)[0]
    assert isinstance(run, fx.RunActivation) and run.fingerprint_ref == "fp-ref-1"
    phone = run.form["phone"]
    assert isinstance(phone, Masked) and phone.reveal() == PHONE
    assert h.view.title.key == "result.activated"
    consent = [e for e in of(h, fx.RecordOutbox) if isinstance(e, fx.RecordOutbox)
               and e.kind == "consent"]
    assert len(consent) == 1 and consent[0].payload["decision"] == "given"
    assert set(consent[0].payload) <= {"decision", "service", "biometrics", "purpose",
                                       "terminal_id", "session_key", "at", "id_number"}


def activation_to_confirm(h: Harness) -> None:
    activation_to_form(h)
    h.send(EnterText("phone", PHONE))
    h.send(EnterText("address", ADDRESS))
    h.send(Confirm())
    h.enter_pin()
    h.send(ConsentGiven())
    assert h.state == "confirm" and h.ports.held_enrolment  # enrolled at the identity step


def test_the_enrolled_fingerprint_goes_to_the_central_only_after_confirm() -> None:
    """The template replaces the holder's reference, so it is the citizen's Confirm that sends
    it, before the saga starts (approval, card write): its reference goes with the saga."""
    h = at_menu()
    activation_to_confirm(h)
    assert h.ports.submitted_enrolments == []
    h.send(Back())  # back to the form and forward again: still held, still unsent
    assert h.state == "activation_form"
    h.send(Confirm())
    assert h.state == "confirm" and h.ports.submitted_enrolments == []
    h.send(Confirm())
    kinds = [type(e).__name__ for e in h.effects
             if isinstance(e, fx.SubmitEnrolment | fx.RunActivation)]
    assert kinds == ["SubmitEnrolment", "RunActivation"]
    submit = of(h, fx.SubmitEnrolment)[0]
    run = of(h, fx.RunActivation)[0]
    assert isinstance(submit, fx.SubmitEnrolment) and isinstance(run, fx.RunActivation)
    assert h.ports.submitted_enrolments == [submit.key] and run.key == submit.key
    assert run.fingerprint_ref == "fp-ref-1" and not h.ports.held_enrolment
    assert h.view.title.key == "result.activated"


def _cancel(h: Harness) -> None:
    h.send(Cancel())


def _time_out(h: Harness) -> None:
    h.wait(h.pol.session.answer_s + 0.1)


def _pull_card(h: Harness) -> None:
    h.send(CardRemoved())


@pytest.mark.parametrize("end", [_cancel, _time_out, _pull_card], ids=lambda f: f.__name__)
def test_no_confirm_leaves_the_reference_alone_and_no_template_here(end: Any) -> None:
    """Cancel, timeout or the card pulled at the confirm step: nothing is sent to the central
    (its reference stays as it was) and the session's end wipes the held template."""
    h = at_menu()
    activation_to_confirm(h)
    end(h)
    assert h.st.session is None and h.state in ("take_card", "idle")
    assert not of(h, fx.SubmitEnrolment) and not of(h, fx.RunActivation)
    assert of(h, fx.WipePersonalData) and not h.ports.held_enrolment
    assert h.ports.submitted_enrolments == []
    assert "submit_enrolment" not in [name for name, _ in h.ports.calls]


def test_a_refused_enrolment_starts_no_activation_and_says_so() -> None:
    ports = FakePorts(overrides={"submit_enrolment": lambda key: EnrolmentRefused(key,
                                                                                "forbidden")})
    h = at_menu(Harness(ports=ports))
    activation_to_confirm(h)
    h.send(Confirm())
    assert not of(h, fx.RunActivation)  # nothing approved, nothing written to the card
    assert h.view.error is not None and h.view.error.code == "forbidden"
    unknown = FakePorts(overrides={"submit_enrolment": lambda key: EnrolmentRefused(key, "x.y")})
    h = at_menu(Harness(ports=unknown))
    activation_to_confirm(h)
    h.send(Confirm())
    assert h.view.error is not None and h.view.error.code == "fingerprint_not_recorded"
    assert render(h.view.error.message, "en").startswith("Your new fingerprint could not")


def test_activation_swap_with_another_card_ends_the_session() -> None:
    other = iter([CardRead(holder(card_number="B11111111"))])
    h = at_menu()
    choose(h, "card", "activation")
    h.enter_pin()
    h.send(EnterText("id_number", ID_NUMBER))
    h.send(CardRemoved())
    h.send(CardInserted())
    h.send(CardRemoved())
    h.ports.overrides["read_card"] = lambda: next(other)
    h.send(CardInserted())
    assert h.state == "take_card" and h.st.session is None
    assert h.view.notices[0].key == "error.card_other"


def test_card_removed_outside_the_swap_ends_the_session() -> None:
    h = at_menu()
    choose(h, "card", "activation")
    h.enter_pin()
    h.send(CardRemoved())
    assert h.state == "idle" and h.st.session is None


def test_consent_refused_routes_to_staff_and_records_only_the_decision() -> None:
    h = at_menu()
    choose(h, "affairs", "pension_qualification")
    assert h.state == "consent"  # card + face: no PIN asked
    h.send(ConsentRefused())
    assert h.state == "result" and h.view.error is not None
    assert h.view.error.next_step.key == "next.counter_alternative"
    assert "staff" in [c.id for c in h.view.choices]
    assert not of(h, fx.CaptureFace)
    (record,) = [e for e in of(h, fx.RecordOutbox) if isinstance(e, fx.RecordOutbox)]
    assert record.kind == "consent" and record.payload["decision"] == "refused"
    h.send(Choose("staff"))
    assert of(h, fx.RaiseStaffAlert) and h.view.staff_called


def test_pension_qualification_card_and_face() -> None:
    h = at_menu()
    choose(h, "affairs", "pension_qualification")
    h.send(ConsentGiven())
    assert h.view.title.key == "result.pension_qualified"
    assert not of(h, fx.VerifyPin)
    opened = [e for e in h.effects if isinstance(e, fx.OpenCentralSession)]
    assert opened[-1].credentials == {"card", "face"}


def test_face_attempts_are_limited_then_staff_alerted() -> None:
    ports = FakePorts(overrides={"capture_face": lambda a, c: FaceFailed("face.mismatch")})
    h = at_menu(Harness(ports=ports))
    choose(h, "affairs", "pension_qualification")
    h.send(ConsentGiven())
    for _ in range(h.pol.policy.face_attempts - 1):
        assert h.state == "identity_retry"
        assert h.view.error is not None and h.view.error.code == "face.mismatch"
        h.send(Choose("retry"))
    assert h.state == "result" and h.view.error is not None
    assert h.view.error.code == "face.too_many"
    assert len(of(h, fx.CaptureFace)) == h.pol.policy.face_attempts
    alerts = [e for e in h.effects if isinstance(e, fx.RaiseStaffAlert)]
    assert [a.reason for a in alerts] == ["repeated_failure"]


# --------------------------------------------------------------------------- affairs


def test_employment_certificate_offline_is_queued_and_says_so() -> None:
    h = at_menu()
    h.send(CentralReachability(False))
    choose(h, "affairs", "employment_certificate")
    h.enter_pin()
    assert h.state == "confirm"
    assert any(b.key == "confirm.will_queue" for b in h.view.body)
    h.send(Confirm())
    (record,) = [e for e in of(h, fx.RecordOutbox) if isinstance(e, fx.RecordOutbox)]
    assert record.kind == "application" and record.payload["type"] == "employment_certificate"
    assert record.payload["id_number"] == Masked(ID_NUMBER, record.payload["id_number"].kind)
    assert next(b.key for b in h.view.body) == "result.queued"
    assert not of(h, fx.OpenCentralSession)


def test_unemployment_registration_online() -> None:
    h = at_menu()
    choose(h, "affairs", "unemployment_registration")
    h.enter_pin()
    h.send(Confirm())
    (record,) = [e for e in of(h, fx.RecordOutbox) if isinstance(e, fx.RecordOutbox)]
    assert record.kind == "registration"
    assert h.view.body[0].key == "result.sent"


def test_training_sign_up_from_the_catalogue() -> None:
    h = at_menu()
    choose(h, "affairs", "training")
    h.enter_pin()
    assert h.state == "course_list" and h.view.table is not None
    assert h.view.table.row_ids == ("C-1", "C-2")
    h.send(Choose("C-2"))  # no seats left: nothing happens
    assert h.state == "course_list"
    h.send(Choose("C-1"))
    h.send(Confirm())
    (record,) = [e for e in of(h, fx.RecordOutbox) if isinstance(e, fx.RecordOutbox)]
    assert record.payload["course_id"] == "C-1"


def test_pin_change_mismatch_then_success() -> None:
    results = iter([PinChangeFailed("mismatch")])
    h = at_menu()
    choose(h, "card", "pin_change")
    h.enter_pin()
    h.ports.overrides["change_pin"] = lambda old, new: next(results)
    assert h.state == "pin_change_old"
    h.enter_pin(b"123456")
    h.enter_pin(b"654321")
    h.enter_pin(b"654322")
    assert h.state == "pin_change_old" and h.view.error is not None
    assert h.view.error.code == "pin_mismatch"
    h.ports.overrides.pop("change_pin")
    h.enter_pin(b"123456")
    h.enter_pin(b"654321")
    h.enter_pin(b"654321")
    assert h.view.title.key == "result.pin_changed"


def test_back_from_pin_change_wipes_held_pins() -> None:
    h = at_menu()
    choose(h, "card", "pin_change")
    h.enter_pin()
    h.enter_pin(b"123456")
    assert h.st.session is not None
    held = h.st.session.data["pin_old"]
    h.send(Back())
    assert len(held) == 0 and h.state == "menu"


def test_loss_report_then_the_card_is_refused_except_for_cancellation() -> None:
    h = at_menu()
    choose(h, "card", "loss_report")
    h.enter_pin()
    assert any(b.key == "confirm.report_loss.warning" for b in h.view.body)
    h.send(Confirm())
    assert h.view.title.key == "result.report_loss"
    assert "menu" not in [c.id for c in h.view.choices]  # the card is blocked now
    h.send(Confirm())
    h.send(CardRemoved())
    # next visit: the central refuses the card; only the cancellation remains
    h.ports.overrides["open_session"] = lambda creds: CentralSessionRefused("card_lost")
    at_menu(h)
    choose(h, "query", "inquiry")
    h.enter_pin()
    assert h.view.error is not None and h.view.error.code == "card_lost"
    h.send(Choose("menu"))
    h.send(Choose("card"))
    enabled = [c.id for c in h.view.choices if c.enabled]
    assert enabled == ["loss_cancel"]
    h.send(ChooseService("loss_cancel"))
    h.send(Confirm())
    assert h.view.title.key == "result.cancel_loss"


# --------------------------------------------------------------------------- degraded


def test_camera_down_hides_face_services_and_says_where_to_go() -> None:
    h = Harness()
    h.send(DeviceHealthChanged(DeviceKind.CAMERA, DeviceHealth.HARDWARE_ERROR))
    at_menu(h)
    notice = next(n for n in h.view.notices if n.key == "notice.degraded")
    assert notice.params_dict()["desk"] == text("desk.counter")
    h.send(Choose("affairs"))
    assert [c.id for c in h.view.choices] == [
        "employment_certificate", "unemployment_registration", "training"]
    h.send(ChooseService("pension_qualification"))  # hidden: nothing happens
    assert h.state == "menu"
    h.send(Back())
    h.send(Choose("card"))
    assert "activation" not in [c.id for c in h.view.choices]


def test_show_unavailable_lists_them_disabled_with_the_device() -> None:
    from dataclasses import replace

    h = Harness()
    h.pol = replace(h.pol, policy=h.pol.policy.model_copy(update={"show_unavailable": True}))
    h.send(DeviceHealthChanged(DeviceKind.CAMERA, DeviceHealth.HARDWARE_ERROR))
    at_menu(h)
    h.send(Choose("affairs"))
    reasons = {c.id: c.reason.key for c in h.view.choices if c.reason}
    assert reasons == {"pension_qualification": "menu.reason.device.camera"}


def test_no_card_reader_is_out_of_service_and_back() -> None:
    h = at_menu()
    h.send(DeviceHealthChanged(DeviceKind.CARD_READER, DeviceHealth.NO_DEVICE))
    assert h.state == "out_of_service" and h.st.session is None
    assert of(h, fx.WipePersonalData)
    h.send(CardInserted())
    assert h.state == "out_of_service"
    h.send(DeviceHealthChanged(DeviceKind.CARD_READER, DeviceHealth.ONLINE))
    assert h.state == "idle"


def test_cancel_ends_with_wipe_and_stats() -> None:
    h = at_menu()
    choose(h, "query", "inquiry")
    h.send(Cancel())
    assert h.state == "take_card"
    assert h.st.terminal.stats.get("journeys.inquiry.abandoned") == 1
    (stats,) = [e for e in of(h, fx.RecordOutbox) if isinstance(e, fx.RecordOutbox)
                and e.kind == "session_stats"]
    assert stats.payload["reason"] == "cancelled"
    assert stats.payload["journeys"][0]["service"] == "inquiry"
    text = repr(stats.payload)
    assert NAME not in text and ID_NUMBER not in text and CARD_NUMBER not in text


def test_an_application_is_received_only_once_the_journal_holds_it() -> None:
    h = at_menu()
    choose(h, "affairs", "employment_certificate")
    h.enter_pin()
    h.auto = False
    h.send(Confirm())
    assert h.state == "working"  # not "received" before the journal answered
    from kiosk.session.events import EffectFailed

    assert h.st.session is not None
    h.send(EffectFailed("RecordOutbox", "internal", h.st.session.pending))
    assert h.state == "result" and h.view.error is not None


def test_print_failure_says_so_and_keeps_the_qr() -> None:
    from kiosk.session.events import EffectFailed

    h = at_menu()
    choose(h, "query", "certificate")
    h.enter_pin()
    h.auto = False
    (effect,) = h.send(Choose("print"))
    assert isinstance(effect, fx.PrintDocument)
    h.send(EffectFailed("PrintDocument", "internal", effect.key))
    assert h.state == "certificate" and h.view.qr
    assert h.view.error is not None and h.view.error.message.key == "print.failed"


def test_the_machine_refuses_a_charge_without_confirm(monkeypatch: pytest.MonkeyPatch) -> None:
    # A bug that would charge on Back must be stopped by the machine itself, not reach a port.
    from kiosk.session import flows, machine

    original = flows._on_confirm

    def charge_on_back(st: Any, inp: Any, now: float, pol: Any) -> Any:
        t = original(st, inp, now, pol)
        spec = st.session.data.get("confirm") if st.session else None
        if isinstance(inp, Back) and spec is not None and spec.kind == "payment" and t:
            from kiosk.session.model import Transition

            pay = fx.SubmitPayment(spec.purpose, spec.reference, spec.amount_cents, spec.key)
            return Transition(t.state, (*t.effects, pay))
        return t

    monkeypatch.setitem(machine._HANDLERS, machine.S.CONFIRM, charge_on_back)
    h = at_menu()
    pay_power_bill(h)
    with pytest.raises(machine.PaymentWithoutConfirmError):
        h.send(Back())
    assert not of(h, fx.SubmitPayment)


def test_a_timeout_in_the_pin_change_wipes_the_held_pin() -> None:
    h = at_menu()
    choose(h, "card", "pin_change")
    h.enter_pin()
    h.enter_pin(b"123456")
    assert h.st.session is not None
    held = h.st.session.data["pin_old"]
    assert len(held) == 6
    h.wait(h.pol.session.answer_s + 1)
    assert h.st.session is None and len(held) == 0


def test_driver_device_events_are_understood() -> None:
    from drivers import vocabulary as voc

    h = Harness()
    h.send(voc.CardInserted(device="reader0", atr="3B"))
    assert h.state == "menu"
    h.send(voc.ReaderRemoved(device="reader0"))
    assert h.state == "out_of_service" and h.st.session is None
    h.send(voc.ReaderAdded(device="reader0"))
    assert h.state == "idle"
    h.send(voc.DeviceHealthChanged(device="cam", kind=DeviceKind.CAMERA,
                                   health=DeviceHealth.HARDWARE_ERROR))
    assert h.st.terminal.health(DeviceKind.CAMERA) is DeviceHealth.HARDWARE_ERROR
    h.send(voc.FingerPlaced(device="fp"))  # no meaning for the session: ignored
    assert h.state == "idle"
    from dataclasses import replace

    h.pol = replace(h.pol, card_reader="reader0")
    h.send(voc.CardInserted(device="psam-slot"))  # the PSAM slot is not the citizen's card
    assert h.state == "idle"
    h.send(voc.CardInserted(device="reader0"))
    assert h.state == "menu"


def test_consent_is_asked_per_service_purpose() -> None:
    h = at_menu()
    choose(h, "affairs", "pension_qualification")
    h.send(ConsentRefused())
    h.send(Choose("menu"))
    choose(h, "card", "activation")
    h.enter_pin()
    h.send(EnterText("id_number", ID_NUMBER))
    h.send(CardRemoved())
    h.send(CardInserted())
    h.send(CardRemoved())
    h.send(CardInserted())
    h.send(EnterText("phone", PHONE))
    h.send(EnterText("address", ADDRESS))
    h.send(Confirm())
    h.enter_pin()
    assert h.state == "consent"  # a refusal for another purpose is not carried over
    assert h.view.body[0].key == "consent.purpose.activation"


def test_a_failed_audit_record_does_not_break_the_journey() -> None:
    from kiosk.session.events import EffectFailed

    h = at_menu()
    choose(h, "query", "certificate")
    h.auto = False
    h.enter_pin()
    h.send(PinVerified())
    assert h.state == "opening_session"
    h.send(EffectFailed("RecordOutbox", "internal", "key-999999"))  # e.g. a consent row
    assert h.state == "opening_session"
    assert h.st.terminal.stats.get("failures.effect.RecordOutbox") == 1


def test_back_from_a_service_returns_to_its_group_another_service_to_the_top() -> None:
    h = at_menu()
    choose(h, "payments", "utility_payment")
    h.enter_pin()
    h.send(Back())
    assert h.state == "menu" and [c.id for c in h.view.choices] == [
        "utility_payment", "flexible_contribution"]
    h.send(Back())  # the group list → the top menu
    assert [c.id for c in h.view.choices] == ["query", "payments", "card", "affairs"]
    choose(h, "affairs", "unemployment_registration")
    h.send(Confirm())
    h.send(Choose("menu"))
    assert [c.id for c in h.view.choices] == ["query", "payments", "card", "affairs"]


def test_a_pin_of_the_wrong_length_spends_no_card_try_and_is_wiped() -> None:
    from kiosk.session.intents import EnterPin
    from tests.unit.session.fakes import pin

    h = at_menu()
    stray = pin(b"123456")
    h.send(EnterPin(stray))  # the menu takes no PIN: ignored, and the buffer zeroed
    assert len(stray) == 0 and h.state == "menu"
    choose(h, "query", "inquiry")
    short = pin(b"1234")
    h.send(EnterPin(short))
    assert h.state == "pin_entry" and len(short) == 0
    assert not of(h, fx.VerifyPin)
    assert h.view.error is not None and h.view.error.code == "card.pin_invalid_format"
