"""APDU, status word, TLV and BCD codecs: examples from the reference plus hypothesis properties."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.card import apdu, bcd, status, tlv
from drivers.card.errors import (
    AuthenticationFailedError,
    KeyBlockedError,
    PinBlockedError,
    PinNotEnabledError,
    PinWrongError,
    SecurityStatusError,
    StatusWordError,
)
from drivers.vocabulary import ErrorCode

byte = st.integers(0, 255)


def test_select_ssse_matches_reference() -> None:
    cmd = apdu.select_by_name(apdu.SSSE_AID)
    assert cmd.to_bytes().hex().upper() == "00A404000F7378312E73682EC9E7BBE1B1A3D5CF"
    assert "sx1.sh.社会保障".encode("gbk") == apdu.SSSE_AID


def test_reference_builders() -> None:
    assert apdu.select_fid(0xEF05).to_bytes().hex().upper() == "00A4020002EF05"
    assert apdu.select_fid(0xEF05, p1=0).to_bytes().hex().upper() == "00A4000002EF05"
    assert apdu.read_record_by_tag(0x08, 18).to_bytes().hex().upper() == "00B2080014"
    assert apdu.get_response(0x1C).to_bytes().hex().upper() == "00C000001C"
    assert apdu.get_response(256).to_bytes().hex().upper() == "00C0000000"
    assert apdu.verify(bytearray(b"\x12\x34\x56")).to_bytes().hex() == "0020000003123456"
    cmd, body = apdu.change_pin(bytearray(b"\x12\x34\x56"), bytearray(b"\x65\x43\x21"))
    assert cmd.to_bytes().hex().upper() == "805E010007123456FF654321"
    assert body == bytearray.fromhex("123456FF654321")
    assert apdu.get_challenge().to_bytes().hex() == "0084000008"
    assert apdu.external_authenticate(0x0A, b"\x01" * 16).to_bytes()[:5].hex() == "0082000a10"
    assert apdu.read_binary(0x1F0, 0xF0).to_bytes().hex().upper() == "00B001F0F0"


def test_sensitive_describe_hides_lengths() -> None:
    cmd = apdu.verify(bytearray(b"\x12\x34\x56"))
    assert cmd.describe() == "00 20 00 00"
    assert "Le=32" in apdu.read_record(0x09, 0, 0x20).describe()


@given(byte, byte, byte, byte, st.binary(max_size=255), st.one_of(st.none(), st.integers(1, 256)))
def test_command_round_trip(
    cla: int, ins: int, p1: int, p2: int, data: bytes, le: int | None
) -> None:
    cmd = apdu.CommandApdu(cla, ins, p1, p2, data, le)
    assert apdu.CommandApdu.from_bytes(cmd.to_bytes()) == cmd


@given(st.binary(max_size=300))
def test_command_parser_never_crashes(raw: bytes) -> None:
    try:
        cmd = apdu.CommandApdu.from_bytes(raw)
    except apdu.ApduFormatError:
        return
    # Le=256 encodes as 00, so the encoding is canonical: what parses re-encodes identically.
    assert bytes(cmd.to_bytes()) == raw


@given(st.binary(min_size=2, max_size=300))
def test_response_round_trip(raw: bytes) -> None:
    resp = apdu.ResponseApdu.from_bytes(raw)
    assert resp.to_bytes() == raw
    assert resp.sw == int.from_bytes(raw[-2:], "big")


def test_response_too_short() -> None:
    with pytest.raises(apdu.ApduFormatError):
        apdu.ResponseApdu.from_bytes(b"\x90")


# -- status words ------------------------------------------------------------------------------

REFERENCE_SWS = [
    0x6581, 0x6700, 0x6981, 0x6982, 0x6983, 0x6984, 0x6985, 0x6986, 0x6988,
    0x6A80, 0x6A81, 0x6A82, 0x6A83, 0x6A86, 0x6A88, 0x6D00, 0x6E00, 0x9303,
    0x63C2, 0x6C10,
]  # fmt: skip


@pytest.mark.parametrize("sw", REFERENCE_SWS, ids=lambda s: f"{s:04X}")
def test_every_reference_sw_is_a_typed_error(sw: int) -> None:
    err = status.error_for(sw >> 8, sw & 0xFF)
    assert isinstance(err, StatusWordError)
    assert err.sw == sw
    assert f"SW {sw:04X}" in str(err)
    assert err.message and err.message != "unknown status word"


def test_context_dependent_words() -> None:
    wrong = status.error_for(0x63, 0xC2, status.Context.VERIFY)
    assert isinstance(wrong, PinWrongError) and wrong.tries_left == 2
    assert wrong.code is ErrorCode.PIN_WRONG
    auth = status.error_for(0x63, 0xC1, status.Context.EXTERNAL_AUTH)
    assert isinstance(auth, AuthenticationFailedError) and auth.tries_left == 1
    assert isinstance(status.error_for(0x69, 0x83, status.Context.VERIFY), PinBlockedError)
    assert isinstance(status.error_for(0x69, 0x83, status.Context.EXTERNAL_AUTH), KeyBlockedError)
    assert isinstance(status.error_for(0x69, 0x84, status.Context.VERIFY), PinNotEnabledError)
    generic = status.error_for(0x69, 0x84)
    assert type(generic) is StatusWordError
    assert isinstance(status.error_for(0x69, 0x82), SecurityStatusError)


@given(byte, byte, st.sampled_from(list(status.Context)))
def test_status_parser_total(sw1: int, sw2: int, ctx: status.Context) -> None:
    err = status.error_for(sw1, sw2, ctx)
    if (sw1, sw2) == (0x90, 0) or sw1 == 0x61:
        assert err is None
    else:
        assert isinstance(err, StatusWordError)
        assert (err.sw1, err.sw2) == (sw1, sw2)
        assert status.describe(sw1, sw2)


# -- TLV ---------------------------------------------------------------------------------------


@given(st.lists(st.tuples(byte, st.binary(max_size=255)), max_size=8))
def test_simple_tlv_round_trip(items: list[tuple[int, bytes]]) -> None:
    data = b"".join(tlv.encode_simple(t, v) for t, v in items)
    assert [(o.tag, o.value) for o in tlv.parse_simple(data)] == items


@given(st.binary(max_size=64))
def test_simple_tlv_parser_rejects_or_parses(data: bytes) -> None:
    try:
        objs = tlv.parse_simple(data)
    except tlv.TlvError:
        return
    assert b"".join(tlv.encode_simple(o.tag, o.value) for o in objs) == data


@given(st.binary(max_size=64))
def test_ber_parser_rejects_or_parses(data: bytes) -> None:
    with contextlib.suppress(tlv.TlvError):
        tlv.parse_ber(data)


def test_record_checks() -> None:
    assert tlv.parse_record(bytes.fromhex("0702414243")[:2] + b"AB", 0x07) == b"AB"
    with pytest.raises(tlv.TlvError):
        tlv.parse_record(bytes.fromhex("080241"), 0x08)  # short
    with pytest.raises(tlv.TlvError):
        tlv.parse_record(bytes.fromhex("09014141"), 0x09)  # trailing
    with pytest.raises(tlv.TlvError):
        tlv.parse_record(bytes.fromhex("090141"), 0x08)  # wrong tag


def test_fci_algorithm_found() -> None:
    fci = tlv.encode_ber(
        0x6F, tlv.encode_ber(0x84, b"abc") + tlv.encode_ber(0x9F0C, b"\x86\x01\x04")
    )
    found = tlv.find_ber(tlv.parse_ber(fci), 0x9F0C)
    assert found is not None and found.value == b"\x86\x01\x04"


# -- BCD ---------------------------------------------------------------------------------------


@given(st.text(alphabet="0123456789", max_size=20))
def test_bcd_round_trip(digits: str) -> None:
    assert bcd.decode_digits(bcd.encode_digits(digits), allow_padding=True) == digits


@given(st.dates(min_value=dt.date(1, 1, 1)))
def test_bcd_date_round_trip(d: dt.date) -> None:
    assert bcd.decode_date(bcd.encode_date(d)) == d


@given(st.binary(min_size=4, max_size=4))
def test_bcd_date_rejects_or_is_real(raw: bytes) -> None:
    try:
        d = bcd.decode_date(raw)
    except bcd.BcdError:
        return
    assert bcd.encode_date(d) == raw


def test_bcd_rejects_bad_nibbles() -> None:
    with pytest.raises(bcd.BcdError):
        bcd.decode_digits(b"\x1a")
    with pytest.raises(bcd.BcdError):
        bcd.decode_digits(b"\xf1", allow_padding=True)
    with pytest.raises(bcd.BcdError):
        bcd.decode_date(bytes.fromhex("20231301"))
    assert bcd.decode_digits(bytes.fromhex("3301FF"), allow_padding=True) == "3301"
    assert bcd.encode_digits("3301", 3) == bytes.fromhex("3301FF")
