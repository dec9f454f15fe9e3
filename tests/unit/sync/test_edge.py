"""Edge checks as data: hostile inbound messages are rejected with a reason, never a crash."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.clock import FakeClock
from kiosk.contract import MAX_PAYLOAD_BYTES, Channel, Command, EventReceipt, encode, topic
from kiosk.sync.edge import Accepted, InboundGuard, Rejected, Router
from kiosk.sync.transport import InboundMessage

TID = "SSK-T-0001"
CLOCK = FakeClock()
NOW = CLOCK.wall()


def guard(seen: set[str] | None = None) -> InboundGuard:
    known = seen or set()
    return InboundGuard(TID, CLOCK, command_max_age_s=3600, seen_command=known.__contains__)


def cmd(**over: Any) -> bytes:
    data: dict[str, Any] = {
        "command_id": "cmd-00000001",
        "name": "ping",
        "args": {},
        "issued_at": NOW - 1,
        "expires_at": NOW + 60,
    }
    data.update(over)
    return json.dumps(data).encode()


def at(channel: Channel, payload: bytes, terminal: str = TID, **kw: Any) -> InboundMessage:
    return InboundMessage(topic(terminal, channel), payload, **kw)


CASES = [
    ("bad_json", at(Channel.CMD, b"{not json")),
    ("bad_json", at(Channel.CMD, b"\xff\xfe")),
    ("schema", at(Channel.CMD, b"[1, 2]")),
    ("schema", at(Channel.CMD, cmd(command_id=None))),
    ("schema", at(Channel.CMD, cmd(surprise=1))),
    ("version", at(Channel.CMD, cmd(v=99))),
    ("too_large", at(Channel.CMD, b" " * (MAX_PAYLOAD_BYTES + 1))),
    ("expired", at(Channel.CMD, cmd(expires_at=NOW - 1))),
    ("stale", at(Channel.CMD, cmd(issued_at=NOW - 7200))),
    ("replayed", at(Channel.CMD, cmd(command_id="cmd-seen-0001"))),
    ("unknown_command", at(Channel.CMD, cmd(name="format_disk"))),
    ("schema", at(Channel.CMD, cmd(name="maintenance", args={"enabled": "maybe"}))),
    ("schema", at(Channel.CMD, cmd(name="ping", args={"x": 1}))),
    ("retained", at(Channel.CMD, cmd(), retain=True)),
    ("topic", at(Channel.CMD, cmd(), terminal="SSK-OTHER-01")),
    ("topic", at(Channel.EVENTS, cmd())),
    ("topic", InboundMessage("elsewhere/cmd", cmd())),
    (
        "correlation",
        at(
            Channel.RPC_RESPONSE,
            b'{"request_id":"r-1","ok":true,"result":{}}',
            correlation=b"r-2",
        ),
    ),
]


@pytest.mark.parametrize(
    ("reason", "msg"), CASES, ids=[f"{r}-{i}" for i, (r, _) in enumerate(CASES)]
)
def test_hostile_inbound_is_rejected_with_a_reason(reason: str, msg: InboundMessage) -> None:
    g = guard({"cmd-seen-0001"})
    verdict = g.check(msg)
    assert isinstance(verdict, Rejected) and verdict.reason == reason
    assert g.rejections[reason] == 1


def test_a_valid_command_and_receipt_pass() -> None:
    g = guard()
    ok = g.check(at(Channel.CMD, cmd(name="maintenance", args={"enabled": True})))
    assert isinstance(ok, Accepted) and isinstance(ok.message, Command)
    receipt = encode(EventReceipt(msg_id="m-00000001", outcome="accepted"))  # type: ignore[arg-type]
    ok2 = g.check(at(Channel.EVENT_RECEIPT, receipt))
    assert isinstance(ok2, Accepted) and ok2.channel is Channel.EVENT_RECEIPT


def test_the_router_never_raises_even_when_a_handler_does() -> None:
    seen: list[str] = []

    def boom(_: Accepted) -> None:
        raise RuntimeError("handler bug")

    router = Router(
        guard(),
        {Channel.CMD: boom, Channel.RPC_RESPONSE: boom, Channel.EVENT_RECEIPT: boom},
        on_rejected=lambda m, r: seen.append(r.reason),
    )
    router.dispatch(at(Channel.CMD, cmd()))
    router.dispatch(at(Channel.CMD, b"garbage"))
    assert seen == ["bad_json"]


def test_the_route_table_must_cover_every_inbound_channel() -> None:
    with pytest.raises(ValueError):
        Router(guard(), {Channel.CMD: lambda a: None})


@settings(max_examples=300, deadline=None)
@given(payload=st.binary(max_size=2048), channel=st.sampled_from(list(Channel)))
def test_arbitrary_bytes_never_crash_the_guard(payload: bytes, channel: Channel) -> None:
    verdict = guard().check(at(channel, payload))
    assert isinstance(verdict, (Accepted, Rejected))
