"""parse_message: contract payloads in, typed updates out; anything hostile is one typed error."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from central.fleet.messages import (
    AckUpdate,
    StatusUpdate,
    TelemetryUpdate,
    UnusableMessageError,
    parse_message,
)
from kiosk.contract import MAX_PAYLOAD_BYTES
from tests.fixtures.fleet import ack_payload, status_payload, telemetry_payload


def test_status_is_parsed() -> None:
    parsed = parse_message("ssk/v1/k-001/status", status_payload("k-001", "offline", "b7"))
    assert parsed == ("k-001", StatusUpdate(state="offline", boot_id="b7", version="1.4.2"))


def test_telemetry_is_parsed() -> None:
    payload = telemetry_payload("k-001", outbox_depth=3, errors={"card.removed": 2, "x": 1})
    parsed = parse_message("ssk/v1/k-001/telemetry", payload)
    assert parsed is not None
    tid, update = parsed
    assert tid == "k-001" and isinstance(update, TelemetryUpdate)
    assert (update.backlog, update.errors, update.health["camera"]) == (3, 3, "online")


def test_ack_is_parsed() -> None:
    parsed = parse_message(
        "ssk/v1/k-001/cmd/ack", ack_payload("k-001", "c-12345678", "failed", "disk full")
    )
    assert parsed == ("k-001", AckUpdate("c-12345678", "failed", "disk full"))


def test_other_channels_and_cleared_status_are_ignored() -> None:
    assert parse_message("ssk/v1/k-001/rpc/request", b"{}") is None
    assert parse_message("ssk/v1/k-001/status", b"") is None


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("ssk/v1/k-001/status", b"{not json", "bad_json"),
        ("ssk/v1/k-001/status", b"[1,2]", "schema"),
        ("ssk/v1/k-001/status", b'{"state":"online"}', "schema"),
        ("ssk/v1/k-001/telemetry", json.dumps({"v": 99}).encode(), "version"),
        ("ssk/v1/k-001/telemetry", b" " * (MAX_PAYLOAD_BYTES + 1), "too_large"),
        ("ssk/v1/k-001/telemetry", b"\xff\xfe", "bad_json"),
    ],
)
def test_malformed_payloads_name_the_terminal_and_reason(
    topic: str, payload: bytes, reason: str
) -> None:
    with pytest.raises(UnusableMessageError) as e:
        parse_message(topic, payload)
    assert e.value.terminal_id == "k-001" and e.value.message.startswith(reason)


def test_a_terminal_may_not_speak_for_another() -> None:
    with pytest.raises(UnusableMessageError) as e:
        parse_message("ssk/v1/k-001/status", status_payload("k-002", "online"))
    assert "terminal_id" in e.value.message


@pytest.mark.parametrize("topic", ["other/k-001/status", "ssk/v1/<script>/status", "ssk/v1/"])
def test_bad_topics_are_rejected_without_a_terminal(topic: str) -> None:
    with pytest.raises(UnusableMessageError) as e:
        parse_message(topic, b"{}")
    assert e.value.terminal_id is None


@given(st.binary(max_size=512), st.sampled_from(["status", "telemetry", "cmd/ack", "events"]))
def test_arbitrary_bytes_never_raise_anything_else(payload: bytes, channel: str) -> None:
    with contextlib.suppress(UnusableMessageError):
        parse_message(f"ssk/v1/k-001/{channel}", payload)


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "state",
                "boot_id",
                "terminal_id",
                "msg_id",
                "seq",
                "wall",
                "v",
                "devices",
                "outbox_depth",
                "status",
                "command_id",
                "uptime_s",
            ]
        ),
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats()
        | st.text(max_size=20)
        | st.lists(st.integers(), max_size=3)
        | st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
    ),
    st.sampled_from(["status", "telemetry", "cmd/ack"]),
)
def test_json_of_any_shape_never_raises_anything_else(
    data: dict[str, object], channel: str
) -> None:
    with contextlib.suppress(UnusableMessageError):
        parse_message(f"ssk/v1/k-001/{channel}", json.dumps(data).encode())
