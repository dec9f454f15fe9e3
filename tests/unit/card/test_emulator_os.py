"""The emulated card OSes answer every command as the reference says (no sockets involved)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.card.emulator import list_profiles, load_profile, read_profile
from drivers.card.emulator.bank import BankCard
from drivers.card.emulator.card import VirtualCard
from drivers.card.emulator.ciphers import Algorithm, cryptogram, diversify
from drivers.card.emulator.emv import PSE_NAME
from drivers.card.emulator.model import SscProfile
from drivers.card.emulator.psam import PsamCard
from drivers.card.emulator.ssc import SSSE_NAME, SscCard

SELECT_SSSE = "00A404000F" + SSSE_NAME.hex()


def tx(card: VirtualCard, apdu: str) -> tuple[bytes, int]:
    out = card.execute(bytes.fromhex(apdu))
    return out[:-2], int.from_bytes(out[-2:], "big")


def ssc(name: str = "ssc2", **kw: object) -> SscCard:
    card = load_profile(name, **kw)
    assert isinstance(card, SscCard)
    card.power_on()
    return card


def fetch(card: VirtualCard, apdu: str) -> tuple[bytes, int]:
    """Send, then follow 61xx with GET RESPONSE (what a T=0 terminal does)."""
    data, sw = tx(card, apdu)
    if sw >> 8 == 0x61:
        return tx(card, f"00C00000{sw & 0xFF:02X}")
    return data, sw


def test_every_profile_loads() -> None:
    names = list_profiles()
    for must in (
        "ssc2",
        "ssc2_ext",
        "ssc3",
        "ssc3_financial",
        "bank_card",
        "pin_blocked",
        "pin_not_enabled",
        "expired",
        "rare_gbk",
        "corrupt_record",
        "psam",
    ):
        assert must in names
    for name in names:
        assert load_profile(name).atr[:1] == b"\x3b"


def test_select_ssse_strict_gives_61xx_and_fci() -> None:
    card = ssc()
    data, sw = tx(card, SELECT_SSSE)
    assert data == b"" and sw >> 8 == 0x61
    fci, sw = tx(card, f"00C00000{sw & 0xFF:02X}")
    assert sw == 0x9000 and bytes.fromhex("9F0C03860101") in fci


def test_sm4_card_announces_algorithm_04() -> None:
    fci, sw = fetch(ssc("ssc3"), SELECT_SSSE)
    assert sw == 0x9000 and bytes.fromhex("9F0C03860104") in fci


def test_get_response_partial_and_wrong_le() -> None:
    card = ssc()
    _, sw = tx(card, SELECT_SSSE)
    total = sw & 0xFF
    part, sw = tx(card, "00C0000005")
    assert len(part) == 5 and sw == 0x6100 | (total - 5)
    assert tx(card, "00C00000FF")[1] == 0x6C00 | (total - 5)
    assert tx(card, f"00C00000{total - 5:02X}")[1] == 0x9000
    assert tx(card, "00C0000005")[1] == 0x6985


def test_lenient_answers_directly() -> None:
    card = ssc(t0_strict=False)
    fci, sw = tx(card, SELECT_SSSE)
    assert sw == 0x9000 and fci[0] == 0x6F
    tx(card, "00A4020002EF05")
    data, sw = tx(card, "00B2070000")
    assert sw == 0x9000 and data == b"\x07\x09R47708861"


@pytest.mark.parametrize("p1", ["00", "02"])
def test_select_ef_both_ways_and_read_by_tag_number_sfi(p1: str) -> None:
    card = ssc()
    tx(card, SELECT_SSSE)
    assert tx(card, f"00A4{p1}0002EF05")[1] == 0x9000
    assert tx(card, "00B2030006") == (b"\x03\x042.00", 0x9000)
    assert tx(card, "00B2030406") == (b"\x03\x042.00", 0x9000)
    assert tx(card, "00B2052C06") == (bytes.fromhex("050420200226"), 0x9000)
    assert tx(card, "00B2012C12")[0][2:5] == bytes.fromhex("330300")


def test_record_errors() -> None:
    card = ssc()
    assert tx(card, "00B2010012")[1] == 0x6986  # no current EF
    tx(card, SELECT_SSSE)
    assert tx(card, "00A4020002EF99")[1] == 0x6A82
    tx(card, "00A4020002EF05")
    assert tx(card, "00B2200000")[1] == 0x6A83
    assert tx(card, "00B2010012")[0][:2] == b"\x01\x10"
    assert tx(card, "00B2010000")[1] == 0x6C12
    assert tx(card, "00B2010112")[1] == 0x6A86
    tx(card, "00A4020002EF08")
    assert tx(card, "00B2010000")[1] == 0x6981
    assert tx(card, "00B0000010")[1] == 0x6982  # EF08 needs RKSSSE


def test_ef06_encodings_ssc2() -> None:
    card = ssc()
    prof = card.profile
    tx(card, SELECT_SSSE)
    tx(card, "00A4020002EF06")
    assert tx(card, "00B2080014")[0][2:].decode() == prof.id_number
    name = tx(card, "00B2090020")[0]
    assert name[:2] == b"\x09\x1e" and name[2:].rstrip(b"\x00").decode("gbk") == prof.name
    assert tx(card, "00B24E0016")[1] == 0x6A83  # 2nd gen short name: no extension record
    assert tx(card, "00B20A0003")[0] == b"\x0a\x01" + prof.sex.encode()
    assert tx(card, "00B20B0003")[0] == bytes.fromhex("0B0101")
    assert tx(card, "00B20C0005")[0] == bytes.fromhex("0C03330302")
    assert tx(card, "00B20D0006")[0] == bytes.fromhex("0D04") + bytes.fromhex(prof.birth_date)
    assert tx(card, "00B2070406")[0][:1] == b"\x0d"  # record 7 = tag 0D


def test_name_extension_and_rare_gbk() -> None:
    card = ssc("ssc2_ext")
    tx(card, SELECT_SSSE)
    tx(card, "00A4020002EF06")
    head = tx(card, "00B2090020")[0][2:]
    ext = tx(card, "00B24E0016")[0]
    assert ext[:2] == b"\x4e\x14"
    full = (head.rstrip(b"\x00") + ext[2:].rstrip(b"\x00")).decode("gbk")
    assert full == card.profile.name
    assert tx(card, "00B2030416")[0] == ext  # record 3 = tag 4E
    rare = ssc("rare_gbk")
    tx(rare, SELECT_SSSE)
    tx(rare, "00A4020002EF06")
    raw = tx(rare, "00B2090020")[0][2:].rstrip(b"\x00")
    assert raw.decode("gbk") == rare.profile.name
    with pytest.raises(UnicodeDecodeError):
        raw.decode("gb2312")


def test_corrupt_record_is_served_raw() -> None:
    card = ssc("corrupt_record")
    tx(card, SELECT_SSSE)
    tx(card, "00A4020002EF06")
    assert tx(card, "00B20D0006")[0] == bytes.fromhex("0D0419850A05")


def test_pin_verify_counts_down_and_blocks() -> None:
    card = ssc()
    assert tx(card, "0020000000")[1] == 0x63C3
    assert tx(card, "0020000003111111")[1] == 0x63C2
    assert tx(card, "0020000003123456")[1] == 0x9000
    for left in (2, 1, 0):
        assert tx(card, "0020000003999999")[1] == 0x63C0 | left
    assert tx(card, "0020000003123456")[1] == 0x6983
    assert tx(ssc("pin_blocked"), "0020000003123456")[1] == 0x6983
    not_enabled = ssc("pin_not_enabled")
    assert tx(not_enabled, "0020000003123456")[1] == 0x6984
    not_enabled.enable_pin()
    assert tx(not_enabled, "0020000003123456")[1] == 0x9000


def test_change_pin() -> None:
    card = ssc()
    assert tx(card, "805E010007111111FF654321")[1] == 0x63C2
    assert tx(card, "805E010007123456FF654321")[1] == 0x9000
    assert tx(card, "0020000003123456")[1] == 0x63C2
    assert tx(card, "0020000003654321")[1] == 0x9000
    assert tx(card, "805E0100031234FF")[1] == 0x6A80
    assert tx(card, "005E010007123456FF654321")[1] == 0x6E00


def test_df_access_needs_pin_and_activation_write_needs_uk() -> None:
    card = ssc()
    tx(card, SELECT_SSSE)
    assert tx(card, "00A4000002DF04")[1] == 0x9000
    tx(card, "00A4020002EF05")
    assert tx(card, "00B2010415")[1] == 0x6982
    tx(card, "0020000003123456")
    rec, sw = tx(card, "00B2010415")
    assert sw == 0x9000 and rec[:2] == b"\x60\x13"
    new = "6013" + "01" + "20261127" + "330300000001" + hashlib.sha256(b"k").digest()[:8].hex()
    assert tx(card, "00DC010415" + new)[1] == 0x6982  # no EXTERNAL AUTHENTICATE 0B
    challenge, sw = tx(card, "0084000008")
    key = diversify(
        Algorithm.TDES, bytes.fromhex("33333333333333334444444444444444"), card.profile.card_factor
    )
    crypt = cryptogram(Algorithm.TDES, key, challenge)
    assert tx(card, "008200 0B08".replace(" ", "") + crypt.hex())[1] == 0x9000
    assert tx(card, "00DC010415" + new)[1] == 0x9000
    assert card.activation_record() == bytes.fromhex(new)
    assert tx(card, "00B2010415")[0] == bytes.fromhex(new)


def test_external_authenticate_rules() -> None:
    card = ssc("ssc3")
    tx(card, SELECT_SSSE)
    assert tx(card, "0082000A10" + "00" * 16)[1] == 0x6984  # no challenge
    assert tx(card, "0082000110" + "00" * 16)[1] == 0x6A88  # unknown key
    assert tx(card, "0084000005")[1] == 0x6700
    tx(card, "0084000008")
    assert tx(card, "0082000A08" + "00" * 8)[1] == 0x6700  # SM4 needs 16 bytes
    for left in (2, 1, 0):
        tx(card, "0084000008")
        assert tx(card, "0082000A10" + "00" * 16)[1] == 0x63C0 | left
    tx(card, "0084000008")
    assert tx(card, "0082000A10" + "00" * 16)[1] == 0x6983


def test_rkssse_unlocks_ef06_and_photo() -> None:
    card = ssc("ssc3")
    tx(card, SELECT_SSSE)
    tx(card, "00A4020002EF06")
    assert tx(card, "00B2080014")[1] == 0x6982
    challenge, _ = tx(card, "0084000008")
    key = diversify(
        Algorithm.SM4, bytes.fromhex("A1A2A3A4A5A6A7A8B1B2B3B4B5B6B7B8"), card.profile.card_factor
    )
    assert tx(card, "0082000A10" + cryptogram(Algorithm.SM4, key, challenge).hex())[1] == 0x9000
    assert tx(card, "00B2080014")[0][2:].decode() == card.profile.id_number
    fcp, sw = fetch(card, "00A4020002EF08")
    assert sw == 0x9000 and fcp[0] == 0x62 and bytes.fromhex("8302EF08") in fcp
    size = int.from_bytes(fcp[4:6], "big")
    photo = b""
    while len(photo) < size:
        chunk, sw = tx(card, f"00B0{len(photo):04X}{min(0xF0, size - len(photo)):02X}")
        assert sw == 0x9000
        photo += chunk
    jpeg = photo.rstrip(b"\x00")
    assert jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"
    assert tx(card, f"00B0{size:04X}10")[1] == 0x6B00
    assert tx(card, f"00B0{size - 4:04X}10")[1] == 0x6C04
    # Selecting another application drops the key state.
    tx(card, SELECT_SSSE)
    tx(card, "00A4020002EF06")
    assert tx(card, "00B2080014")[1] == 0x6982


def test_internal_authenticate_matches_psam() -> None:
    for name, alg in (("ssc2", Algorithm.TDES), ("ssc3", Algorithm.SM4)):
        card = ssc(name)
        psam = load_profile("psam")
        assert isinstance(psam, PsamCard)
        psam.power_on()
        process, source = bytes(range(8)), bytes(range(8, 16))
        answer, sw = fetch(card, "0088000010" + (process + source).hex())
        assert sw == 0x9000 and len(answer) == alg.block
        factor = card.profile.card_factor
        assert tx(psam, "00A4000002DF01")[1] == 0x9000
        assert tx(psam, f"801A27{alg.value:02X}10" + (factor + process).hex())[1] == 0x9000
        expected, sw = fetch(psam, f"80FA000008{source.hex()}")
        assert sw == 0x9000 and expected == answer


def test_psam_commands() -> None:
    psam = load_profile("psam")
    assert isinstance(psam, PsamCard)
    psam.power_on()
    assert tx(psam, "80FA0000080000000000000000")[1] == 0x6985
    assert tx(psam, "00B0960006") == (bytes.fromhex("330300000001"), 0x9000)
    assert tx(psam, "80CA00A000")[1] >> 8 == 0x6C
    data, sw = fetch(psam, "80CA00A00D")
    assert sw == 0x9000 and data[:4] == bytes.fromhex("A0020104")
    assert tx(psam, "801A9901081111111111111111")[1] == 0x6A88
    assert tx(psam, "801A2702081111111111111111")[1] == 0x6A81
    assert tx(psam, "801A0C0406330300000001")[1] == 0x9000
    out, sw = fetch(psam, "80FA000010" + "00" * 16)
    assert out == cryptogram(Algorithm.SM4, psam.tak(Algorithm.SM4), bytes(16))


def test_emv_financial_on_ssc3() -> None:
    card = ssc("ssc3_financial")
    prof = card.profile
    assert isinstance(prof, SscProfile) and prof.financial is not None
    fci, sw = fetch(card, "00A404000E" + PSE_NAME.hex())
    assert sw == 0x9000 and bytes.fromhex("880101") in fci
    entry, sw = tx(card, "00B2010C00")
    assert sw >> 8 == 0x6C
    entry, sw = tx(card, f"00B2010C{sw & 0xFF:02X}")
    assert bytes.fromhex("4F08A000000333010101") in entry
    assert tx(card, "80A8000002830000")[1] == 0x6985  # GPO before SELECT AID
    fci, sw = fetch(card, "00A4040008A000000333010101")
    assert bytes.fromhex("9F3809") in fci
    assert tx(card, "80A80000028300")[1] == 0x6700
    # PDOL 9F7A01 9F0206 5F2A02: EC indicator, amount (BCD), currency (must be CNY 0156).
    assert tx(card, "80A800000B8309" + "00" * 9)[1] == 0x6985  # currency 0000
    assert tx(card, "80A800000B8309" + "00" + "0000000000AB" + "0156")[1] == 0x6985  # not BCD
    gpo, sw = fetch(card, "80A800000B8309" + "00" + "000000000000" + "0156")
    assert sw == 0x9000 and gpo[0] == 0x80
    afl = gpo[4:]
    assert len(afl) == 8
    rec, sw = fetch(card, "00B2010C00")
    rec, sw = tx(card, f"00B2010C{sw & 0xFF:02X}") if sw >> 8 == 0x6C else (rec, sw)
    assert bytes.fromhex(prof.financial.pan[:16]) in rec
    rec2, sw = tx(card, "00B2011400")
    rec2, sw = tx(card, f"00B20114{sw & 0xFF:02X}")
    assert bytes.fromhex("5A08" + prof.financial.pan) in rec2
    # SSSE still there afterwards.
    assert fetch(card, SELECT_SSSE)[1] == 0x9000


def test_bank_card_format_2_and_no_ssse() -> None:
    card = load_profile("bank_card", t0_strict=False)
    assert isinstance(card, BankCard)
    card.power_on()
    assert tx(card, SELECT_SSSE)[1] == 0x6A82
    fci, sw = tx(card, "00A4040008A000000333010101")
    assert sw == 0x9000
    # Its own, longer PDOL: the terminal must follow it (33 bytes), not a fixed layout.
    assert bytes.fromhex("9F38189F66049F02069F03069F1A0295055F2A029A039C019F3704") in fci
    assert tx(card, "80A800000B8309" + "00" + "000000000000" + "0156")[1] == 0x6700
    pdol_data = "46000000" + "00" * 12 + "0156" + "00" * 5 + "0156" + "261127" + "31" + "12345678"
    gpo, sw = tx(card, "80A8000023" + "8321" + pdol_data)
    assert sw == 0x9000 and gpo[0] == 0x77 and bytes.fromhex("8202") in gpo
    rec, sw = tx(card, "00B2011400")
    assert sw == 0x9000 and rec[0] == 0x70 and b"\x5a\x08" in rec
    assert tx(card, "00B2010C00")[1] == 0x6A83  # no track 2 record on this card


def test_wrong_cla_and_ins() -> None:
    card = ssc()
    assert tx(card, "A0A4000002EF05")[1] == 0x6E00
    assert tx(card, "00FE000000")[1] == 0x6D00
    assert tx(card, "00A4")[1] == 0x6700


def test_key_mismatch_profile_override() -> None:
    card = ssc("ssc3", key_set="foreign")
    tx(card, SELECT_SSSE)
    challenge, _ = tx(card, "0084000008")
    key = diversify(
        Algorithm.SM4, bytes.fromhex("A1A2A3A4A5A6A7A8B1B2B3B4B5B6B7B8"), card.profile.card_factor
    )
    assert tx(card, "0082000A10" + cryptogram(Algorithm.SM4, key, challenge).hex())[1] == 0x63C2


def test_declared_fields_for_tests() -> None:
    card = ssc("ssc2")
    d = card.declared
    prof = read_profile("ssc2")
    assert d["id_number"] == prof.id_number and d["pin"] == "123456"  # type: ignore[union-attr]
    assert d["card_id"] == prof.card_id.hex().upper()  # type: ignore[union-attr]


@given(
    st.sampled_from(["ssc2", "ssc3_financial", "bank_card", "psam"]),
    st.lists(st.binary(max_size=40), max_size=12),
)
def test_any_bytes_get_a_status_word(name: str, apdus: list[bytes]) -> None:
    card = load_profile(name)
    card.power_on()
    for apdu in apdus:
        out = card.execute(apdu)
        assert len(out) >= 2
        assert out[-2] in (0x90, 0x61, 0x6C, 0x62, 0x63, 0x65, 0x67, 0x69, 0x6A, 0x6B, 0x6D, 0x6E)
