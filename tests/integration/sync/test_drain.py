"""Outbox drain against a real mosquitto: receipts, exactly once across a broker outage."""

from __future__ import annotations

import time

from kiosk.contract import EventKind
from kiosk.journal import DataClass
from tests.fixtures.broker import Broker
from tests.fixtures.sync_central import MiniCentral
from tests.integration.sync.conftest import Factory


def wait_until(predicate: object, timeout: float = 30.0, step: float = 0.02) -> bool:
    """Poll `predicate` until true (a correctness wait, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(step)
    return bool(predicate())  # type: ignore[operator]


def test_events_are_finished_only_by_the_central_receipt(
    make_sync: Factory, mini_central: MiniCentral
) -> None:
    sync, journal = make_sync()
    assert sync.transport.wait_connected(10)  # type: ignore[attr-defined]
    ids = [
        journal.enqueue_event(EventKind.CONSENT, {"n": i}, DataClass.PERSONAL) for i in range(20)
    ]
    sync.wake()
    assert wait_until(lambda: journal.stats().depth == 0)
    assert set(mini_central.applied) == set(ids)
    assert all(n == 1 for n in mini_central.applied.values())
    assert [e.data["n"] for e in mini_central.events] == list(range(20))  # order kept
    assert all(journal.row_state(i) == ("done", None) for i in ids)


def test_permanent_rejection_moves_the_row_to_dead_with_its_reason(
    make_sync: Factory, mini_central: MiniCentral
) -> None:
    mini_central.reject_kinds.add("application")
    sync, journal = make_sync()
    bad = journal.enqueue_event(EventKind.APPLICATION, {"x": 1})
    good = journal.enqueue_event(EventKind.AUDIT, {"x": 2})
    sync.wake()
    assert wait_until(lambda: journal.stats().depth == 0)
    assert journal.row_state(bad) == ("dead", "kind refused")
    assert journal.row_state(good) == ("done", None)
    assert journal.stats().dead == 1


def test_1000_events_made_while_the_broker_is_down_arrive_exactly_once(
    make_sync: Factory, mini_central: MiniCentral, broker: Broker
) -> None:
    sync, journal = make_sync()
    assert sync.transport.wait_connected(10)  # type: ignore[attr-defined]
    broker.kill()
    assert wait_until(lambda: not sync.connected)
    ids = [journal.enqueue_event(EventKind.AUDIT, {"n": i}) for i in range(1000)]
    sync.wake()
    assert journal.stats().depth == 1000
    broker.start()  # same port, same persistence folder
    assert wait_until(lambda: journal.stats().depth == 0, timeout=60)
    assert set(mini_central.applied) == set(ids)
    assert sum(mini_central.applied.values()) == 1000  # each applied once, whatever re-sends


def test_reconnects_after_the_broker_is_killed_and_restarted(
    make_sync: Factory, mini_central: MiniCentral, broker: Broker
) -> None:
    sync, journal = make_sync()
    assert sync.transport.wait_connected(10)  # type: ignore[attr-defined]
    for _ in range(2):
        broker.kill()
        assert wait_until(lambda: not sync.connected)
        broker.start()
        assert sync.transport.wait_connected(20)  # type: ignore[attr-defined]
    counters = sync.counters()
    assert counters["connects"] >= 3 and counters["disconnects"] >= 2
    msg = journal.enqueue_event(EventKind.AUDIT, {"after": "restart"})
    sync.wake()
    assert wait_until(lambda: journal.row_state(msg) == ("done", None))


def test_a_puback_alone_never_finishes_a_row(make_sync: Factory, mini_central: MiniCentral) -> None:
    mini_central.lose_first_delivery = True  # acknowledged by the broker, then lost
    sync, journal = make_sync()
    assert sync.transport.wait_connected(10)  # type: ignore[attr-defined]
    ids = [journal.enqueue_event(EventKind.APPLICATION, {"n": i}) for i in range(5)]
    sync.wake()
    assert wait_until(lambda: all(mini_central.deliveries[i] == 1 for i in ids))
    assert journal.stats().depth == 5  # PUBACKed, but no receipt: still owed
    assert wait_until(lambda: journal.stats().depth == 0)  # re-sent after receipt_timeout_s
    assert all(mini_central.deliveries[i] == 2 for i in ids)
    assert all(mini_central.applied[i] == 1 for i in ids)
    assert sync.counters()["resent"] == 5
