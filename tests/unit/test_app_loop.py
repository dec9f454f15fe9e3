"""The core's main loop: events handled on the main thread, READY then a heartbeat per turn to
a real notify socket, STOPPING when the agent stops; a failing handler does not stop it."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from drivers.vocabulary import DeviceHealth, DeviceHealthChanged, DeviceKind
from kiosk.app import KioskApp
from kiosk.config import load_config
from kiosk.watchdog import SystemdNotifier


class _Core:
    """Stops after the loop has handled `n` events."""

    exit_code = 75

    def __init__(self) -> None:
        self.stop = threading.Event()

    def wait_stopped(self, timeout: float) -> bool:
        return self.stop.wait(timeout)


def test_loop_handles_events_and_feeds_the_watchdog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(5)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    notifier = SystemdNotifier(environ={"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "200000"})
    app = KioskApp(load_config(profile="test", environ={}).config)
    core = _Core()
    handled: list[object] = []

    def on_event(event: object) -> None:
        handled.append(event)
        if len(handled) == 1:
            raise RuntimeError("a broken handler")  # must not stop the loop
        core.stop.set()

    app.on_event = on_event  # type: ignore[method-assign]
    first = DeviceHealthChanged("camera", kind=DeviceKind.CAMERA, health=DeviceHealth.NO_DEVICE)
    second = DeviceHealthChanged("camera", kind=DeviceKind.CAMERA, health=DeviceHealth.ONLINE)
    app.queue.post(first)
    app.queue.post(second)
    try:
        assert app.run(core, notifier) == 75
        messages = []
        sock.settimeout(0.5)
        while True:
            try:
                messages.append(sock.recv(1024).decode())
            except TimeoutError:
                break
    finally:
        sock.close()
    assert handled == [first, second]
    assert messages[0].startswith("READY=1")
    assert messages[-1] == "STOPPING=1"
    assert messages.count("WATCHDOG=1") >= 2
