"""The real app over the real core (tests/ui/real_stack.py): the query, the certificate, the
utility payment with its receipt printed, the flexible-employment contribution and the e-SSC
login, by touches and USB keypad keys; taps after the PIN counted; what the screens show
checked against what the central recorded."""

from __future__ import annotations

from typing import Any

from kiosk.journeys.rig import EmulatedHardware, profile_secrets
from tests.fixtures.journeys import JourneyStack
from tests.integration.journeys.test_hall_devices import CentralIssuer
from tests.ui.real_stack import (
    finish,
    open_with_pin,
    type_on_keypad,
    wait_rows,
    wait_state,
    wait_text,
)


def test_query_on_the_real_core_within_four_taps_after_pin(live: Any) -> None:
    ui = live
    open_with_pin(ui, "query", "inquiry")
    ui.wait_screen("inquiry", timeout=30)
    table = wait_rows(ui).table
    assert table is not None
    shown = ui.shown_text()
    assert str(table.rows[0][0]) in shown, "the central's contribution records are shown"
    secrets = profile_secrets("ssc3")
    assert secrets.id_number not in shown and secrets.name not in shown
    tabs = [b for b in ui.buttons() if b.action.startswith("choice:")]
    assert len(tabs) >= 2, "one tab per insurance"
    ui.tap_button(action="choice:medical")  # the medical insurance's records
    ui.wait_screen("inquiry")
    assert next(c for c in ui.app.view.choices if c.selected).id == "medical"
    wait_rows(ui)
    assert ui.taps <= 4, f"{ui.taps} taps after the PIN"
    ui.tap_button(action="cancel", count=False)
    finish(ui)


def test_utility_payment_and_its_receipt_printed_within_four_taps_after_pin(
    open_live: Any, journey_stack: JourneyStack,
) -> None:
    ui = open_live(printer=True)
    id_number = profile_secrets("ssc3").id_number
    before = journey_stack.wallet_cents(id_number)
    open_with_pin(ui, "payments", "utility_payment")
    ui.wait_screen("utility", timeout=30)
    ui.tap_button(action="choice:water")
    ui.wait_screen("utility")
    type_on_keypad(ui, "319202140048")  # the account number on the USB keypad
    assert "319202140048" in ui.texts()
    ui.tap_button(action="submit")
    ui.wait_screen("utility", timeout=20)
    wait_rows(ui)
    bills = [b for b in ui.buttons() if b.action.startswith("row:")]
    assert bills, "the central's bills are tappable rows"
    ui.tap(bills[0])
    ui.wait_screen("utility")
    assert ui.app.view.state == "confirm"
    ui.tap_button(action="confirm")
    ui.wait_screen("receipt", timeout=30)
    assert ui.app.view.title.key == "result.paid", ui.shown_text()
    assert ui.taps <= 4, f"{ui.taps} taps after the PIN"
    paid = journey_stack.query(
        "SELECT amount_cents, receipt_no FROM payments WHERE id_number = ?"
        " AND purpose != 'contribution' AND state = 'accepted'", (id_number,))
    assert len(paid) == 1, "charged once"
    assert journey_stack.wallet_cents(id_number) == before - int(str(paid[0][0]))
    reference = str(paid[0][1])
    assert reference in ui.shown_text(), "the receipt on the screen names the central's reference"
    # the receipt on paper, from the printer emulator on its pty
    ui.tap_button(action="choice:print", count=False)
    wait_text(ui, "print.done")
    (paper,) = ui.hardware.printed()
    assert reference in paper and f"[QR {reference}]" in paper
    assert id_number not in paper and profile_secrets("ssc3").name not in paper
    finish(ui)


def test_certificate_shows_the_centrals_verification_code_as_a_qr(
    live: Any, journey_stack: JourneyStack,
) -> None:
    ui = live
    open_with_pin(ui, "query", "certificate")
    ui.wait_screen("certificate", timeout=30)
    screen = ui.app.screen
    assert screen.qr, "the QR of the verification reference is drawn"
    rows = journey_stack.query(
        "SELECT id_number FROM certificates WHERE verification_code = ?", (screen.qr,))
    assert rows and str(rows[0][0]) == profile_secrets("ssc3").id_number
    shown = ui.shown_text()
    secrets = profile_secrets("ssc3")
    assert secrets.id_number not in shown and secrets.name not in shown, "the holder masked"
    assert secrets.name[0] in shown, "the family name stays readable"
    assert "from_period" not in shown and "[{" not in shown, "the periods in words"
    assert "2026-10" in shown, "up to the last insured month"
    finish(ui)


def test_flexible_contribution_paid_once_from_the_centrals_quote(
    open_live: Any, journey_stack: JourneyStack,
) -> None:
    ui = open_live(card="ssc2")
    id_number = profile_secrets("ssc2").id_number
    before = journey_stack.wallet_cents(id_number)
    open_with_pin(ui, "payments", "flexible_contribution", card="ssc2")
    ui.wait_screen("utility", timeout=30)
    quote = wait_state(ui, "confirm")
    ui.tap_button(action="confirm")
    ui.wait_screen("receipt", timeout=30)
    assert ui.app.view.title.key == "result.paid", ui.shown_text()
    rows = journey_stack.query(
        "SELECT amount_cents FROM payments WHERE id_number = ? AND purpose = 'contribution'"
        " AND state = 'accepted'", (id_number,))
    assert len(rows) == 1
    amount = int(str(rows[0][0]))
    assert journey_stack.wallet_cents(id_number) == before - amount
    shown_amount = f"{amount // 100}.{amount % 100:02d}"
    assert any(shown_amount in str(f.value) for f in quote.fields), quote.fields
    assert shown_amount in ui.shown_text(), "the amount charged is the one shown"
    finish(ui, card="ssc2")


def test_essc_login_by_the_phones_qr_then_a_query_without_a_card(
    open_live: Any, terminal: EmulatedHardware, journey_stack: JourneyStack,
) -> None:
    holder = profile_secrets("ssc3").id_number
    terminal.essc = CentralIssuer(journey_stack)
    terminal.show_essc("valid", holder, journey_stack.config.terminal.id)  # the phone's code
    ui = open_live(camera=str(terminal.essc_video))
    ui.wait_screen("attract")
    ui.tap_button(action="choice:essc", count=False)
    ui.wait_screen("menu", timeout=30)
    ui.tap_button(action="choice:card", count=False)
    ui.wait_screen("menu")
    offered = {b.action for b in ui.buttons()}
    assert "choice:loss_report" in offered and "choice:activation" not in offered, \
        "only what needs no card in the reader"
    ui.tap_button(action="back", count=False)
    ui.wait_screen("menu")
    ui.tap_button(action="choice:query", count=False)
    ui.wait_screen("menu")
    ui.tap_button(action="choice:inquiry", count=False)
    ui.wait_screen("inquiry", timeout=30)
    table = wait_rows(ui).table
    assert table is not None and str(table.rows[0][0]) in ui.shown_text()
    assert holder not in ui.shown_text()
    ui.tap_button(action="cancel", count=False)
    ui.wait_screen("attract", timeout=20)  # no card to take back
    used = journey_stack.query(
        "SELECT used_by FROM essc_codes WHERE id_number = ? AND used_at IS NOT NULL", (holder,))
    assert used and str(used[-1][0]) == journey_stack.config.terminal.id, "redeemed once, here"
