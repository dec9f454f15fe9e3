"""The e-SSC QR login on the real app: the attract screen offers it only when the session's
view does, a touch on it starts the scan on the identity screen (camera preview), and the
redeemed code opens the menu without a card."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.ui.conftest import RunnerCore, connect
from tests.ui.driver import visible


def _essc_buttons(ui: Any) -> list[Any]:
    return [w for w in visible(ui.app.root) if getattr(w, "action", "") == "choice:essc"]


@pytest.fixture
def essc_ui(ui_driver: Any) -> Iterator[Any]:
    yield from connect(ui_driver, RunnerCore(essc=True))


def test_no_essc_button_when_the_policy_does_not_offer_it(ui: Any) -> None:
    ui.wait_screen("attract")
    assert not _essc_buttons(ui)


def test_essc_login_from_the_attract_screen(essc_ui: Any) -> None:
    ui = essc_ui
    ui.wait_screen("attract")
    (button,) = _essc_buttons(ui)
    assert button.text.strip(), "the button says what it does"
    ui.core.ports.gate = threading.Event()  # the camera has not seen the code yet
    ui.tap(button)
    ui.wait_screen("identity")  # the scan shows the camera preview
    ui.core.ports.gate.set()
    ui.wait_screen("menu")  # redeemed: services without a card
    assert [name for name, _ in ui.core.ports.calls] == ["scan_qr", "redeem_essc"]
