"""EF05/EF06 record parsing: good records give a CardHolder, impossible ones a CardDataError."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.card.bcd import encode_date, encode_digits
from drivers.card.errors import CardDataError
from drivers.card.holder import decode_name, parse_holder, parse_issuer
from drivers.personal import Masked


def ef05(**over: bytes) -> dict[int, bytes]:
    rec = {
        0x01: bytes.fromhex("330300D15600000599110145FFFFFFFF"),
        0x02: b"3",
        0x03: b"2.00",
        0x04: bytes(12),
        0x05: encode_date(dt.date(2020, 2, 26)),
        0x06: encode_date(dt.date(2030, 2, 26)),
        0x07: b"R47708862",
    }
    rec.update({int(k[1:], 16): v for k, v in over.items()})
    return rec


def ef06(**over: bytes) -> dict[int, bytes]:
    rec = {
        0x08: b"33030219800101123X",
        0x09: "张三".encode("gbk").ljust(30, b"\x00"),
        0x0A: b"1",
        0x0B: b"\x01",
        0x0C: encode_digits("330302", 3),
        0x0D: encode_date(dt.date(1980, 1, 1)),
    }
    rec.update({int(k[1:], 16): v for k, v in over.items()})
    return rec


def test_good_card() -> None:
    issuer = parse_issuer(ef05())
    holder = parse_holder(issuer, ef06())
    assert holder.region == "330300"
    assert holder.card_id == "330300D15600000599110145FFFFFFFF"
    assert holder.spec_version == "2.00" and holder.generation == 2
    assert holder.name == Masked("张三", holder.name.kind)
    assert holder.name.reveal() == "张三"
    assert holder.id_number.reveal() == "33030219800101123X"
    assert "33030219800101123X" not in repr(holder)
    assert "张三" not in repr(holder)
    assert "R47708862" not in repr(holder)
    assert holder.birth_date == dt.date(1980, 1, 1)
    assert holder.birthplace == "330302"
    assert holder.ethnicity == "01"
    assert not holder.is_expired(dt.date(2030, 2, 26))
    assert holder.is_expired(dt.date(2030, 2, 27))


def test_name_extension_joined() -> None:
    long_name = "阿卜杜热合曼·买买提依明·艾力江尼牙孜"
    raw = long_name.encode("gbk")
    holder = parse_holder(parse_issuer(ef05()), ef06(t09=raw[:30], t4E=raw[30:].ljust(20, b"\x00")))
    assert holder.name.reveal() == long_name


def test_rare_gbk_name() -> None:
    name = "王喆"  # 喆 is in GBK but not in GB2312
    with pytest.raises(UnicodeEncodeError):
        name.encode("gb2312")
    assert decode_name(name.encode("gbk").ljust(30, b" "), None) == name


@pytest.mark.parametrize(
    ("ef05_over", "ef06_over"),
    [
        ({"t05": bytes.fromhex("20201301")}, {}),  # month 13
        ({"t06": bytes.fromhex("2030022A")}, {}),  # not BCD
        ({"t06": bytes.fromhex("20100101")}, {}),  # expires before issue
        ({"t01": bytes(15)}, {}),  # card id too short
        ({"t07": b"R4770886\x01"}, {}),  # control char in card number
        ({"t03": b"2.0x"}, {}),
        ({}, {"t08": b"3303021980010112"}),  # ID too short
        ({}, {"t08": b"33030219800101123Y"}),
        ({}, {"t09": b"\xff\xff\x00"}),  # undecodable GBK
        ({}, {"t09": bytes(30)}),  # empty name
        ({}, {"t09": b"A" * 31}),  # name too long
        ({}, {"t0A": b"7"}),
        ({}, {"t0D": bytes.fromhex("19800230")}),  # 30 February
        ({}, {"t0C": bytes.fromhex("3A0101")}),
    ],
)
def test_impossible_data_rejected(ef05_over: dict[str, bytes], ef06_over: dict[str, bytes]) -> None:
    with pytest.raises(CardDataError):
        parse_holder(parse_issuer(ef05(**ef05_over)), ef06(**ef06_over))


def test_missing_record_rejected() -> None:
    rec = ef06()
    del rec[0x0D]
    with pytest.raises(CardDataError, match="0D"):
        parse_holder(parse_issuer(ef05()), rec)


@given(st.binary(max_size=30), st.one_of(st.none(), st.binary(max_size=20)))
def test_name_decoder_total(base: bytes, ext: bytes | None) -> None:
    try:
        name = decode_name(base, ext)
    except CardDataError:
        return
    assert name and name == name.strip()
