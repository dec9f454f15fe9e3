"""The real app over the real core (tests/ui/real_stack.py), the services with the hall's
devices: the medical-insurance activation wizard (the ID number typed; and the resident ID
card on its reader) through every step to the card write, the pension qualification by the
face, and the contribution statement printed. Each by touches and USB keypad keys; what the
screens show checked against what the central recorded, what the card holds and what came
out of the printer."""

from __future__ import annotations

import json
import queue
import time
from typing import Any

from kivy.core.window import Window

from drivers.card.activation import ActivationRecord
from drivers.card.emulator import read_profile
from drivers.card.emulator.ssc import SscCard
from drivers.fingerprint.emulator.fingers import finger_template
from kiosk.journeys.rig import profile_secrets
from kiosk.session.view import View
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

CARD, RETIREE = "ssc3", "ssc3_retiree"
PAN = str(read_profile("bank_card").financial.pan)  # type: ignore[union-attr]
PHONE, ADDRESS = "13912345678", "浙江省温州市鹿城区人民路 1 号"
WIZARD_STEPS = 8


# --------------------------------------------------------------------------- helpers


def _consents(stack: JourneyStack) -> list[dict[str, Any]]:
    rows = stack.query("SELECT data FROM event_receipts WHERE kind = 'consent'")
    return [json.loads(str(r[0])) for r in rows]


def _record_steps(ui: Any) -> queue.Queue[View]:
    """Every view the session publishes from now on (the face and finger steps pass by
    faster than a screen can be polled)."""
    return ui.core.runner.views(1024)  # type: ignore[no-any-return]


def _steps_seen(views: queue.Queue[View]) -> list[int]:
    seen: list[int] = []
    while not views.empty():
        view = views.get_nowait()
        if view.service == "activation" and view.step is not None and (
            not seen or seen[-1] != view.step.n
        ):
            seen.append(view.step.n)
    return seen


def _on_step(ui: Any, state: str, n: int, timeout: float = 30.0) -> View:
    """The wizard at `state`: the view says step n of 8 and the header shows it."""
    view = wait_state(ui, state, timeout)
    assert ui.screen == "activation" or state == "consent", ui.screen
    assert view.step is not None and (view.step.n, view.step.of) == (n, WIZARD_STEPS), view.step
    header = ui.app.t("ui.frame.step", ui.app.lang, n=n, of=WIZARD_STEPS)
    assert header in ui.shown_text(), f"the header does not say {header!r}"
    return view


def _wait_validation(ui: Any, key: str, timeout: float = 10.0) -> None:
    """Until the open field says `key` below it, in the screen's words."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ui.settle()
        entry = ui.app.view.text_input
        if entry is not None and entry.validation is not None and entry.validation.key == key:
            ui.pump(2)
            shown = ui.app.screen.tr(entry.validation)
            assert shown and shown in ui.shown_text(), f"{key} ({shown!r}) not on the screen"
            return
        time.sleep(0.05)
    raise AssertionError(f"{key} never shown under the field: {ui.app.view}")


def _open_field(ui: Any) -> str:
    entry = ui.app.view.text_input
    return "" if entry is None else str(entry.field)


def _type_address(ui: Any, address: str) -> None:
    """A touch on the address box (it takes the keyboard's focus), the words typed on the
    keyboard, then its OK touched."""
    box = ui.app.screen.ids.text_entry.ids.box
    ui.tap(box, count=False)
    assert box.focus, "a touch on the address field focuses it"
    box.text = ""  # the one app: the box may hold an earlier test's words
    Window.dispatch("on_textinput", address)
    ui.pump(2)
    assert box.text == address
    ui.settle()
    ui.tap_button(action="submit", count=False)  # OK, lit by what was typed


def _bank_card_swap(ui: Any) -> None:
    """The citizen follows the swap prompts: the social security card out, the bank card in
    and out, the social security card back."""
    hw = ui.hardware
    for prompt, move in (("swap.remove_ssc", hw.remove_card),
                         ("swap.insert_bank", hw.insert_bank_card),
                         ("swap.remove_bank", hw.remove_card),
                         ("swap.insert_ssc", hw.return_card)):
        wait_text(ui, prompt)
        assert ui.screen == "activation"
        move()


def _masked_form(ui: Any, card: str) -> None:
    """The form shows the holder, the bank card and what was typed masked, never in full."""
    secrets = profile_secrets(card)
    shown = ui.shown_text()
    assert PAN[:6] in shown and PAN[-4:] in shown, "the bank card, masked, is on the form"
    for value in (secrets.id_number, secrets.name, PAN):
        assert value not in shown, "a personal value shown in full"
    assert secrets.id_number[:3] in shown and secrets.id_number[-4:] in shown


def _form_and_identity(ui: Any, card: str) -> None:
    """The form (a bad phone number first), the PIN again, consent, face and finger, up to
    the summary; then Confirm and the card write to its result."""
    _on_step(ui, "activation_form", 3)
    _masked_form(ui, card)
    assert _open_field(ui) == "phone"
    type_on_keypad(ui, "12345678901")  # not a mobile number: said under the field
    ui.key(ENTER)
    _wait_validation(ui, "validation.phone")
    assert _open_field(ui) == "phone", "the same field stays open to correct"
    type_on_keypad(ui, PHONE)
    ui.key(ENTER)
    wait_for("the address field", lambda: (ui.settle(), _open_field(ui) == "address")[1])
    ui.pump(2)
    _type_address(ui, ADDRESS)
    wait_for("the form filled", lambda: (ui.settle(), _open_field(ui) == "")[1])
    shown = ui.shown_text()
    assert PHONE not in shown and ADDRESS not in shown, "what was typed is masked on the form"
    assert f"{PHONE[:3]}****{PHONE[-4:]}" in shown
    assert "validation." not in shown
    ui.tap_button(action="confirm")
    # The card left the reader for the swap: its PIN state is gone, asked again.
    wait_state(ui, "pin_entry")
    assert ui.screen == "pin"
    type_on_keypad(ui, profile_secrets(card).pin)
    ui.key(ENTER)
    _on_step(ui, "consent", 4)
    ui.tap_button(action="consent_given")
    summary = _on_step(ui, "confirm", 7, timeout=90)
    assert ui.app.screen.tr(summary.title) in ui.shown_text()
    _masked_form(ui, card)
    ui.tap_button(action="confirm")
    ui.wait_screen("receipt", timeout=90)
    wait_text(ui, "result.activated")


def _card_record(ui: Any) -> ActivationRecord:
    """Result confirmed, the card taken: the activation record the card holds."""
    ui.tap_button(action="confirm", count=False)
    ui.wait_screen("take_card", timeout=15)
    taken = ui.hardware.readers.card.remove()
    ui.wait_screen("attract", timeout=20)
    assert isinstance(taken, SscCard)
    raw = taken.activation_record()
    assert raw is not None, "the card holds no activation record"
    return ActivationRecord.decode(raw)


def _activated(ui: Any, steps: queue.Queue[View], journey_stack: JourneyStack,
               card: str) -> ActivationRecord:
    """Every wizard step was shown in order, and the card holds the activation the central
    confirmed."""
    seen = _steps_seen(steps)
    assert seen == list(range(1, WIZARD_STEPS + 1)), f"the progress went {seen}"
    record = _card_record(ui)
    key = _confirmed_at_central(journey_stack, card)
    assert record.activated and record.matches_key(key), "the card holds this activation"
    return record


def _confirmed_at_central(stack: JourneyStack, card: str) -> str:
    """The activation key the central confirmed for the holder's card."""
    secrets = profile_secrets(card)

    def confirmed() -> list[tuple[object, ...]]:
        return stack.query("SELECT activation_key FROM activations WHERE id_number = ?"
                           " AND card_number = ? AND state = 'confirmed'",
                           (secrets.id_number, secrets.card_number))

    wait_for("the activation confirmed at the central", lambda: bool(confirmed()), 30)
    (row,) = confirmed()
    return str(row[0])


# --------------------------------------------------------------------------- activation


def test_activation_with_the_id_number_typed_writes_the_card(
    open_live: Any, journey_stack: JourneyStack,
) -> None:
    ui = open_live(card=CARD, finger="f03")
    steps = _record_steps(ui)
    open_with_pin(ui, "card", "activation", card=CARD)
    _on_step(ui, "activation_id", 1)
    assert _open_field(ui) == "id_number"
    wait_text(ui, "activation.id_body")
    id_number = profile_secrets(CARD).id_number
    wrong = id_number[:-1] + ("7" if id_number[-1] != "7" else "6")  # a wrong check digit
    for d in wrong:  # on the screen's own keypad
        ui.tap_button(action="key", text=d, count=False)
    ui.tap_button(action="submit", count=False)
    _wait_validation(ui, "validation.id_number")
    assert ui.app.view.state == "activation_id"
    for d in id_number:
        ui.tap_button(action="key", text=d, count=False)
    assert id_number in ui.texts(), "the digits typed show on the pad"
    ui.tap_button(action="submit", count=False)
    _on_step(ui, "activation_bank_swap", 2)
    assert id_number not in ui.shown_text()
    _bank_card_swap(ui)
    _form_and_identity(ui, CARD)
    record = _activated(ui, steps, journey_stack, CARD)
    assert record.date is not None
    held = journey_stack.query("SELECT finger_template FROM persons WHERE id_number = ?",
                               (id_number,))
    assert bytes(held[0][0]) == finger_template("f03")  # type: ignore[call-overload]
    enrolled = journey_stack.query(
        "SELECT COUNT(*) FROM affairs WHERE kind = 'fingerprint_enroll' AND id_number = ?",
        (id_number,))
    assert int(str(enrolled[0][0])) == 1, "the finger enrolled here, sent once on Confirm"
    wait_for("the consent recorded", lambda: any(
        c.get("decision") == "given" and c.get("service") == "activation"
        for c in _consents(journey_stack)))


def test_activation_with_the_holders_id_card_on_the_reader(
    open_live: Any, journey_stack: JourneyStack,
) -> None:
    ui = open_live(card=RETIREE, id_card="resident_retiree", finger="f04")
    steps = _record_steps(ui)
    open_with_pin(ui, "card", "activation", card=RETIREE)
    # The ID card is read and matched with no touch: straight to the swap.
    _on_step(ui, "activation_bank_swap", 2)
    secrets = profile_secrets(RETIREE)
    assert secrets.id_number not in ui.shown_text() and secrets.name not in ui.shown_text()
    _bank_card_swap(ui)
    _form_and_identity(ui, RETIREE)
    _activated(ui, steps, journey_stack, RETIREE)
    shown = ui.shown_text()
    assert secrets.id_number not in shown and secrets.name not in shown


# --------------------------------------------------------------------------- pension


def test_pension_qualification_by_the_face_recorded_at_the_central(
    open_live: Any, journey_stack: JourneyStack,
) -> None:
    ui = open_live(card=RETIREE)
    holder = profile_secrets(RETIREE).id_number
    ui.hardware.insert_card(RETIREE)
    ui.wait_screen("menu", timeout=30)
    choose_service(ui, "affairs", "pension_qualification")
    ui.taps = 0
    ui.wait_screen("consent", timeout=15)  # the face, no PIN: consent first
    ui.tap_button(action="consent_given")
    ui.wait_screen("pension", timeout=90)
    view = wait_text(ui, "result.pension_qualified")
    assert view.error is None
    rows = journey_stack.query(
        "SELECT year, method FROM pension_qualifications WHERE id_number = ?"
        " AND method != 'counter'", (holder,))
    assert len(rows) == 1 and str(rows[0][1]) != "counter", rows
    year = str(rows[0][0])
    fields = {f.id: ui.app.screen.tr(f.display()) for f in view.fields}
    assert fields.get("year") == year and year in ui.shown_text(), fields
    assert fields.get("valid_until") and fields["valid_until"] in ui.shown_text()
    assert ui.taps <= 2, f"{ui.taps} taps after the menu"
    finish(ui, card=RETIREE)


# --------------------------------------------------------------------------- printing


def test_contribution_statement_printed_from_the_inquiry(
    open_live: Any, journey_stack: JourneyStack,
) -> None:
    ui = open_live(card=CARD, printer=True)
    secrets = profile_secrets(CARD)
    open_with_pin(ui, "query", "inquiry", card=CARD)
    ui.wait_screen("inquiry", timeout=30)
    table = wait_rows(ui).table
    assert table is not None
    offer = next((c for c in ui.app.view.choices if c.id == "print"), None)
    assert offer is not None and offer.label.key == "print.contribution_statement"
    assert ui.app.screen.tr(offer.label) in ui.shown_text()
    ui.tap_button(action="choice:print")
    wait_text(ui, "print.done")
    (paper,) = ui.hardware.printed()
    assert "社会保险缴费明细" in paper and "养老保险" in paper and "合计" in paper
    assert secrets.name not in paper and secrets.id_number not in paper
    assert f"{secrets.name[0]}*" in paper, "the holder, masked"
    for row in table.rows:  # the months on the screen are on the paper
        period = str(row[0])
        assert f"{period[:4]}-{period[4:6]}" in paper, period
    months = [line for line in paper.splitlines() if line[:4].isdigit() and line[4:5] == "-"]
    recorded = journey_stack.query(
        "SELECT COUNT(*) FROM contributions WHERE id_number = ? AND insurance = 'pension'",
        (secrets.id_number,))
    assert 0 < len(months) <= int(str(recorded[0][0]))
    assert ui.taps <= 2, f"{ui.taps} taps after the PIN"
    ui.tap_button(action="cancel", count=False)
    finish(ui, card=CARD)
