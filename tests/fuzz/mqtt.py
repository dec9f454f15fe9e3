"""MQTT entry points, both ends: the kiosk's inbound guard, the central's decode with what it
does next (telemetry flushed to SQLite, events recorded in the ledger, the msg_id probe that
answers a rejected message), and the fleet monitor's parser. Seeds are valid messages."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from central.config import LedgerConfig
from central.fleet.messages import UnusableMessageError, parse_message
from central.ingest import TelemetryIngest
from central.ledger import Ledger
from central.storage import Storage
from central.worker import _msg_id_of
from kiosk.clock import FakeClock
from kiosk.contract import (
    CENTRAL_STATUS_TOPIC,
    BusinessEvent,
    Channel,
    CommandAck,
    ContractError,
    RpcRequest,
    StatusMessage,
    Telemetry,
    decode,
    encode,
    topic,
)
from kiosk.sync.edge import InboundGuard, Rejected
from kiosk.sync.transport import InboundMessage
from tests.fuzz.target import EscapeError, Target

__all__ = ["mqtt_targets"]

TID = "SSK-FUZZ-0001"
CLOCK = FakeClock()
NOW = CLOCK.wall()
TOKENS = [
    b"[",
    b"{",
    b'{"a":',
    b"]",
    b"}",
    b'"',
    b",",
    b":",
    b"9" * 25,
    b"9" * 5000,
    b"-",
    b"9223372036854775808",
    b"1e999",
    b"NaN",
    b"-Infinity",
    b"\\ud800",
    b"\\udfff",
    b"\\u0000",
    b"\xed\xa0\x80",
    b"\xff",
    b"null",
    b"true",
    b"0.5",
    b'"seq":',
    b'"amount_cents":',
    b'"v":',
    b'"data":',
    b'"params":',
    b'"result":',
    b'"msg_id":',
    b"\xe4\xb8\xad",
]


def _envelope(seq: int = 1) -> dict[str, Any]:
    return {
        "v": 2,
        "msg_id": f"m-{seq:08d}-fuzz",
        "terminal_id": TID,
        "boot_id": "boot-1",
        "seq": seq,
        "mono": 1.0,
        "wall": NOW,
        "clock_synced": True,
    }


def _json(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


INBOUND_SEEDS = [
    _json(
        {
            "command_id": "cmd-00000001",
            "name": "ping",
            "args": {},
            "issued_at": NOW - 1,
            "expires_at": NOW + 60,
        }
    ),
    _json(
        {
            "command_id": "cmd-00000002",
            "name": "set_config",
            "args": {"key": "telemetry.interval_s", "value": 30},
            "issued_at": NOW - 1,
            "expires_at": NOW + 60,
        }
    ),
    _json(
        {
            "request_id": "m-00000001-fuzz",
            "ok": True,
            "server_wall": NOW,
            "result": {"payment_key": "k-00000001", "state": "accepted", "amount_cents": 1200},
        }
    ),
    _json(
        {
            "request_id": "m-00000002-fuzz",
            "ok": False,
            "result": None,
            "error": {"code": "internal", "message": "retry", "permanent": False},
        }
    ),
    _json({"msg_id": "m-00000003-fuzz", "outcome": "accepted", "permanent": True}),
    _json({**_envelope(), "terminal_id": "central", "state": "online", "started_wall": NOW}),
]
OUTBOUND_SEEDS = [
    _json(
        {
            **_envelope(2),
            "software_version": "1.0",
            "uptime_s": 12.5,
            "devices": {"card": "healthy"},
            "errors": {"card.removed": 2},
            "outbox_depth": 3,
        }
    ),
    _json({**_envelope(3), "kind": "audit", "data": {"what": "session", "n": [1, 2, {"x": "中"}]}}),
    _json(
        {
            **_envelope(4),
            "kind": "activation_confirmed",
            "data": {
                "activation_key": "a-00000001",
                "approval_id": "ap-1",
                "record_sha256": "0" * 64,
            },
        }
    ),
    _json(
        {
            **_envelope(5),
            "method": "payment.submit",
            "deadline": NOW + 30,
            "params": {
                "payment_key": "k-00000001",
                "id_number": "110101199003074512",
                "purpose": "utility_bill",
                "reference": "B-1",
                "amount_cents": 1200,
            },
        }
    ),
    _json(
        {
            **_envelope(6),
            "command_id": "cmd-00000001",
            "status": "succeeded",
            "result": {"lines": ["a", "b"]},
        }
    ),
    _json({**_envelope(7), "state": "online", "software_version": "1.0"}),
]
INBOUND_TOPICS = [
    topic(TID, Channel.CMD),
    topic(TID, Channel.RPC_RESPONSE),
    topic(TID, Channel.EVENT_RECEIPT),
    CENTRAL_STATUS_TOPIC,
]
CENTRAL_MODELS: list[type[BaseModel]] = [
    Telemetry,
    BusinessEvent,
    RpcRequest,
    CommandAck,
    StatusMessage,
]
FLEET_CHANNELS = [Channel.TELEMETRY, Channel.STATUS, Channel.CMD_ACK]

_guard = InboundGuard(TID, CLOCK, command_max_age_s=3600, seen_command=lambda _c: False)


def _run_edge(data: bytes) -> None:
    payload = data[1:]
    for name in INBOUND_TOPICS if not data else [INBOUND_TOPICS[data[0] % len(INBOUND_TOPICS)]]:
        verdict = _guard.check(InboundMessage(name, payload))
        if isinstance(verdict, Rejected):
            if verdict.reason == "internal":  # the guard's catch-all: an escape it caught
                raise EscapeError(verdict.detail)
        else:
            encode(verdict.message)


class _Central:
    """The central's storage side, in memory: what a decoded message is bound into."""

    def __init__(self) -> None:
        self.db = Storage("sqlite:///:memory:")
        self.db.create_schema()
        self.ingest = TelemetryIngest()
        self.ledger = Ledger(self.db, LedgerConfig(), clock=lambda: NOW)


_central: _Central | None = None


def _run_central(data: bytes) -> None:
    global _central
    if _central is None:
        _central = _Central()
    model = CENTRAL_MODELS[data[0] % len(CENTRAL_MODELS)] if data else Telemetry
    payload = data[1:]
    try:
        message: BaseModel = decode(model, payload)
    except ContractError:
        _msg_id_of(payload)  # what the worker does next; must not raise either
        raise
    decode(model, encode(message))
    if isinstance(message, Telemetry):
        _central.ingest.ingest(message, NOW)
        dropped = _central.ingest.dropped_rows
        _central.ingest.flush(_central.db)
        if _central.ingest.dropped_rows != dropped:
            raise EscapeError("the contract let through telemetry the database refuses")
    elif isinstance(message, BusinessEvent):
        _central.ledger.record_event(message)


def _run_fleet(data: bytes) -> None:
    channel = FLEET_CHANNELS[data[0] % len(FLEET_CHANNELS)] if data else Channel.TELEMETRY
    parse_message(topic(TID, channel), data[1:])


def mqtt_targets() -> list[Target]:
    edge_seeds = [bytes([i]) + s for i in range(len(INBOUND_TOPICS)) for s in INBOUND_SEEDS]
    central_seeds = [bytes([i]) + s for i in range(len(CENTRAL_MODELS)) for s in OUTBOUND_SEEDS]
    fleet_seeds = [bytes([i]) + s for i in range(len(FLEET_CHANNELS)) for s in OUTBOUND_SEEDS]
    return [
        Target("mqtt.kiosk_edge", _run_edge, (), edge_seeds, TOKENS),
        Target("mqtt.central", _run_central, (ContractError,), central_seeds, TOKENS),
        Target("mqtt.fleet", _run_fleet, (UnusableMessageError,), fleet_seeds, TOKENS),
    ]
