"""The ID card login on the real app: the attract screen offers it only when the session's view
does (policy and the reader), beside the e-SSC; a touch on it reads the card on the reading
screen, asks consent, checks the face, and the central's session opens the menu of lookups."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from drivers.vocabulary import DeviceHealth, DeviceKind
from kiosk.session.events import DeviceHealthChanged
from kiosk.session.intents import ConsentGiven
from tests.ui.conftest import RunnerCore, connect
from tests.ui.driver import visible


def _buttons(ui: Any, option: str) -> list[Any]:
    return [w for w in visible(ui.app.root) if getattr(w, "action", "") == f"choice:{option}"]


@pytest.fixture
def idcard_ui(ui_driver: Any) -> Iterator[Any]:
    core = RunnerCore(essc=True, idcard=True)
    core.post(DeviceHealthChanged(DeviceKind.ID_CARD_READER, DeviceHealth.ONLINE))
    yield from connect(ui_driver, core)


def test_no_idcard_button_when_the_policy_does_not_offer_it(ui: Any) -> None:
    ui.wait_screen("attract")
    assert not _buttons(ui, "idcard")


def test_idcard_login_from_the_attract_screen(idcard_ui: Any) -> None:
    ui = idcard_ui
    ui.wait_screen("attract")
    (essc,) = _buttons(ui, "essc")
    (button,) = _buttons(ui, "idcard")
    assert button.text.strip() and button.text != essc.text, "each says what it does"
    ui.core.ports.gate = threading.Event()  # the ID card is not on the reader yet
    ui.tap(button)
    ui.wait_screen("reading")
    ui.core.ports.gate.set()
    ui.wait_screen("consent")
    ui.core.ports.gate = None
    ui.core.send(ConsentGiven())
    ui.wait_screen("menu")  # the central matched the face: lookups without a card
    assert [name for name, _ in ui.core.ports.calls] == [
        "read_id_card", "capture_live_face", "open_idcard_session"]
