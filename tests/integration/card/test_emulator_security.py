"""Card + PSAM through pcscd: RKSSSE with a PSAM-made cryptogram, activation write faults, EMV."""

from __future__ import annotations

import hashlib

from smartcard.Exceptions import CardConnectionException

from drivers.card.emulator import Fault, load_profile
from drivers.card.emulator.ssc import SscCard
from tests.fixtures.pcscd import PcscdService
from tests.integration.card.test_emulator_pcsc import SELECT_SSSE, Conn


def fetch(c: Conn, apdu: str) -> tuple[bytes, int]:
    data, sw = c.tx(apdu)
    if sw >> 8 == 0x61:
        return c.tx(f"00C00000{sw & 0xFF:02X}")
    if sw >> 8 == 0x6C:
        return c.tx(apdu[:8] + f"{sw & 0xFF:02X}")
    return data, sw


def authenticate(card: Conn, psam: Conn, kid: int, alg: int, factor: bytes) -> int:
    challenge, sw = card.tx("0084000008")
    assert sw == 0x9000
    assert psam.tx(f"801A{kid:02X}{alg:02X}08{factor.hex()}")[1] == 0x9000
    crypt, sw = fetch(psam, f"80FA000008{challenge.hex()}")
    assert sw == 0x9000
    return card.tx(f"008200{kid:02X}{len(crypt):02X}{crypt.hex()}")[1]


def test_rkssse_with_psam_then_ef06_and_photo(
    card_slot: PcscdService, psam_slot: PcscdService
) -> None:
    card = card_slot.card.insert("ssc3")
    assert isinstance(card, SscCard)
    card_slot.wait_present(0)
    card_slot.wait_present(1)
    c, p = Conn(card_slot.reader_names[0]), Conn(card_slot.reader_names[1])
    assert p.tx("00A4000002DF01")[1] == 0x9000
    c.tx(SELECT_SSSE)
    c.tx("00A4020002EF06")
    assert c.tx("00B2080014")[1] == 0x6982
    assert authenticate(c, p, 0x0A, 0x04, card.profile.card_factor) == 0x9000
    data, sw = c.tx("00B2080014")
    assert sw == 0x9000 and data[2:].decode() == card.profile.id_number
    fcp, sw = fetch(c, "00A4020002EF08")
    size = int.from_bytes(fcp[4:6], "big")
    photo = b""
    while len(photo) < size:
        chunk, sw = c.tx(f"00B0{len(photo):04X}{min(0xF0, size - len(photo)):02X}")
        assert sw == 0x9000
        photo += chunk
    assert photo.rstrip(b"\x00").endswith(b"\xff\xd9") and photo.startswith(b"\xff\xd8")
    c.close()
    p.close()


def test_key_mismatch_counts_tries(card_slot: PcscdService, psam_slot: PcscdService) -> None:
    card = card_slot.card.insert(load_profile("ssc3", key_set="foreign"))
    assert isinstance(card, SscCard)
    card_slot.wait_present(0)
    card_slot.wait_present(1)
    c, p = Conn(card_slot.reader_names[0]), Conn(card_slot.reader_names[1])
    p.tx("00A4000002DF01")
    c.tx(SELECT_SSSE)
    assert authenticate(c, p, 0x0A, 0x04, card.profile.card_factor) == 0x63C2
    c.close()
    p.close()


def test_activation_write_then_power_loss(card_slot: PcscdService, psam_slot: PcscdService) -> None:
    card = card_slot.card.insert("ssc2")
    assert isinstance(card, SscCard)
    card_slot.wait_present(0)
    card_slot.wait_present(1)
    c, p = Conn(card_slot.reader_names[0]), Conn(card_slot.reader_names[1])
    p.tx("00A4000002DF01")
    c.tx(SELECT_SSSE)
    assert c.tx("00A4000002DF04")[1] == 0x9000
    assert c.tx("0020000003123456")[1] == 0x9000
    assert authenticate(c, p, 0x0B, 0x01, card.profile.card_factor) == 0x9000
    c.tx("00A4020002EF05")
    new = "6013" + "01" + "20261127" + "330300000001" + hashlib.sha256(b"key").digest()[:8].hex()
    card_slot.card.inject(Fault.POWER_LOSS_AFTER_WRITE)
    assert c.tx("00DC010415" + new)[1] == 0x9000
    try:
        c.tx("00B2010415")
        raise AssertionError("read-back after a power loss must fail")
    except CardConnectionException:
        pass
    assert card.activation_record() == bytes.fromhex(new)
    c.close()
    p.close()
    card_slot.wait_present(0)
    c2 = Conn(card_slot.reader_names[0])
    c2.tx(SELECT_SSSE)
    c2.tx("00A4000002DF04")
    c2.tx("00A4020002EF05")
    assert c2.tx("00B2010415")[1] == 0x6982  # fresh session: PIN needed again
    c2.close()


def test_bank_card_gpo_format_2(card_slot: PcscdService) -> None:
    card_slot.card.insert("bank_card")
    card_slot.wait_present(0)
    c = Conn(card_slot.reader_names[0])
    fci, sw = fetch(c, "00A404000E315041592E5359532E4444463031")
    assert sw == 0x9000 and bytes.fromhex("880101") in fci
    fci, sw = fetch(c, "00A4040008A000000333010101")
    assert sw == 0x9000 and bytes.fromhex("9F3818") in fci  # a 33-byte PDOL
    # TTQ, amount, other amount, country 0156, TVR, currency 0156, date, type 31, random.
    pdol_data = "46000000" + "00" * 12 + "0156" + "00" * 5 + "0156" + "261127" + "31" + "12345678"
    gpo, sw = fetch(c, "80A8000023" + "8321" + pdol_data)
    assert sw == 0x9000 and gpo[0] == 0x77
    rec, sw = fetch(c, "00B2011400")
    assert sw == 0x9000 and b"\x5a\x08" in rec
    c.close()
