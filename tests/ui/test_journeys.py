"""Journeys through the real app and the real session machine: touches on the widgets the
citizen sees, assertions on what is shown, taps counted after the PIN."""

from __future__ import annotations

from typing import Any

from kiosk.session.events import CardInserted


def insert_card_and_open(ui: Any, group: str, service: str) -> None:
    ui.core.post(CardInserted())
    ui.wait_screen("menu")
    ui.tap_button(action=f"choice:{group}")
    ui.tap_button(action=f"choice:{service}")
    ui.wait_screen("pin")


def enter_pin_by_touch(ui: Any, digits: str = "123456") -> None:
    for d in digits:
        ui.tap_button(action="key", text=d, count=False)
    ui.tap_button(action="confirm", count=False)


def test_inquiry_by_touch_shows_contributions_within_four_taps_after_pin(ui: Any) -> None:
    insert_card_and_open(ui, "query", "inquiry")
    enter_pin_by_touch(ui)
    ui.taps = 0
    ui.wait_screen("inquiry")
    shown = ui.shown_text()
    print(shown)
    assert ui.taps <= 4


def test_utility_payment_by_touch_within_four_taps_after_pin(ui: Any) -> None:
    insert_card_and_open(ui, "payments", "utility_payment")
    enter_pin_by_touch(ui)
    ui.taps = 0
    ui.wait_screen("utility")
    kinds = [b for b in ui.buttons() if b.action.startswith("choice:")]
    assert len(kinds) >= 2, "the utility kinds are offered as targets"
    ui.tap(kinds[0])
    for d in "123456789012":  # the account number on the on-screen keypad
        ui.tap_button(action="key", text=d, count=False)
    assert "123456789012" in ui.texts()
    ui.tap_button(action="submit")
    bills = [b for b in ui.buttons() if b.action.startswith("row:")]
    assert bills, "the bills are tappable rows"
    ui.tap(bills[0])
    ui.wait_screen("utility")
    assert ui.app.view.state == "confirm"
    ui.tap_button(action="confirm")
    ui.wait_screen("receipt")
    assert ui.taps <= 4, f"{ui.taps} taps after the PIN"
    assert "TXN-0001" in ui.shown_text()
