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
