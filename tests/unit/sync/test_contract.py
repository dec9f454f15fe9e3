"""The contract leaf: topics, versions N-1 and N, schemas of every RPC method and command."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.contract import (
    ACCEPTED_VERSIONS,
    COMMAND_ARGS,
    CONTRACT_VERSION,
    RPC_SCHEMAS,
    Channel,
    CommandName,
    ContractError,
    OutboxSends,
    RpcMethod,
    StatusMessage,
    Telemetry,
    decode,
    encode,
    parse_topic,
    shared_filter,
    topic,
)


def test_versions_n_minus_1_and_n_are_accepted() -> None:
    assert {CONTRACT_VERSION - 1, CONTRACT_VERSION} == ACCEPTED_VERSIONS
    base = {"msg_id": "m-00000001", "terminal_id": "SSK-1", "boot_id": "b", "seq": 1, "wall": 1}
    for v in ACCEPTED_VERSIONS:
        assert decode(StatusMessage, {**base, "v": v, "state": "online"}).v == v
    with pytest.raises(ContractError) as e:
        decode(StatusMessage, {**base, "v": CONTRACT_VERSION + 1, "state": "online"})
    assert e.value.reason == "version"


def test_topics_round_trip_and_shared_filters() -> None:
    for ch in Channel:
        assert parse_topic(topic("SSK-DEMO-0001", ch)) == ("SSK-DEMO-0001", ch)
    assert shared_filter(Channel.EVENTS) == "$share/central/ssk/v1/+/events"
    assert parse_topic("ssk/v1/SSK-1/nope") is None
    with pytest.raises(ValueError):
        topic("../#", Channel.CMD)


@given(st.text(max_size=80))
def test_parse_topic_never_raises(name: str) -> None:
    parse_topic(name)


def test_every_method_and_command_has_a_schema() -> None:
    assert set(RPC_SCHEMAS) == set(RpcMethod)
    assert set(COMMAND_ARGS) == set(CommandName)


def test_encode_decode_round_trip() -> None:
    msg = StatusMessage(
        msg_id="m-00000001",
        terminal_id="SSK-1",
        boot_id="b",
        seq=1,
        wall=2.0,
        state="online",  # type: ignore[arg-type]
    )
    assert decode(StatusMessage, encode(msg)) == msg


def test_telemetry_send_counts_are_optional_for_older_kiosks() -> None:
    base = {
        "msg_id": "m-00000002",
        "terminal_id": "SSK-1",
        "boot_id": "b",
        "seq": 1,
        "wall": 1,
        "software_version": "s",
        "uptime_s": 1.0,
    }
    for v in ACCEPTED_VERSIONS:  # a report from before the field: still valid, None
        assert decode(Telemetry, {**base, "v": v}).outbox_sends is None
    sends = {"published": 12, "resent": 5, "receipted": 7}
    report = decode(Telemetry, {**base, "outbox_sends": sends})
    assert report.outbox_sends == OutboxSends(**sends)
    assert decode(Telemetry, encode(report)) == report
    with pytest.raises(ContractError):
        decode(Telemetry, {**base, "outbox_sends": {**sends, "resent": -1}})
    with pytest.raises(ContractError):
        decode(Telemetry, {**base, "outbox_sends": {**sends, "lost": 1}})
