"""The insertion monitor on the real stack: card in/out, pcscd restarting, readers vanishing
and coming back (pcscd restarted without, then with, the vpcd configuration)."""

from __future__ import annotations

import dataclasses
import queue
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from drivers.card.monitor import CardMonitor
from drivers.card.settings import CardSettings
from drivers.vocabulary import (
    CardInserted,
    CardRemoved,
    DeviceEvent,
    DeviceHealth,
    DeviceHealthChanged,
    ReaderAdded,
    ReaderRemoved,
)

E = TypeVar("E", bound=DeviceEvent)
WAIT_S = 20.0  # generous upper bound for a slow CI machine; not a timing assertion


class Events:
    def __init__(self) -> None:
        self.q: queue.Queue[DeviceEvent] = queue.Queue()
        self.seen: list[DeviceEvent] = []

    def __call__(self, event: DeviceEvent) -> None:
        self.q.put(event)

    def wait_for(self, kind: type[E], pred: Callable[[E], bool] = lambda e: True) -> E:
        while True:
            try:
                ev = self.q.get(timeout=WAIT_S)
            except queue.Empty:
                raise AssertionError(f"no {kind.__name__}; saw {self.seen}") from None
            self.seen.append(ev)
            if isinstance(ev, kind) and pred(ev):
                return ev


@pytest.fixture
def monitored(card_slot: Any, card_settings: CardSettings) -> Iterator[tuple[Events, CardMonitor]]:
    events = Events()
    # Watch slot 0 only (the PSAM sits in slot 1).
    monitor = CardMonitor(
        events, dataclasses.replace(card_settings, reader=card_slot.reader_names[0])
    )
    monitor.start()
    try:
        events.wait_for(DeviceHealthChanged, lambda e: e.health is DeviceHealth.ONLINE)
        events.seen.clear()
        yield events, monitor
    finally:
        monitor.stop()


def test_insert_and_remove(pcscd: Any, monitored: tuple[Events, CardMonitor]) -> None:
    events, monitor = monitored
    reader = pcscd.reader_names[0]
    pcscd.card.insert("ssc2")
    ins = events.wait_for(CardInserted, lambda e: e.device == reader)
    assert ins.atr.startswith("3B6D0000")
    assert monitor.card_in(reader)
    pcscd.card.remove()
    events.wait_for(CardRemoved, lambda e: e.device == reader)


def test_sink_errors_do_not_kill_the_monitor(card_slot: Any, card_settings: CardSettings) -> None:
    events = Events()
    calls = []

    def bad_sink(ev: DeviceEvent) -> None:
        calls.append(ev)
        events(ev)
        if isinstance(ev, CardInserted):
            raise RuntimeError("sink bug")

    monitor = CardMonitor(bad_sink, card_settings)
    monitor.start()
    try:
        card_slot.card.insert("ssc2")
        events.wait_for(CardInserted)
        card_slot.card.remove()
        events.wait_for(CardRemoved)
        assert any(isinstance(c, CardInserted) for c in calls)
    finally:
        monitor.stop()


def test_survives_pcscd_restart(pcscd: Any, monitored: tuple[Events, CardMonitor]) -> None:
    events, monitor = monitored
    reader = pcscd.reader_names[0]
    pcscd.card.insert("ssc2")
    events.wait_for(CardInserted, lambda e: e.device == reader)
    pcscd.restart()
    events.wait_for(CardRemoved, lambda e: e.device == reader)
    events.wait_for(ReaderRemoved, lambda e: e.device == reader)
    events.wait_for(DeviceHealthChanged, lambda e: e.health is DeviceHealth.OFFLINE)
    events.wait_for(ReaderAdded, lambda e: e.device == reader)
    events.wait_for(DeviceHealthChanged, lambda e: e.health is DeviceHealth.ONLINE)
    events.wait_for(CardInserted, lambda e: e.device == reader)
    assert monitor.restarts >= 1


def test_readers_vanish_and_return(pcscd: Any, monitored: tuple[Events, CardMonitor]) -> None:
    events, monitor = monitored
    reader = pcscd.reader_names[0]
    try:
        pcscd.stop_pcscd()
        events.wait_for(DeviceHealthChanged, lambda e: e.health is DeviceHealth.OFFLINE)
        pcscd.start_pcscd(with_vpcd=False)
        events.wait_for(DeviceHealthChanged, lambda e: e.health is DeviceHealth.NO_DEVICE)
        assert monitor.health is DeviceHealth.NO_DEVICE
    finally:
        pcscd.stop_pcscd()
        pcscd.start_pcscd(with_vpcd=True)
    events.wait_for(ReaderAdded, lambda e: e.device == reader)
    events.wait_for(DeviceHealthChanged, lambda e: e.health is DeviceHealth.ONLINE)
    pcscd.card.insert("ssc2")
    events.wait_for(CardInserted, lambda e: e.device == reader)


def test_health_changes_posted_once(pcscd: Any, monitored: tuple[Events, CardMonitor]) -> None:
    events, _ = monitored
    pcscd.card.insert("ssc2")
    events.wait_for(CardInserted)
    pcscd.card.remove()
    events.wait_for(CardRemoved)
    health = [e for e in events.seen if isinstance(e, DeviceHealthChanged)]
    assert health == []  # ONLINE was consumed by the fixture; card moves change no health
