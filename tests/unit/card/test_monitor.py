"""CardMonitor's supervisor with a fake PC/SC layer: health posted once per change, events on
card and reader moves, restart with backoff after pcscd goes away, sink errors swallowed."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from smartcard import scard as real_scard

from drivers.card import monitor as monitor_module
from drivers.card.monitor import CardMonitor
from drivers.card.reader import PNP
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


class FakeScard:
    """Just enough of smartcard.scard: pcscd up/down, one reader, a card in or out."""

    def __init__(self) -> None:
        self.down = True
        self.readers = ["Fake Reader 00"]
        self.card = False
        self.establish_calls = 0
        self.lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(real_scard, name)  # constants

    def SCardEstablishContext(self, scope: int) -> tuple[int, int]:  # noqa: N802
        self.establish_calls += 1
        return (real_scard.SCARD_E_NO_SERVICE, 0) if self.down else (real_scard.SCARD_S_SUCCESS, 7)

    def SCardReleaseContext(self, ctx: int) -> int:  # noqa: N802
        return 0

    def SCardCancel(self, ctx: int) -> int:  # noqa: N802
        return 0

    def SCardListReaders(self, ctx: int, groups: list[str]) -> tuple[int, list[str]]:  # noqa: N802
        if self.down:
            return real_scard.SCARD_E_NO_SERVICE, []
        if not self.readers:
            return real_scard.SCARD_E_NO_READERS_AVAILABLE, []
        return real_scard.SCARD_S_SUCCESS, list(self.readers)

    def SCardGetStatusChange(  # noqa: N802
        self, ctx: int, timeout_ms: int, states: list[tuple[str, int]]
    ) -> tuple[int, list[tuple[str, int, list[int]]]]:
        time.sleep(0.005)
        if self.down:
            return real_scard.SCARD_E_NO_SERVICE, []
        out = []
        changed = False
        for name, current in states:
            if name == PNP:
                now = len(self.readers) << 16
            else:
                now = real_scard.SCARD_STATE_PRESENT if self.card else real_scard.SCARD_STATE_EMPTY
            if now != current:
                changed = True
            out.append(
                (name, now | real_scard.SCARD_STATE_CHANGED, [0x3B, 0x6D] if self.card else [])
            )
        return (real_scard.SCARD_S_SUCCESS, out) if changed else (real_scard.SCARD_E_TIMEOUT, [])


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeScard:
    f = FakeScard()
    monkeypatch.setattr(monitor_module, "scard", f)
    return f


class Sink:
    def __init__(self, fail_on: type[DeviceEvent] | None = None) -> None:
        self.q: queue.Queue[DeviceEvent] = queue.Queue()
        self.fail_on = fail_on
        self.all: list[DeviceEvent] = []

    def __call__(self, ev: DeviceEvent) -> None:
        self.all.append(ev)
        self.q.put(ev)
        if self.fail_on is not None and isinstance(ev, self.fail_on):
            raise RuntimeError("sink bug")

    def next(self) -> DeviceEvent:
        return self.q.get(timeout=10)


SETTINGS = CardSettings(
    monitor_poll_s=0.01, monitor_backoff_initial_s=0.01, monitor_backoff_max_s=0.02
)


@pytest.fixture
def started(fake: FakeScard) -> Iterator[tuple[FakeScard, Sink, CardMonitor]]:
    sink = Sink(fail_on=CardInserted)
    mon = CardMonitor(sink, SETTINGS, name="reader")
    mon.start()
    try:
        yield fake, sink, mon
    finally:
        mon.stop()


def test_offline_once_then_online_and_card_moves(
    started: tuple[FakeScard, Sink, CardMonitor],
) -> None:
    fake, sink, mon = started
    first = sink.next()
    assert isinstance(first, DeviceHealthChanged) and first.health is DeviceHealth.OFFLINE
    while fake.establish_calls < 3:  # several failed attempts, still one OFFLINE event
        time.sleep(0.01)
    fake.down = False
    assert isinstance(sink.next(), ReaderAdded)
    online = sink.next()
    assert isinstance(online, DeviceHealthChanged) and online.health is DeviceHealth.ONLINE
    fake.card = True
    ins = sink.next()
    assert isinstance(ins, CardInserted) and ins.atr == "3B6D"  # the sink raised: swallowed
    fake.card = False
    assert isinstance(sink.next(), CardRemoved)
    fake.card = True
    assert isinstance(sink.next(), CardInserted)
    # pcscd dies: the card and the reader go, health OFFLINE, then everything comes back.
    fake.down = True
    assert [type(sink.next()) for _ in range(3)] == [
        CardRemoved,
        ReaderRemoved,
        DeviceHealthChanged,
    ]
    assert mon.health is DeviceHealth.OFFLINE
    fake.down = False
    assert [type(sink.next()) for _ in range(3)] == [ReaderAdded, DeviceHealthChanged, CardInserted]
    assert mon.restarts >= 2
    offline = [
        e
        for e in sink.all
        if isinstance(e, DeviceHealthChanged) and e.health is DeviceHealth.OFFLINE
    ]
    assert len(offline) == 2


def test_no_reader_is_no_device(started: tuple[FakeScard, Sink, CardMonitor]) -> None:
    fake, sink, _ = started
    fake.readers = []
    fake.down = False
    while True:
        ev = sink.next()
        if isinstance(ev, DeviceHealthChanged) and ev.health is DeviceHealth.NO_DEVICE:
            break
    fake.readers = ["Fake Reader 00"]
    assert isinstance(sink.next(), ReaderAdded)
    ev = sink.next()
    assert isinstance(ev, DeviceHealthChanged) and ev.health is DeviceHealth.ONLINE
