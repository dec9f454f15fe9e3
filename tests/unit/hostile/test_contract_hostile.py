"""Hostile MQTT payloads at the contract: `decode` raises `ContractError` and nothing else,
within bounded depth and size; whatever it accepts `encode` writes and storage can bind."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from kiosk.contract import (
    INT64_MAX,
    MAX_JSON_DEPTH,
    BusinessEvent,
    Command,
    CommandAck,
    ContractError,
    EventReceipt,
    PaymentSubmitParams,
    RpcRequest,
    RpcResponse,
    StatusMessage,
    Telemetry,
    decode,
    encode,
)

BASE: dict[str, Any] = {
    "v": 2,
    "msg_id": "m-00000001",
    "terminal_id": "SSK-1",
    "boot_id": "b",
    "seq": 1,
    "wall": 1.0,
}
TELEMETRY = {**BASE, "software_version": "1.0", "uptime_s": 1.0}


def _reason(payload: bytes | str | dict[str, Any], model: type[BaseModel] = Telemetry) -> str:
    with pytest.raises(ContractError) as e:
        decode(model, payload)
    return e.value.reason


def test_deep_nesting_is_refused_before_parsing() -> None:
    """`[` * 100000 raised RecursionError out of json.loads."""
    assert _reason(b"[" * 100_000 + b"]" * 100_000) == "too_deep"
    deep = '{"a":' * 5000 + "1" + "}" * 5000
    event = json.dumps({**BASE, "kind": "audit"})[:-1] + f', "data": {deep}}}'
    assert _reason(event, BusinessEvent) == "too_deep"


def test_nesting_within_the_bound_is_parsed() -> None:
    inner: Any = 1
    for _ in range(MAX_JSON_DEPTH - 3):
        inner = {"a": inner}
    event = decode(BusinessEvent, json.dumps({**BASE, "kind": "audit", "data": inner}))
    assert event.data["a"]["a"]


def test_brackets_inside_strings_do_not_count() -> None:
    report = decode(Telemetry, json.dumps({**TELEMETRY, "software_version": "[" * 500}))
    assert report.software_version == "[" * 500


@pytest.mark.parametrize("digits", [25, 5000, 100_000])
def test_integers_of_many_digits_are_refused(digits: int) -> None:
    """5000 digits raised ValueError (int max str digits) out of json.loads."""
    payload = json.dumps(TELEMETRY).replace('"seq": 1', '"seq": ' + "9" * digits)
    assert _reason(payload) in ("bad_json", "schema")


@pytest.mark.parametrize("value", [2**63, 2**64 + 5, -(2**63) - 1])
def test_integers_outside_int64_are_refused(value: int) -> None:
    """seq = 2**63 reached the central's storage and raised OverflowError there."""
    assert _reason({**TELEMETRY, "seq": value}) == "schema"
    assert _reason(json.dumps({**TELEMETRY, "seq": value})) in ("bad_json", "schema")
    params = {
        "payment_key": "k-00000001",
        "id_number": "110101199003074512",
        "purpose": "utility_bill",
        "amount_cents": value,
    }
    assert _reason(params, PaymentSubmitParams) == "schema"
    event = {**BASE, "kind": "audit", "data": {"n": [value]}}
    assert _reason(event, BusinessEvent) == "schema"


def test_int64_max_is_still_accepted() -> None:
    assert decode(Telemetry, {**TELEMETRY, "seq": INT64_MAX}).seq == INT64_MAX


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_refused(literal: str) -> None:
    payload = json.dumps(TELEMETRY).replace('"wall": 1.0', f'"wall": {literal}')
    assert _reason(payload) in ("bad_json", "schema")


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "a\\udc00b", "\\ud83d"])
def test_lone_surrogates_are_refused(escape: str) -> None:
    """A lone surrogate decoded fine, then broke `encode` and SQLite binds."""
    payload = json.dumps(TELEMETRY).replace('"1.0"', f'"{escape}"')
    assert _reason(payload) == "schema"
    key_payload = json.dumps({**BASE, "kind": "audit"})[:-1] + f', "data": {{"{escape}": 1}}}}'
    assert _reason(key_payload, BusinessEvent) == "schema"
    assert _reason({**TELEMETRY, "software_version": json.loads(f'"{escape}"')}) == "schema"


def test_surrogate_pairs_and_raw_utf8_are_fine() -> None:
    escaped = json.dumps({**TELEMETRY, "software_version": "1.0 😀"})  # ensure_ascii: a pair
    assert decode(Telemetry, escaped).software_version == "1.0 😀"
    raw = json.dumps({**TELEMETRY, "software_version": "版本 😀"}, ensure_ascii=False)
    assert decode(Telemetry, raw.encode()).software_version == "版本 😀"


def test_encoded_surrogates_in_utf8_bytes_are_bad_json() -> None:
    """json.loads(bytes) decodes with surrogatepass: ED A0 80 became a lone surrogate."""
    raw = json.dumps(TELEMETRY).replace('"1.0"', '"X"').encode().replace(b"X", b"\xed\xa0\x80")
    assert _reason(raw) == "bad_json"


def test_a_str_payload_with_a_lone_surrogate_is_bad_json() -> None:
    text = json.dumps(TELEMETRY, ensure_ascii=False).replace("1.0", "\ud800")
    assert _reason(text) == "bad_json"


def test_strings_are_bounded() -> None:
    assert _reason({**TELEMETRY, "software_version": "x" * 5000}) == "schema"
    assert _reason({**TELEMETRY, "devices": {"camera": "x" * 5000}}) == "schema"


def test_encode_of_an_unchecked_model_is_a_contract_error() -> None:
    bad = Telemetry.model_construct(**{**TELEMETRY, "software_version": "\ud800"})
    with pytest.raises(ContractError) as e:
        encode(bad)
    assert e.value.reason == "unencodable"


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
)
_json = st.recursive(
    _scalars,
    lambda kids: st.one_of(
        st.lists(kids, max_size=4), st.dictionaries(st.text(max_size=8), kids, max_size=4)
    ),
    max_leaves=20,
)
MODELS: list[type[BaseModel]] = [
    Telemetry,
    StatusMessage,
    BusinessEvent,
    RpcRequest,
    RpcResponse,
    EventReceipt,
    Command,
    CommandAck,
]
TEMPLATES: dict[type[BaseModel], dict[str, Any]] = {
    Telemetry: TELEMETRY,
    StatusMessage: {**BASE, "state": "online"},
    BusinessEvent: {**BASE, "kind": "audit", "data": {}},
    RpcRequest: {**BASE, "method": "payment.status", "params": {}, "deadline": 2.0},
    RpcResponse: {"request_id": "r-0000001", "ok": True, "result": {}},
    EventReceipt: {"msg_id": "m-00000001", "outcome": "accepted"},
    Command: {"command_id": "c-0000001", "name": "ping", "issued_at": 1.0, "expires_at": 2.0},
    CommandAck: {**BASE, "command_id": "c-0000001", "status": "accepted"},
}


def _check(model: type[BaseModel], payload: bytes | str | dict[str, Any]) -> None:
    try:
        message = decode(model, payload)
    except ContractError:
        return
    wire = encode(message)  # whatever decode accepts, encode writes ...
    assert decode(model, wire) == message  # ... and reads back the same
    wire.decode("utf-8")


@given(
    model=st.sampled_from(MODELS),
    field=st.one_of(st.text(max_size=12), st.integers(0, 20)),
    value=_json,
)
@settings(max_examples=300)
def test_any_field_value_ends_in_contract_error_or_a_round_trip(
    model: type[BaseModel], field: str | int, value: Any
) -> None:
    """A hostile value in a known field (or a new one) of every inbound message."""
    template = TEMPLATES[model]
    name = field if isinstance(field, str) else list(template)[field % len(template)]
    doc = {**template, name: value}
    _check(model, doc)
    try:
        text = json.dumps(doc, allow_nan=True)
    except (ValueError, TypeError):
        return
    _check(model, text)
    _check(model, text.encode("utf-8", "surrogatepass"))


@given(st.binary(max_size=600))
@settings(max_examples=300)
def test_any_bytes_end_in_contract_error(raw: bytes) -> None:
    for model in MODELS:
        _check(model, raw)
