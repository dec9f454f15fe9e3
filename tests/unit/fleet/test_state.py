"""FleetState: presence, stale, flapping, acks and deltas, with a fake clock."""

from __future__ import annotations

import pytest

from central.fleet.messages import AckUpdate, StatusUpdate, TelemetryUpdate
from central.fleet.state import FleetState
from kiosk.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def state(clock: FakeClock) -> FleetState:
    return FleetState(clock, stale_after_s=30, flap_window_s=60, flap_threshold=3)


def online(boot: str = "b1") -> StatusUpdate:
    return StatusUpdate(state="online", boot_id=boot, version="1.2.3")


def offline(boot: str = "b1") -> StatusUpdate:
    return StatusUpdate(state="offline", boot_id=boot)


def telemetry(**kw: object) -> TelemetryUpdate:
    base: dict[str, object] = {
        "boot_id": "b1",
        "version": "1.2.3",
        "health": {"card_reader": "online", "camera": "online"},
        "backlog": 0,
        "uptime_s": 10.0,
    }
    base.update(kw)
    return TelemetryUpdate(**base)  # type: ignore[arg-type]


def test_birth_then_will_changes_presence_and_counts(state: FleetState) -> None:
    state.apply_status("k-001", online())
    state.apply_status("k-002", online("b9"))
    assert state.counts()["online"] == 2
    state.apply_status("k-002", offline("b9"))
    t = state.get("k-002")
    assert t is not None and t["presence"] == "offline"
    counts = state.counts()
    assert (counts["online"], counts["offline"], counts["total"]) == (1, 1, 2)


def test_will_of_an_earlier_boot_is_ignored(state: FleetState) -> None:
    state.apply_status("k-001", online("boot-2"))
    state.apply_status("k-001", offline("boot-1"))  # late will of the previous process
    t = state.get("k-001")
    assert t is not None and t["presence"] == "online"
    assert state.ignored_wills == 1


def test_silent_online_terminal_turns_stale_and_back(state: FleetState, clock: FakeClock) -> None:
    state.apply_status("k-001", online())
    state.apply_telemetry("k-001", telemetry())
    clock.advance(29)
    assert state.get("k-001")["stale"] is False  # type: ignore[index]
    clock.advance(2)
    assert state.get("k-001")["stale"] is True  # type: ignore[index]
    assert state.counts()["stale"] == 1
    state.apply_telemetry("k-001", telemetry())
    assert state.get("k-001")["stale"] is False  # type: ignore[index]


def test_offline_terminal_is_never_stale(state: FleetState, clock: FakeClock) -> None:
    state.apply_status("k-001", online())
    state.apply_status("k-001", StatusUpdate(state="stopped", boot_id="b1"))
    clock.advance(1000)
    t = state.get("k-001")
    assert t is not None and t["stale"] is False and t["presence"] == "stopped"


def test_flapping_needs_more_than_threshold_transitions_in_window(
    state: FleetState, clock: FakeClock
) -> None:
    state.apply_status("k-001", online())  # first sighting is no transition
    for _ in range(3):
        clock.advance(5)
        state.apply_status("k-001", offline())
        clock.advance(5)
        state.apply_status("k-001", online())
    t = state.get("k-001")
    assert t is not None and t["transitions"] == 6 and t["flapping"] is True
    clock.advance(61)  # the window slides past every transition
    t = state.get("k-001")
    assert t is not None and t["flapping"] is False and t["transitions"] == 0


def test_three_transitions_are_not_flapping(state: FleetState, clock: FakeClock) -> None:
    state.apply_status("k-001", online())
    for s in (offline(), online(), offline()):
        clock.advance(1)
        state.apply_status("k-001", s)
    assert state.get("k-001")["flapping"] is False  # type: ignore[index]


def test_telemetry_fills_health_backlog_and_version(state: FleetState) -> None:
    state.apply_telemetry(
        "k-001",
        telemetry(
            health={"camera": "no_device", "card_reader": "online"},
            backlog=7,
            oldest_unsent_s=42.0,
            version="2.0.0",
        ),
    )
    t = state.get("k-001")
    assert t is not None
    assert (t["presence"], t["health"], t["backlog"], t["version"]) == (
        "online",
        "degraded",
        7,
        "2.0.0",
    )
    assert state.counts()["degraded"] == 1 and state.counts()["backlog"] == 1


def test_historical_telemetry_does_not_overwrite_current_values(state: FleetState) -> None:
    state.apply_telemetry("k-001", telemetry(backlog=0))
    state.apply_telemetry("k-001", telemetry(backlog=99, historical=True))
    assert state.get("k-001")["backlog"] == 0  # type: ignore[index]


def test_ack_states_advance_and_never_regress(state: FleetState) -> None:
    state.apply_status("k-001", online())
    state.record_command("k-001", "c-1", "ping", expires_wall=1e12)
    assert state.apply_ack("k-001", AckUpdate("c-1", "accepted"))
    assert state.apply_ack("k-001", AckUpdate("c-1", "succeeded", "pong"))
    assert state.apply_ack("k-001", AckUpdate("c-1", "accepted"))  # a late redelivery
    cmd = state.get("k-001")["command"]  # type: ignore[index]
    assert (cmd["state"], cmd["detail"]) == ("succeeded", "pong")


def test_ack_for_a_command_not_sent_here_is_ignored(state: FleetState) -> None:
    state.apply_status("k-001", online())
    assert state.apply_ack("k-001", AckUpdate("nope", "succeeded")) is False
    assert state.get("k-001")["command"] is None  # type: ignore[index]


def test_command_without_final_ack_expires(state: FleetState, clock: FakeClock) -> None:
    state.apply_status("k-001", online())
    state.record_command("k-001", "c-1", "ping", expires_wall=clock.wall() + 10)
    state.apply_ack("k-001", AckUpdate("c-1", "accepted"))
    clock.advance(11)
    assert state.get("k-001")["command"]["state"] == "expired"  # type: ignore[index]


def test_only_recent_commands_are_kept(clock: FakeClock) -> None:
    state = FleetState(clock, stale_after_s=30, flap_window_s=60, flap_threshold=3, commands_kept=2)
    state.apply_status("k-001", online())
    for i in range(5):
        state.record_command("k-001", f"c-{i}", "ping", expires_wall=1e12)
    assert state.apply_ack("k-001", AckUpdate("c-0", "succeeded")) is False
    assert state.apply_ack("k-001", AckUpdate("c-4", "succeeded")) is True


def test_record_command_for_unknown_terminal_raises(state: FleetState) -> None:
    with pytest.raises(KeyError):
        state.record_command("k-404", "c-1", "ping", expires_wall=1e12)


def test_delta_returns_only_changes_since_a_revision(state: FleetState) -> None:
    state.apply_status("k-001", online())
    state.apply_status("k-002", online())
    first = state.delta()
    assert first["full"] is True and {t["id"] for t in first["terminals"]} == {"k-001", "k-002"}
    state.apply_telemetry("k-002", telemetry())
    second = state.delta(first["rev"])
    assert second["full"] is False and [t["id"] for t in second["terminals"]] == ["k-002"]
    assert state.delta(second["rev"])["terminals"] == []


def test_turning_stale_is_a_change_in_the_delta(state: FleetState, clock: FakeClock) -> None:
    state.apply_status("k-001", online())
    rev = state.delta()["rev"]
    clock.advance(31)
    d = state.delta(rev)
    assert [t["id"] for t in d["terminals"]] == ["k-001"] and d["terminals"][0]["stale"]


def test_malformed_messages_are_counted_per_terminal(state: FleetState) -> None:
    state.note_malformed("k-001", "bad_json: x")
    state.note_malformed(None, "bad_topic")
    t = state.get("k-001")
    assert t is not None and t["malformed"] == 1 and t["problem"] == "bad_json: x"
    assert state.malformed_total == 2


def test_command_result_is_kept_bounded_and_served_on_request(state: FleetState) -> None:
    state.apply_status("k-001", online())
    state.record_command("k-001", "c-1", "collect_logs", expires_wall=1e12)
    state.record_command("k-001", "c-2", "collect_logs", expires_wall=1e12)
    state.apply_ack("k-001", AckUpdate("c-1", "succeeded", result={"lines": ["a", "b"]}))
    state.apply_ack("k-001", AckUpdate("c-2", "succeeded", result={"lines": ["x" * 200_000]}))
    assert state.command("k-001", "c-1")["result"] == {"lines": ["a", "b"]}  # type: ignore[index]
    assert "dropped" in state.command("k-001", "c-2")["result"]  # type: ignore[index]
    assert "result" not in state.get("k-001")["command"]  # type: ignore[index]
    assert state.command("k-001", "nope") is None
