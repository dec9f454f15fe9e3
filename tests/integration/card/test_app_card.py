"""The composition root's card reader on the real stack: `KioskApp.start()` starts it as a
`Device`, its events reach the core queue, its health feeds `device_health`, `stop()` ends it."""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

from drivers.card.driver import CardDriver
from drivers.card.settings import CardSettings
from drivers.vocabulary import (
    CardInserted,
    CardRemoved,
    DeviceHealth,
    DeviceHealthChanged,
    DeviceKind,
)
from kiosk.app import KioskApp
from kiosk.config import load_config
from kiosk.device import Device

WAIT_S = 20.0  # generous upper bound for a slow CI machine; not a timing assertion


def wait_event(
    app: KioskApp, kind: type[Any], seen: list[object], device_kind: DeviceKind | None = None
) -> Any:
    while True:
        event = app.queue.get(timeout=WAIT_S)
        assert event is not None, f"no {kind.__name__} on the core queue; saw {seen}"
        seen.append(event)
        if isinstance(event, kind) and getattr(event, "kind", device_kind) == device_kind:
            return event


def test_card_reader_is_a_device_of_the_app(card_slot: Any) -> None:
    base = load_config(None, profile="test", environ={}).config
    reader = card_slot.reader_names[0]
    cfg = base.model_copy(update={"card": base.card.model_copy(update={"reader": reader})})
    app = KioskApp(cfg)
    app.start()
    try:
        assert "card_reader" not in app.failed
        # the scanner, camera, printer and ID card reader are missing here: they degrade
        assert [d.name for d in app.devices] == [
            "card_reader", "fingerprint", "camera", "printer", "id_card_reader"
        ]
        assert all(isinstance(d, Device) for d in app.devices)
        seen: list[object] = []
        health = wait_event(app, DeviceHealthChanged, seen, DeviceKind.CARD_READER)
        assert health.health is DeviceHealth.ONLINE
        # The other devices settle on their own threads (offline until their first attempt).
        deadline = time.monotonic() + WAIT_S
        while "offline" in app.device_health().values() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert app.device_health() == {
            "card_reader": "online",
            "fingerprint": "no_device",
            "camera": "no_device",
            "printer": "no_device",
            "id_card_reader": "no_device",
        }
        card_slot.card.insert("ssc2")
        inserted = wait_event(app, CardInserted, seen)
        assert inserted.device == reader and inserted.atr.startswith("3B6D0000")
        card_slot.card.remove()
        assert wait_event(app, CardRemoved, seen).device == reader
    finally:
        app.stop()
    assert app.devices == []
    assert not [t for t in threading.enumerate() if t.name.startswith("monitor-card_reader")]


def test_driver_health_without_monitor(card_slot: Any, card_settings: CardSettings) -> None:
    assert CardDriver(card_settings).health is DeviceHealth.ONLINE
    missing = dataclasses.replace(card_settings, reader="No Such Reader")
    assert CardDriver(missing).health is DeviceHealth.NO_DEVICE
