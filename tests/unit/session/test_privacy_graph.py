"""After the end of a session no personal value is reachable from the machine or its views."""

from __future__ import annotations

from kiosk.session.events import CardInserted, CardRemoved
from kiosk.session.intents import Cancel, Choose, ChooseService, Confirm, ConsentGiven, EnterText
from tests.unit.session.fakes import (
    ADDRESS,
    ID_NUMBER,
    PERSONAL,
    PHONE,
    Harness,
)
from tests.unit.session.graph import personal_left


def activation_until_submit(h: Harness) -> None:
    h.insert_card()
    h.send(Choose("card"))
    h.send(ChooseService("activation"))
    h.enter_pin()
    h.send(EnterText("id_number", ID_NUMBER))
    h.send(CardRemoved())
    h.send(CardInserted())
    h.send(CardRemoved())
    h.send(CardInserted())
    h.send(EnterText("phone", PHONE))
    h.send(EnterText("address", ADDRESS))
    h.send(Confirm())
    h.enter_pin()  # asked again: the swap reset the card
    h.send(ConsentGiven())
    assert h.state == "confirm"


def test_the_search_finds_personal_values_while_the_session_runs() -> None:
    h = Harness()
    activation_until_submit(h)
    # The test can fail: during the session the graph holds the holder, the form, the bank card.
    assert set(personal_left([h.st, h.view], PERSONAL)) == set(PERSONAL)


def test_card_removed_leaves_nothing() -> None:
    h = Harness()
    activation_until_submit(h)
    h.send(CardRemoved())
    assert h.state == "idle"
    assert personal_left([h.st, h.view], PERSONAL) == []


def test_cancel_leaves_nothing_even_before_the_card_is_taken() -> None:
    h = Harness()
    activation_until_submit(h)
    h.send(Cancel())
    assert h.state == "take_card"
    assert personal_left([h.st, h.view], PERSONAL) == []


def test_timeout_leaves_nothing() -> None:
    h = Harness()
    activation_until_submit(h)
    h.wait(h.pol.session.answer_s + 1)
    assert h.st.session is None
    assert personal_left([h.st, h.view], PERSONAL) == []
