"""The staff desk (pure): alert and journey events parsed from the wire, de-duplicated,
acknowledged once; other business events (which may carry personal data) are dropped."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from central.fleet.desk import StaffDesk
from central.fleet.messages import AlertUpdate, JourneyUpdate, UnusableMessageError, parse_message
from kiosk.contract import BusinessEvent, EventKind, encode

TOPIC = "ssk/v1/k-001/events"


class Clock:
    def __init__(self) -> None:
        self.t = 1_000.0

    def monotonic(self) -> float:
        return self.t

    def wall(self) -> float:
        return self.t + 1_790_000_000


def event(
    kind: EventKind, data: dict[str, Any], terminal: str = "k-001", msg_id: str = ""
) -> bytes:
    return encode(
        BusinessEvent(
            msg_id=msg_id or str(uuid.uuid4()),
            terminal_id=terminal,
            boot_id="b",
            seq=1,
            wall=5.0,
            kind=kind,
            data=data,
        )
    )


def test_alerts_and_journeys_parse_and_other_kinds_are_dropped() -> None:
    alert = parse_message(
        TOPIC,
        event(
            EventKind.STAFF_ALERT,
            {"alert_id": "a" * 12, "reason": "card_left", "step": "take_card"},
        ),
    )
    assert alert == ("k-001", AlertUpdate("a" * 12, "card_left", "take_card", "", "", 5.0))
    parsed = parse_message(
        TOPIC,
        event(
            EventKind.SESSION_STATS,
            {"service": "inquiry", "outcome": "failed", "reason": "offline"},
            msg_id="m" * 10,
        ),
    )
    assert parsed == ("k-001", JourneyUpdate("m" * 10, "inquiry", "failed", "offline", 0.0))
    assert (
        parse_message(TOPIC, event(EventKind.APPLICATION, {"id_number": "11010519491231002X"}))
        is None
    )


@pytest.mark.parametrize(
    "payload",
    [
        event(EventKind.STAFF_ALERT, {"alert_id": "a" * 12, "reason": "nonsense"}),
        event(EventKind.STAFF_ALERT, {"alert_id": "a" * 12, "reason": "card_left", "name": "x"}),
        event(EventKind.SESSION_STATS, {"service": "inquiry", "outcome": "maybe"}),
        event(
            EventKind.STAFF_ALERT, {"alert_id": "a" * 12, "reason": "card_left"}, terminal="k-002"
        ),
        b"{}",
    ],
)
def test_bad_alert_and_journey_events_are_unusable(payload: bytes) -> None:
    with pytest.raises(UnusableMessageError):
        parse_message(TOPIC, payload)


def test_redeliveries_count_once_and_an_alert_is_acknowledged_once() -> None:
    clock = Clock()
    desk = StaffDesk(clock)
    alert = AlertUpdate("alert-0001", "call_staff", "menu", "hall 1", "site")
    assert desk.apply_alert("k-001", alert) and not desk.apply_alert("k-001", alert)
    journey = JourneyUpdate("msg-00001", "inquiry", "failed", "offline")
    assert desk.apply_journey("k-001", journey) and not desk.apply_journey("k-001", journey)
    assert desk.apply_journey("k-001", JourneyUpdate("msg-00002", "inquiry", "completed"))
    snap = desk.snapshot()
    assert snap["open_alerts"] == 1 and len(snap["alerts"]) == 1
    assert snap["journeys"]["k-001"] == {
        "services": {"inquiry": {"completed": 1, "abandoned": 0, "failed": 1}},
        "failures": {"offline": 1},
    }
    rev = desk.revision
    first = desk.acknowledge("alert-0001", "Li")
    clock.t += 60
    second = desk.acknowledge("alert-0001", "Zhang")
    assert first is not None and second is not None
    assert (second["acked_by"], second["acked"]) == ("Li", first["acked"])  # the first ack holds
    assert desk.revision == rev + 1 and desk.snapshot()["open_alerts"] == 0
    assert desk.acknowledge("unknown-alert", "Li") is None


def test_old_alerts_are_forgotten_beyond_the_bound() -> None:
    desk = StaffDesk(Clock(), alerts_kept=3)
    for i in range(5):
        desk.apply_alert("k-001", AlertUpdate(f"alert-{i:04d}", "call_staff"))
    assert [a["alert_id"] for a in desk.snapshot()["alerts"]] == [
        "alert-0004",
        "alert-0003",
        "alert-0002",
    ]
