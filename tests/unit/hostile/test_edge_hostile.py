"""The kiosk's inbound guard and the fleet monitor's parser meet the hostile MQTT classes: a
typed rejection with the contract's reason, never the guard's `internal` catch-all."""

from __future__ import annotations

import json

import pytest

from central.fleet.messages import UnusableMessageError, parse_message
from kiosk.clock import FakeClock
from kiosk.contract import Channel, topic
from kiosk.sync.edge import InboundGuard, Rejected
from kiosk.sync.transport import InboundMessage

TID = "SSK-T-0001"
CLOCK = FakeClock()
NOW = CLOCK.wall()
CMD = json.dumps(
    {
        "command_id": "cmd-00000001",
        "name": "ping",
        "args": {},
        "issued_at": NOW - 1,
        "expires_at": NOW + 60,
    }
)
TELEMETRY = json.dumps(
    {
        "v": 2,
        "msg_id": "m-00000001",
        "terminal_id": TID,
        "boot_id": "b",
        "seq": 1,
        "wall": NOW,
        "software_version": "1.0",
        "uptime_s": 1.0,
    }
)
HOSTILE = [
    ("too_deep", b"[" * 100_000),
    ("too_deep", CMD[:-1].encode() + b', "x": ' + b'{"a":' * 5000 + b"1" + b"}" * 5001),
    ("schema", CMD.replace('"issued_at": ', '"issued_at": ' + "9" * 5000).encode()),
    ("schema", CMD.replace('"args": {}', '"args": {"n": 18446744073709551616}').encode()),
    ("schema", CMD.replace('"ping"', '"\\ud800"').encode()),
    ("bad_json", CMD.replace("ping", "X").encode().replace(b"X", b"\xed\xa0\x80")),
    ("schema", CMD.replace(f"{NOW + 60}", "1e999").encode()),
]


@pytest.mark.parametrize(("reason", "payload"), HOSTILE)
def test_the_kiosk_guard_rejects_with_the_contract_reason(reason: str, payload: bytes) -> None:
    guard = InboundGuard(TID, CLOCK, command_max_age_s=3600, seen_command=lambda _c: False)
    for channel in (Channel.CMD, Channel.RPC_RESPONSE, Channel.EVENT_RECEIPT):
        verdict = guard.check(InboundMessage(topic(TID, channel), payload))
        assert isinstance(verdict, Rejected) and verdict.reason != "internal", verdict
    verdict = guard.check(InboundMessage(topic(TID, Channel.CMD), payload))
    assert isinstance(verdict, Rejected) and verdict.reason == reason, verdict


@pytest.mark.parametrize(
    "payload",
    [
        b"[" * 100_000,
        TELEMETRY.replace('"seq": 1', '"seq": ' + "9" * 5000).encode(),
        TELEMETRY.replace('"seq": 1', f'"seq": {2**63}').encode(),
        TELEMETRY.replace('"1.0"', '"\\udfff"').encode(),
    ],
)
def test_the_fleet_parser_raises_only_its_typed_error(payload: bytes) -> None:
    with pytest.raises(UnusableMessageError) as e:
        parse_message(topic(TID, Channel.TELEMETRY), payload)
    assert e.value.terminal_id == TID
