"""The emulator through the real path: pyscard -> pcscd -> vpcd -> CardEmulator (raw APDUs)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from smartcard.CardConnection import CardConnection
from smartcard.Exceptions import CardConnectionException
from smartcard.System import readers

from drivers.card.emulator import Fault, list_profiles, load_profile, read_profile
from drivers.card.emulator.model import SscProfile
from drivers.card.emulator.ssc import SSSE_NAME
from tests.fixtures.pcscd import PcscdService

SELECT_SSSE = [0x00, 0xA4, 0x04, 0x00, len(SSSE_NAME), *SSSE_NAME]


class Conn:
    """A raw pyscard connection to one reader (vendor types stay in this test)."""

    def __init__(self, reader: str) -> None:
        match = [r for r in readers() if str(r) == reader]
        assert match, f"reader {reader!r} not listed"
        self.c = match[0].createConnection()
        self.c.connect()

    def tx(self, hexstr: str | list[int]) -> tuple[bytes, int]:
        apdu = list(bytes.fromhex(hexstr)) if isinstance(hexstr, str) else hexstr
        data, sw1, sw2 = self.c.transmit(apdu)
        return bytes(data), (sw1 << 8) | sw2

    def close(self) -> None:
        with contextlib.suppress(CardConnectionException):
            self.c.disconnect()


@pytest.fixture
def conn(card_slot: PcscdService) -> Iterator[Conn]:
    card_slot.card.insert("ssc2")
    card_slot.wait_present(0)
    c = Conn(card_slot.reader_names[0])
    yield c
    c.close()


def test_both_readers_listed(pcscd: PcscdService) -> None:
    names = [str(r) for r in readers()]
    assert pcscd.reader_names[0] in names and pcscd.reader_names[1] in names


def test_atr_and_t0(conn: Conn, card_slot: PcscdService) -> None:
    card = card_slot.card.card
    assert card is not None
    assert bytes(conn.c.getATR()) == card.atr
    assert conn.c.getProtocol() == CardConnection.T0_protocol


def test_select_ssse_then_get_response(conn: Conn) -> None:
    data, sw = conn.tx(SELECT_SSSE)
    assert data == b"" and sw >> 8 == 0x61
    fci, sw = conn.tx(f"00C00000{sw & 0xFF:02X}")
    assert sw == 0x9000
    assert fci[0] == 0x6F and SSSE_NAME in fci and bytes.fromhex("9F0C03860101") in fci


def test_read_ef05_card_number_6cxx(conn: Conn) -> None:
    conn.tx(SELECT_SSSE)
    assert conn.tx("00A4020002EF05")[1] == 0x9000
    assert conn.tx("00B2070000")[1] == 0x6C0B
    data, sw = conn.tx("00B207000B")
    assert sw == 0x9000 and data == b"\x07\x09" + b"R47708861"


def test_apdu_count_and_many_selects(conn: Conn, card_slot: PcscdService) -> None:
    before = card_slot.card.apdu_count
    for _ in range(200):
        assert conn.tx(SELECT_SSSE)[1] == 0x611B
    assert card_slot.card.apdu_count - before == 200


def test_removal_then_insert_another(card_slot: PcscdService) -> None:
    card_slot.card.insert("ssc2")
    card_slot.wait_present(0)
    c = Conn(card_slot.reader_names[0])
    assert c.tx(SELECT_SSSE)[1] >> 8 == 0x61
    card_slot.card.remove()
    card_slot.wait_absent(0)
    with pytest.raises(CardConnectionException):
        c.tx(SELECT_SSSE)
    c.close()
    new = card_slot.card.insert("rare_gbk")
    card_slot.wait_present(0)
    c2 = Conn(card_slot.reader_names[0])
    assert bytes(c2.c.getATR()) == new.atr
    c2.close()


def test_swap_is_seen_as_removal(card_slot: PcscdService) -> None:
    card_slot.card.insert("ssc2")
    card_slot.wait_present(0)
    c = Conn(card_slot.reader_names[0])
    c.tx(SELECT_SSSE)
    new = card_slot.card.swap("expired")
    card_slot.wait_absent(0)
    card_slot.wait_present(0)
    with pytest.raises(CardConnectionException):
        c.tx(SELECT_SSSE)
    c.close()
    c2 = Conn(card_slot.reader_names[0])
    assert bytes(c2.c.getATR()) == new.atr
    c2.close()


@pytest.mark.parametrize("fault", [Fault.REMOVE_MID_COMMAND, Fault.SILENCE])
def test_connection_faults_surface_as_errors(card_slot: PcscdService, fault: Fault) -> None:
    card_slot.card.insert("ssc2")
    card_slot.wait_present(0)
    c = Conn(card_slot.reader_names[0])
    card_slot.card.inject(fault, after=1)
    assert c.tx(SELECT_SSSE)[1] >> 8 == 0x61
    with pytest.raises(CardConnectionException):
        c.tx("00A4020002EF05")
    assert card_slot.card.fired == [fault]
    c.close()
    if fault is Fault.SILENCE:
        # The silent card stays in the slot: pcscd sees it again (freshly reset).
        card_slot.wait_present(0)
        c2 = Conn(card_slot.reader_names[0])
        assert c2.tx(SELECT_SSSE)[1] >> 8 == 0x61
        c2.close()
    else:
        card_slot.wait_absent(0)
        assert card_slot.card.card is None


def test_garbage_answer_reaches_the_client(conn: Conn, card_slot: PcscdService) -> None:
    card_slot.card.inject(Fault.GARBAGE)
    data, sw = conn.tx(SELECT_SSSE)
    assert data + bytes([sw >> 8, sw & 0xFF]) == bytes.fromhex("5AA55AA53C")
    assert conn.tx(SELECT_SSSE)[1] >> 8 == 0x61


def test_lenient_mode_answers_directly(card_slot: PcscdService) -> None:
    card_slot.card.insert(load_profile("ssc2", t0_strict=False))
    card_slot.wait_present(0)
    c = Conn(card_slot.reader_names[0])
    fci, sw = c.tx(SELECT_SSSE)
    assert sw == 0x9000 and fci[0] == 0x6F
    c.tx("00A4020002EF06")
    data, sw = c.tx("00B2080000")
    assert sw == 0x9000 and data[2:] == b"330302198503120015"
    c.close()


@pytest.mark.parametrize(
    "name", [p for p in list_profiles() if isinstance(read_profile(p), SscProfile)]
)
def test_every_ssc_profile_selects_and_reads_ef05(card_slot: PcscdService, name: str) -> None:
    prof = read_profile(name)
    assert isinstance(prof, SscProfile)
    card_slot.card.insert(name)
    card_slot.wait_present(0)
    c = Conn(card_slot.reader_names[0])
    assert c.tx(SELECT_SSSE)[1] >> 8 == 0x61
    c.tx("00A4000002EF05")
    data, sw = c.tx("00B2010412")
    assert sw == 0x9000 and data[2:] == prof.card_id
    c.close()


def test_psam_in_slot_1(psam_slot: PcscdService) -> None:
    psam_slot.wait_present(1)
    c = Conn(psam_slot.reader_names[1])
    assert c.tx("00A4000002DF01")[1] == 0x9000
    data, sw = c.tx("00B0960006")
    assert sw == 0x9000 and data == bytes.fromhex("330300000001")
    c.close()


def test_pcscd_restart_keeps_the_card(card_slot: PcscdService) -> None:
    card_slot.card.insert("ssc2")
    card_slot.wait_present(0)
    card_slot.restart()
    card_slot.wait_present(0)
    c = Conn(card_slot.reader_names[0])
    assert c.tx(SELECT_SSSE)[1] >> 8 == 0x61
    c.close()


def test_pcscd_without_vpcd_has_no_reader(card_slot: PcscdService) -> None:
    card_slot.restart(with_vpcd=False)
    assert [str(r) for r in readers()] == []
    card_slot.restart(with_vpcd=True)
    assert card_slot.reader_names[0] in [str(r) for r in readers()]
