"""The real app over the real core: touches on the widgets and keys of the USB keypad, through
the session runner on the real ports (the emulated card in vpcd behind pcscd with its PSAM, the
fingerprint emulator on a pty, the generated camera, the kiosk agent's journal and RPC to the
central over a real mosquitto: tests/fixtures/journeys.py). Taps after the PIN are counted."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kiosk.journeys.live import LiveTerminal
from kiosk.journeys.rig import EmulatedHardware, profile_secrets
from kiosk.session.view import View
from tests.fixtures.journeys import JourneyStack
from tests.ui.conftest import connect

ENTER = 13


class LiveCore:
    """What `kiosk ui`'s core offers the app (ui/host.py `Core`), on the live terminal."""

    def __init__(self, terminal: LiveTerminal) -> None:
        self.terminal = terminal
        assert terminal.runner is not None
        self.runner = terminal.runner
        self.preview = None

    def send(self, intent: Any) -> None:
        self.terminal.send(intent)

    def subscribe(self, callback: Callable[[View], None]) -> Callable[[], None]:
        unsubscribe = self.runner.subscribe(callback)
        callback(self.runner.view)
        return unsubscribe

    @property
    def view(self) -> View:
        return self.runner.view

    def wait_idle(self, timeout: float) -> bool:
        return self.runner.wait_idle(timeout)

    def heartbeat_age(self) -> float:
        return 0.0

    def stop(self) -> None:
        self.terminal.stop()


@pytest.fixture
def live(ui_driver: Any, journey_stack: JourneyStack, terminal: EmulatedHardware) -> Iterator[Any]:
    terminal.empty_slot()
    core = LiveCore(LiveTerminal(terminal.config(), journey_stack.backend()).start())
    ui_driver.hardware = terminal
    yield from connect(ui_driver, core)


def _wait_rows(ui: Any, timeout: float = 20.0) -> View:
    """Until the shown view holds table rows (the records come from the central by RPC)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ui.settle()
        view = ui.app.view
        if view.table is not None and view.table.rows:
            ui.pump(2)
            return view  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError(f"no rows shown: {ui.app.view}")


def _type_on_keypad(ui: Any, digits: str) -> None:
    for d in digits:
        ui.key(48 + int(d))


def _open_with_pin(ui: Any, group: str, service: str) -> None:
    """Card in, the service's tile (its group first when the menu groups them), the PIN typed
    on the USB keypad and Enter."""
    ui.hardware.insert_card("ssc3")
    ui.wait_screen("menu", timeout=30)
    actions = [b.action for b in ui.buttons()]
    if f"choice:{service}" not in actions and f"choice:{group}" in actions:
        ui.tap_button(action=f"choice:{group}", count=False)
        ui.wait_screen("menu")
        actions = [b.action for b in ui.buttons()]
    assert f"choice:{service}" in actions, f"no {service} tile on the menu: {actions}"
    ui.tap_button(action=f"choice:{service}", count=False)
    ui.wait_screen("pin", timeout=15)
    _type_on_keypad(ui, profile_secrets("ssc3").pin)
    ui.key(ENTER)
    ui.taps = 0


def _finish(ui: Any) -> None:
    ui.hardware.remove_card()
    ui.wait_screen("attract", timeout=20)
    assert profile_secrets("ssc3").id_number not in ui.shown_text()


def test_query_on_the_real_core_within_four_taps_after_pin(live: Any) -> None:
    ui = live
    _open_with_pin(ui, "query", "inquiry")
    ui.wait_screen("inquiry", timeout=30)
    table = _wait_rows(ui).table
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
    _wait_rows(ui)
    assert ui.taps <= 4, f"{ui.taps} taps after the PIN"
    ui.tap_button(action="cancel", count=False)
    ui.wait_screen("take_card", timeout=15)
    _finish(ui)


def test_utility_payment_on_the_real_core_within_four_taps_after_pin(
    live: Any, journey_stack: JourneyStack,
) -> None:
    ui = live
    id_number = profile_secrets("ssc3").id_number
    before = journey_stack.wallet_cents(id_number)
    _open_with_pin(ui, "payments", "utility_payment")
    ui.wait_screen("utility", timeout=30)
    ui.tap_button(action="choice:water")
    ui.wait_screen("utility")
    _type_on_keypad(ui, "319202140048")  # the account number on the USB keypad
    assert "319202140048" in ui.texts()
    ui.tap_button(action="submit")
    ui.wait_screen("utility", timeout=20)
    _wait_rows(ui)
    bills = [b for b in ui.buttons() if b.action.startswith("row:")]
    assert bills, "the central's bills are tappable rows"
    ui.tap(bills[0])
    ui.wait_screen("utility")
    assert ui.app.view.state == "confirm"
    ui.tap_button(action="confirm")
    ui.wait_screen("receipt", timeout=30)
    assert ui.app.view.title.key == "result.paid", ui.shown_text()
    assert ui.taps <= 4, f"{ui.taps} taps after the PIN"
    assert journey_stack.wallet_cents(id_number) < before, "paid once from the wallet"
    ui.tap_button(action="confirm", count=False)
    ui.wait_screen("take_card", timeout=15)
    _finish(ui)
