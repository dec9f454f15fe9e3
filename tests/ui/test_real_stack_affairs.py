"""The real app over the real core (tests/ui/real_stack.py), the affairs and the card's own
services: employment certificate, unemployment registration, training sign-up from the
central's catalogue, PIN change on the card, temporary loss report and its cancellation. Each
by touches and USB keypad keys; what the screens say checked against what the central
recorded."""

from __future__ import annotations

import json
from typing import Any

from drivers.card.emulator import read_profile
from kiosk.journeys.rig import profile_secrets
from tests.fixtures.journeys import JourneyStack
from tests.integration.journeys.test_journeys import wait_for
from tests.ui.real_stack import (
    ENTER,
    choose_service,
    finish,
    open_with_pin,
    type_on_keypad,
    wait_rows,
    wait_state,
    wait_text,
)

CARD = "ssc2"


def _events(stack: JourneyStack, kind: str) -> list[dict[str, Any]]:
    rows = stack.query("SELECT data FROM event_receipts WHERE kind = ?", (kind,))
    return [json.loads(str(r[0])) for r in rows]



def _confirm_and_submit(ui: Any) -> None:
    """The confirm screen of an affair, then its result in the citizen's words."""
    view = wait_state(ui, "confirm")
    assert ui.screen == "affairs"
    assert ui.app.screen.tr(view.title) in ui.shown_text()
    ui.tap_button(action="confirm")
    ui.wait_screen("receipt", timeout=30)
    wait_text(ui, "result.submitted")


def test_employment_certificate_and_unemployment_registration_reach_the_central(
    open_live: Any, journey_stack: JourneyStack,
) -> None:
    ui = open_live(card=CARD)
    for service in ("employment_certificate", "unemployment_registration"):
        open_with_pin(ui, "affairs", service, card=CARD)
        _confirm_and_submit(ui)
        assert ui.taps <= 2, f"{service}: {ui.taps} taps after the PIN"
        finish(ui, card=CARD)
    holder = profile_secrets(CARD).id_number
    wait_for("the application", lambda: len(_events(journey_stack, "application")) == 1)
    wait_for("the registration", lambda: len(_events(journey_stack, "registration")) == 1)
    (application,) = _events(journey_stack, "application")
    (registration,) = _events(journey_stack, "registration")
    assert "employment_certificate" in json.dumps(application)
    assert "unemployment_registration" in json.dumps(registration)
    assert application["id_number"] == registration["id_number"] == holder, "the holder's"


def test_training_sign_up_from_the_centrals_catalogue(
    open_live: Any, journey_stack: JourneyStack,
) -> None:
    ui = open_live(card=CARD)
    open_with_pin(ui, "affairs", "training", card=CARD)
    ui.wait_screen("affairs", timeout=30)
    table = wait_rows(ui).table
    assert table is not None
    courses = journey_stack.query("SELECT course_id, title FROM courses")
    titles = {str(r[1]) for r in courses}
    assert any(t in ui.shown_text() for t in titles), "the central's courses, by title"
    assert not any("**" in str(row[0]) for row in table.rows), "a course title is not masked"
    rows = [b for b in ui.buttons() if b.action.startswith("row:")]
    assert rows, "each course is a target"
    chosen = rows[0].action.removeprefix("row:")
    ui.tap(rows[0])
    _confirm_and_submit(ui)
    assert ui.taps <= 2
    finish(ui, card=CARD)
    wait_for("the sign-up", lambda: any(
        "training" in json.dumps(e) for e in _events(journey_stack, "registration")))
    signed = [e for e in _events(journey_stack, "registration") if "training" in json.dumps(e)]
    assert chosen in json.dumps(signed[-1]), "the course the citizen touched"
    holder = profile_secrets(CARD).id_number
    wait_for("the seat taken", lambda: bool(journey_stack.query(
        "SELECT 1 FROM course_signups WHERE course_id = ? AND id_number = ?", (chosen, holder))))


def test_pin_change_on_the_card_then_the_new_pin_opens_it(open_live: Any) -> None:
    ui = open_live(card=CARD)
    old = profile_secrets(CARD).pin
    new = "246810"
    open_with_pin(ui, "card", "pin_change", card=CARD)
    for state, pin in (("pin_change_old", old), ("pin_change_new", new),
                       ("pin_change_repeat", new)):
        wait_state(ui, state)
        assert ui.screen == "pin"
        assert ui.app.screen.tr(ui.app.view.title) in ui.shown_text()
        type_on_keypad(ui, pin)
        assert not any(pin[:3] in t for t in ui.texts()), "no digit of a PIN is shown"
        ui.key(ENTER)
    ui.wait_screen("receipt", timeout=30)
    wait_text(ui, "result.pin_changed")
    ui.tap_button(action="confirm", count=False)
    ui.wait_screen("take_card", timeout=15)
    slot = ui.hardware.readers.card
    same_card = slot.remove()  # the citizen takes the card ...
    ui.wait_screen("attract", timeout=20)
    slot.insert(same_card)  # ... and comes back with it: the card holds the new PIN now
    open_with_pin(ui, "query", "inquiry", card=CARD, pin=new, insert=False)
    ui.wait_screen("inquiry", timeout=30)
    ui.tap_button(action="cancel", count=False)
    finish(ui, card=CARD)


def test_loss_report_refuses_the_card_until_it_is_cancelled(
    open_live: Any, journey_stack: JourneyStack,
) -> None:
    ui = open_live(card=CARD)
    number = str(read_profile(CARD).card_number)  # type: ignore[union-attr]

    def state() -> str:
        rows = journey_stack.query("SELECT state FROM cards WHERE card_number = ?", (number,))
        return str(rows[0][0])

    open_with_pin(ui, "card", "loss_report", card=CARD)
    view = wait_state(ui, "confirm")
    warnings = [t for t in (*view.body, *view.notices) if t.key.endswith(".warning")]
    assert warnings, "the consequence is said before the report"
    ui.tap_button(action="confirm")
    ui.wait_screen("receipt", timeout=30)
    wait_text(ui, "result.report_loss")
    assert state() == "temporary_lost"
    finish(ui, card=CARD)
    # reported lost: the card now opens only the cancellation
    ui.hardware.insert_card(CARD)
    ui.wait_screen("menu", timeout=30)
    offered = {b.action for b in ui.buttons()}
    if "choice:loss_cancel" not in offered:
        ui.tap_button(action="choice:card", count=False)
        ui.wait_screen("menu")
        offered = {b.action for b in ui.buttons()}
    assert "choice:loss_cancel" in offered and "choice:inquiry" not in offered, offered
    choose_service(ui, "card", "loss_cancel")
    ui.wait_screen("pin", timeout=15)
    type_on_keypad(ui, profile_secrets(CARD).pin)
    ui.key(ENTER)
    wait_state(ui, "confirm")
    ui.tap_button(action="confirm")
    ui.wait_screen("receipt", timeout=30)
    wait_text(ui, "result.cancel_loss")
    assert state() == "active"
    finish(ui, card=CARD)
