"""EMV codec: BER-TLV, DOL, GPO formats, AFL, PAN and PSE parsing (hypothesis for the parsers)."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.card.emv import (
    AflEntry,
    EmvFormatError,
    Tlv,
    build_dol_data,
    encode_tlv,
    find_tag,
    gpo_command_data,
    pan_from_record_data,
    pan_from_track2,
    parse_afl,
    parse_dol,
    parse_fci,
    parse_gpo_response,
    parse_pse_record,
    parse_tlv,
    terminal_values,
)
from drivers.personal import PersonalKind

H = bytes.fromhex


def test_nested_template_with_multibyte_tags_and_long_length() -> None:
    long_value = bytes(range(200))
    inner = encode_tlv(0x9F38, H("9F66049F02069F3704")) + encode_tlv(0xDF8101, long_value)
    data = encode_tlv(0x6F, encode_tlv(0x84, b"A0") + encode_tlv(0xA5, inner))
    nodes = parse_tlv(data)
    assert nodes[0].tag == 0x6F and nodes[0].constructed
    assert find_tag(nodes, 0x9F38) == H("9F66049F02069F3704")
    assert find_tag(nodes, 0xDF8101) == long_value
    assert find_tag(nodes, 0x5A) is None
    assert encode_tlv(0x5A, bytes(200))[:3] == H("5A81C8")
    assert encode_tlv(0x70, bytes(300))[:4] == H("70820 12C".replace(" ", ""))


@pytest.mark.parametrize(
    "bad",
    [H("5A"), H("5A05 0102".replace(" ", "")), H("9F"), H("5A8501"), H("70035A0501"), H("5A84")],
)
def test_truncated_tlv_is_a_format_error(bad: bytes) -> None:
    with pytest.raises(EmvFormatError):
        parse_tlv(bad)


_tags = st.sampled_from([0x5A, 0x57, 0x82, 0x94, 0x9F38, 0x9F6B, 0xDF8101, 0x5F2A])
_constructed = st.sampled_from([0x70, 0x77, 0x6F, 0xA5, 0xBF0C, 0x61])


def _tlv_strategy() -> st.SearchStrategy[Tlv]:
    prim = st.builds(lambda t, v: Tlv(t, v), _tags, st.binary(max_size=300))
    return st.recursive(
        prim,
        lambda kids: st.builds(
            lambda t, cs: Tlv(t, b"".join(_enc(c) for c in cs), tuple(cs)),
            _constructed,
            st.lists(kids, max_size=4),
        ),
        max_leaves=12,
    )


def _enc(node: Tlv) -> bytes:
    return encode_tlv(node.tag, node.value)


@given(st.lists(_tlv_strategy(), max_size=4))
def test_tlv_round_trip(nodes: list[Tlv]) -> None:
    data = b"".join(_enc(n) for n in nodes)
    assert parse_tlv(data) == nodes


@given(st.binary(max_size=400))
def test_parsers_raise_only_format_errors(data: bytes) -> None:
    for parser in (parse_tlv, parse_gpo_response, parse_fci, parse_pse_record, parse_dol):
        with contextlib.suppress(EmvFormatError):
            parser(data)


def test_dol_parse_and_build() -> None:
    pdol = H("9F66049F02069F03069F1A0295055F2A029A039C019F3704DF6001")
    dol = parse_dol(pdol)
    assert dol[:3] == [(0x9F66, 4), (0x9F02, 6), (0x9F03, 6)]
    values = terminal_values(unpredictable=H("11223344"), today=dt.date(2026, 11, 27))
    data = build_dol_data(dol, values)
    assert len(data) == sum(n for _, n in dol)
    assert data[:4] == H("46000000")
    assert data[16:18] == H("0156")  # 9F1A country, numeric, left-padded
    assert data[25:28] == H("261127")  # 9A date YYMMDD
    assert data[29:33] == H("11223344")
    # Numeric data is fitted on the left, other data on the right; unknown tags are zeros.
    assert build_dol_data([(0x9F02, 2), (0x9F66, 2), (0x9F4E, 3)], values) == H(
        "0000 4600 000000".replace(" ", "")
    )
    assert build_dol_data([(0x5F2A, 3), (0x9F37, 6)], values) == H(
        "000156 112233440000".replace(" ", "")
    )
    assert gpo_command_data(None, values) == H("8300")
    assert gpo_command_data(H("9F3704"), values) == H("830411223344")


def test_gpo_format_1_and_2_give_the_same_afl() -> None:
    afl = H("08010100 10010301 18010200".replace(" ", ""))
    one = parse_gpo_response(encode_tlv(0x80, H("7C00") + afl))
    two = parse_gpo_response(encode_tlv(0x77, encode_tlv(0x82, H("7C00")) + encode_tlv(0x94, afl)))
    assert one.response_format == 1 and two.response_format == 2
    assert one.aip == two.aip == H("7C00")
    assert (
        one.afl
        == two.afl
        == (
            AflEntry(1, 1, 1, 0),
            AflEntry(2, 1, 3, 1),
            AflEntry(3, 1, 2, 0),
        )
    )
    assert list(one.afl[1].records()) == [1, 2, 3]


@pytest.mark.parametrize(
    "bad", [encode_tlv(0x80, H("7C")), encode_tlv(0x77, encode_tlv(0x94, H("08010100"))), H("6F00")]
)
def test_gpo_errors(bad: bytes) -> None:
    with pytest.raises(EmvFormatError):
        parse_gpo_response(bad)


@pytest.mark.parametrize("bad", ["080101", "00010100", "08020100", "08010103"])
def test_afl_errors(bad: str) -> None:
    with pytest.raises(EmvFormatError):
        parse_afl(H(bad))


def test_pan_from_5a_and_track2() -> None:
    rec = parse_tlv(encode_tlv(0x70, encode_tlv(0x5A, H("6217000010001234567F"))))
    pan = pan_from_record_data(rec)
    assert pan is not None and pan.kind is PersonalKind.BANK_NUMBER
    assert pan.reveal() == "6217000010001234567"
    assert str(pan) == "621700*********4567"
    t2 = parse_tlv(encode_tlv(0x70, encode_tlv(0x57, H("6228480012345678D3012220100000000F"))))
    pan2 = pan_from_record_data(t2)
    assert pan2 is not None and pan2.reveal() == "6228480012345678"
    assert pan_from_record_data(parse_tlv(encode_tlv(0x70, encode_tlv(0x5F20, b"X")))) is None
    with pytest.raises(EmvFormatError):
        pan_from_track2(H("62284800123456783012"))
    with pytest.raises(EmvFormatError):
        pan_from_record_data(parse_tlv(encode_tlv(0x5A, H("12345F"))))


def test_pse_fci_and_record() -> None:
    fci = parse_fci(
        encode_tlv(
            0x6F, encode_tlv(0x84, b"1PAY.SYS.DDF01") + encode_tlv(0xA5, encode_tlv(0x88, b"\x01"))
        )
    )
    assert fci.sfi == 1 and fci.df_name == b"1PAY.SYS.DDF01"

    def entry(aid: str, label: bytes, prio: int) -> bytes:
        return encode_tlv(
            0x61,
            encode_tlv(0x4F, H(aid)) + encode_tlv(0x50, label) + encode_tlv(0x87, bytes([prio])),
        )

    rec = encode_tlv(
        0x70,
        entry("A000000333010102", b"UnionPay Credit", 2)
        + entry("A000000333010101", b"UnionPay Debit", 1),
    )
    entries = parse_pse_record(rec)
    assert [e.aid.hex().upper() for e in entries] == ["A000000333010101", "A000000333010102"]
    assert entries[0].label == "UnionPay Debit"
    # PPSE: the entries are in the FCI itself (BF0C).
    ppse = parse_fci(
        encode_tlv(
            0x6F,
            encode_tlv(0x84, b"2PAY.SYS.DDF01")
            + encode_tlv(0xA5, encode_tlv(0xBF0C, entry("A000000333010101", b"D", 1))),
        )
    )
    assert ppse.entries[0].aid == H("A000000333010101")
    app = parse_fci(
        encode_tlv(
            0x6F,
            encode_tlv(0x84, H("A000000333010101"))
            + encode_tlv(0xA5, encode_tlv(0x50, b"PBOC DEBIT") + encode_tlv(0x9F38, H("9F6604"))),
        )
    )
    assert app.pdol == H("9F6604") and app.label == "PBOC DEBIT"
