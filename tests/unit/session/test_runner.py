"""The effect runner: effects off the caller's thread, results back as events, views out."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from drivers.personal import PinBuffer
from kiosk.clock import FakeClock
from kiosk.session.events import CardInserted, CardRemoved, PinVerified, Tick
from kiosk.session.intents import (
    Choose,
    ChooseService,
    Confirm,
    ConsentGiven,
    EnterPin,
    EnterText,
    Touch,
)
from kiosk.session.runner import SessionRunner
from kiosk.session.view import View
from tests.unit.session.fakes import (
    ADDRESS,
    ID_NUMBER,
    PERSONAL,
    PHONE,
    FakePorts,
    make_policy,
    pin,
)
from tests.unit.session.graph import personal_left


class PortError(RuntimeError):
    code = "sync.rpc_timeout"


@pytest.fixture
def ports() -> FakePorts:
    return FakePorts()


@pytest.fixture
def runner(ports: FakePorts) -> Iterator[SessionRunner]:
    r = SessionRunner(make_policy(), ports.bundle(), FakeClock(), tick_s=0).start()
    yield r
    r.stop()


def drive(r: SessionRunner, *inputs: Any) -> View:
    for inp in inputs:
        r.post(inp)
        assert r.wait_idle(5)
    return r.view


def test_a_query_journey_through_the_runner(runner: SessionRunner, ports: FakePorts) -> None:
    seen: list[str] = []
    runner.subscribe(lambda v: seen.append(v.state))
    view = drive(runner, CardInserted(), Choose("query"), ChooseService("inquiry"),
                 EnterPin(pin()))
    assert view.state == "inquiry" and view.table is not None and view.table.pages == 6
    assert seen[:3] == ["idle", "reading_card", "menu"]
    assert "verifying_pin" in seen and seen[-1] == "inquiry"
    assert [c[0] for c in ports.calls][:3] == ["read_card", "verify_pin", "open_session"]


def test_effects_run_on_worker_threads(ports: FakePorts) -> None:
    names: dict[str, str] = {}
    original = ports.read_card

    def read_card() -> Any:
        names["card"] = threading.current_thread().name
        return original()

    ports.read_card = read_card  # type: ignore[method-assign]
    record = ports.record

    def on_record(*a: Any) -> None:
        names["outbox"] = threading.current_thread().name
        record(*a)

    ports.record = on_record  # type: ignore[method-assign, assignment]
    with SessionRunner(make_policy(), ports.bundle(), FakeClock(), tick_s=0) as r:
        drive(r, CardInserted(), CardRemoved())
    assert names["card"].startswith("session-devices")
    assert names["outbox"].startswith("session-journal")
    assert threading.current_thread().name not in names.values()


def test_a_blocked_device_never_blocks_the_caller(ports: FakePorts) -> None:
    ports.gate = threading.Event()
    with SessionRunner(make_policy(), ports.bundle(), FakeClock(), tick_s=0) as r:
        r.post(CardInserted())
        r.post(Touch())  # returns at once although the card read hangs
        assert not r.wait_idle(0.2)
        assert r.view.state == "reading_card"
        ports.gate.set()
        assert r.wait_idle(5) and r.view.state == "menu"


def test_a_failing_port_becomes_the_citizen_s_error(runner: SessionRunner,
                                                    ports: FakePorts) -> None:
    def broken(*a: Any) -> Any:
        raise PortError("broker gone")

    ports.overrides["open_session"] = broken
    view = drive(runner, CardInserted(), Choose("query"), ChooseService("inquiry"),
                 EnterPin(pin()))
    assert view.state == "result" and view.error is not None
    assert view.error.code == "sync.rpc_timeout"
    assert view.error.message.key == "error.no_answer"
    assert runner.failures == 1
    assert drive(runner, Confirm()).state == "take_card"  # the runner lives on


def test_pin_is_wiped_even_when_the_card_port_raises(runner: SessionRunner,
                                                     ports: FakePorts) -> None:
    def broken(p: PinBuffer) -> Any:
        raise PortError("reader gone")

    ports.overrides["verify_pin"] = broken
    buf = pin()
    drive(runner, CardInserted(), Choose("query"), ChooseService("inquiry"), EnterPin(buf))
    assert len(buf) == 0
    assert runner.view.error is not None


def test_pin_change_repeat_mismatch_is_caught_by_the_runner(runner: SessionRunner,
                                                            ports: FakePorts) -> None:
    drive(runner, CardInserted(), Choose("card"), ChooseService("pin_change"), EnterPin(pin()))
    old, new, repeat = pin(b"123456"), pin(b"654321"), pin(b"654320")
    view = drive(runner, EnterPin(old), EnterPin(new), EnterPin(repeat))
    assert view.state == "pin_change_old" and view.error is not None
    assert view.error.code == "pin_mismatch"
    assert "change_pin" not in [c[0] for c in ports.calls]
    assert (len(old), len(new), len(repeat)) == (0, 0, 0)
    old, new, repeat = pin(b"123456"), pin(b"654321"), pin(b"654321")
    view = drive(runner, EnterPin(old), EnterPin(new), EnterPin(repeat))
    assert view.title.key == "result.pin_changed"
    assert (len(old), len(new), len(repeat)) == (0, 0, 0)


def test_activation_progress_reaches_subscribers_and_nothing_personal_remains(
    runner: SessionRunner, ports: FakePorts
) -> None:
    fractions: list[float] = []

    def on_view(v: View) -> None:
        if v.progress is not None and v.progress.fraction is not None:
            fractions.append(v.progress.fraction)

    runner.subscribe(on_view)
    drive(runner, CardInserted(), Choose("card"), ChooseService("activation"), EnterPin(pin()),
          EnterText("id_number", ID_NUMBER), CardRemoved(), CardInserted(), CardRemoved(),
          CardInserted(), EnterText("phone", PHONE), EnterText("address", ADDRESS), Confirm(),
          EnterPin(pin()), ConsentGiven())
    assert runner.view.state == "confirm"
    # The search can fail: mid-session the runner's graph holds the holder and the form.
    assert set(personal_left([runner], PERSONAL, skip=[ports])) == set(PERSONAL)
    view = drive(runner, Confirm())
    assert view.title.key == "result.activated"
    assert fractions[-4:] == [0.25, 0.5, 0.75, 1.0]
    drive(runner, CardRemoved())
    assert runner.view.state == "idle"
    assert personal_left([runner], PERSONAL, skip=[ports]) == []
    assert ports.forgotten >= 1  # WipePersonalData reached the ports


def test_post_is_thread_safe(runner: SessionRunner) -> None:
    drive(runner, CardInserted())

    def spam() -> None:
        for _ in range(200):
            runner.post(Touch())
            runner.post(Tick(0.0))

    threads = [threading.Thread(target=spam) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert runner.wait_idle(10)
    assert runner.view.state == "menu"


def test_views_queue_and_unsubscribe(runner: SessionRunner) -> None:
    q = runner.views()
    assert q.get(timeout=1).state == "idle"
    got: list[str] = []
    unsubscribe = runner.subscribe(lambda v: got.append(v.state))
    drive(runner, CardInserted())
    unsubscribe()
    drive(runner, CardRemoved())
    assert got == ["idle", "reading_card", "menu"]
    states = []
    while not q.empty():
        states.append(q.get_nowait().state)
    assert states == ["reading_card", "menu", "idle"]


def test_stats_for_telemetry(runner: SessionRunner) -> None:
    drive(runner, CardInserted(), Choose("query"), ChooseService("inquiry"), EnterPin(pin()),
          CardRemoved())
    stats = runner.stats()
    assert stats["journeys"]["inquiry"] == {"started": 1, "completed": 1}
    assert stats["sessions"]["card_removed"] == 1
    from kiosk.contract import Telemetry

    counters = runner.telemetry_counters()
    assert counters == {"sessions": 1, "errors": {}}
    assert set(counters) <= set(Telemetry.model_fields)


def test_stray_answer_after_the_end_is_ignored(runner: SessionRunner) -> None:
    drive(runner, CardInserted(), CardRemoved(), PinVerified())
    assert runner.view.state == "idle"


def test_ticks_come_from_the_clock(ports: FakePorts) -> None:
    clock = FakeClock()
    with SessionRunner(make_policy(), ports.bundle(), clock, tick_s=0.01) as r:
        drive(r, CardInserted())
        clock.advance(make_policy().session.answer_s + 1)
        for _ in range(200):
            if r.view.state != "menu":
                break
            threading.Event().wait(0.01)
        assert r.wait_idle(5)
        assert r.view.state == "take_card"


def test_without_a_printer_printing_is_not_offered(ports: FakePorts) -> None:
    from dataclasses import replace

    bundle = replace(ports.bundle(), printer=None)
    with SessionRunner(make_policy(), bundle, FakeClock(), tick_s=0) as r:
        view = drive(r, CardInserted(), Choose("query"), ChooseService("certificate"),
                     EnterPin(pin()))
        assert view.state == "certificate" and "print" not in {c.id for c in view.choices}
        assert view.qr  # the QR code remains
