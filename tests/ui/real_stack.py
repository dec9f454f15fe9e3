"""The real app over the real core, shared by the tests/ui/test_real_stack*.py modules: touches
on the widgets and keys of the USB keypad, through the session runner on the real ports (the
emulated card in vpcd behind pcscd with its PSAM, the fingerprint emulator on a pty, the ID card
reader and receipt printer emulators on ptys when a journey has them, a generated camera
stream, the kiosk agent's journal and RPC to the central over a real mosquitto:
tests/fixtures/journeys.py).

As in `kiosk ui` (ui/core.py) one camera runs for the whole session: the face check and the QR
scan take its frames and the identity screen previews it (kiosk/preview.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator
from typing import Any

import pytest

from drivers.camera.source import FrameSource
from kiosk.journeys.live import LiveTerminal
from kiosk.journeys.rig import EmulatedHardware, profile_secrets
from kiosk.preview import CameraPreview
from kiosk.session.view import View
from tests.fixtures.journeys import JourneyStack
from tests.ui.runner_view import RunnerView

__all__ = ["ENTER", "LiveCore", "finish", "open_live", "open_with_pin", "type_on_keypad",
           "wait_rows", "wait_state", "wait_text"]

ENTER = 13


class LiveCore(RunnerView):
    """What `kiosk ui`'s core offers the app (ui/host.py `Core`), on the live terminal."""

    def __init__(self, terminal: LiveTerminal, camera: FrameSource | None = None) -> None:
        self.terminal = terminal
        assert terminal.runner is not None
        self.runner = terminal.runner
        self.camera = camera
        self.preview = CameraPreview(camera)

    def send(self, intent: Any) -> None:
        self.terminal.send(intent)

    def stop(self) -> None:
        self.terminal.stop()
        if self.camera is not None:
            self.camera.stop()


Opener = Callable[..., Any]


@pytest.fixture
def open_live(
    ui_driver: Any, journey_stack: JourneyStack, terminal: EmulatedHardware
) -> Iterator[Opener]:
    """`open_live(card=..., id_card=..., printer=..., camera=..., finger=...)`: the app on a
    fresh live terminal with those devices (as a journey file declares them); one per test."""
    from tests.ui.conftest import connect  # the conftest imports these fixtures

    opened: list[Generator[Any, None, None]] = []
    app = ui_driver.app

    def open_(*, card: str = "ssc3", id_card: str = "", printer: bool = False,
              camera: str | None = None, finger: str | None = None) -> Any:
        assert not opened, "one live terminal per test"
        terminal.empty_slot()
        terminal.card_profile = card
        if camera is not None:
            terminal.camera_source = camera
        if finger is not None:
            terminal.place_finger(finger)
        terminal.use_hall_devices(id_card=id_card, printer=printer)
        config = terminal.config()
        source = FrameSource(config.camera.to_settings(), name="camera")
        source.start()
        core = LiveCore(
            LiveTerminal(config, journey_stack.backend(), camera=source).start(), source
        )
        app.preview = core.preview
        ui_driver.hardware = terminal
        session = connect(ui_driver, core)
        opened.append(session)
        return next(session)

    try:
        yield open_
    finally:
        for session in opened:
            session.close()  # connect's finally: unsubscribe, stop the core
        app.preview = None


@pytest.fixture
def live(open_live: Opener) -> Any:
    """The app on a live terminal with the default card (ssc3) and no hall devices."""
    return open_live()


def wait_state(ui: Any, state: str, timeout: float = 30.0) -> View:
    """Until the shown view is in session state `state` (one screen renders several)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ui.settle()
        if ui.app.view.state == state:
            ui.pump(2)
            return ui.app.view  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError(f"expected state {state}, shown {ui.app.view.state}: {ui.shown_text()}")


def wait_text(ui: Any, key: str, timeout: float = 30.0) -> View:
    """Until the view holds the message `key` (title, body or notice) and its translation in
    the screen's language is what the screen shows."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ui.settle()
        view = ui.app.view
        found = [t for t in (view.title, *view.body, *view.notices) if t.key == key]
        if found:
            ui.pump(2)
            shown = ui.app.screen.tr(found[0])
            assert shown and shown in ui.shown_text(), f"{key} ({shown!r}) not on the screen"
            return view  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError(f"{key} never shown: {ui.app.view}")


def wait_rows(ui: Any, timeout: float = 20.0) -> View:
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


def type_on_keypad(ui: Any, digits: str) -> None:
    for d in digits:
        ui.key(48 + int(d))


def open_with_pin(ui: Any, group: str, service: str, card: str = "ssc3", *,
                  pin: str | None = None, insert: bool = True) -> None:
    """Card in (unless `insert` is off: the test put one in), the service's tile (its group
    first when the menu groups them), the PIN (the profile's by default) typed on the USB
    keypad and Enter."""
    if insert:
        ui.hardware.insert_card(card)
    ui.wait_screen("menu", timeout=30)
    choose_service(ui, group, service)
    ui.wait_screen("pin", timeout=15)
    type_on_keypad(ui, pin or profile_secrets(card).pin)
    ui.key(ENTER)
    ui.taps = 0


def choose_service(ui: Any, group: str, service: str) -> None:
    """The service's tile on the menu, through its group's tile when the menu groups them."""
    actions = [b.action for b in ui.buttons()]
    if f"choice:{service}" not in actions and f"choice:{group}" in actions:
        ui.tap_button(action=f"choice:{group}", count=False)
        ui.wait_screen("menu")
        actions = [b.action for b in ui.buttons()]
    assert f"choice:{service}" in actions, f"no {service} tile on the menu: {actions}"
    ui.tap_button(action=f"choice:{service}", count=False)


def finish(ui: Any, card: str = "ssc3") -> None:
    """The result confirmed, the card taken: back at the attract screen, nothing personal
    shown."""
    if ui.screen != "take_card":
        ui.tap_button(action="confirm", count=False)
    ui.wait_screen("take_card", timeout=15)
    ui.hardware.remove_card()
    ui.wait_screen("attract", timeout=20)
    shown = ui.shown_text()
    secrets = profile_secrets(card)
    assert secrets.id_number not in shown and secrets.name not in shown
