"""CardEmulator at the socket level: a fake vpcd (listening, as vpcd does) speaks the framing."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.card.emulator import CardEmulator, Fault, load_profile
from drivers.card.emulator.ciphers import Algorithm, cryptogram, ecb_encrypt
from drivers.card.emulator.server import GARBAGE
from drivers.card.emulator.ssc import SSSE_NAME
from drivers.card.vpcd import Control, FrameDecoder, FramingError, encode_frame

SELECT_SSSE = bytes.fromhex("00A404000F") + SSSE_NAME
WAIT_S = 5.0  # bound for socket waits; a correct emulator answers within milliseconds


class FakeVpcd:
    """Plays vpcd: listens, accepts the card's connection, sends framed messages."""

    def __init__(self, port: int = 0) -> None:
        self.server = socket.create_server(("127.0.0.1", port))
        self.server.settimeout(WAIT_S)
        self.port = self.server.getsockname()[1]
        self.conn: socket.socket | None = None

    def accept(self) -> None:
        self.conn, _ = self.server.accept()
        self.conn.settimeout(WAIT_S)

    def send(self, payload: bytes) -> None:
        assert self.conn is not None
        self.conn.sendall(encode_frame(payload))

    def recv(self) -> bytes:
        assert self.conn is not None
        head = self._exact(2)
        return self._exact(struct.unpack("!H", head)[0])

    def _exact(self, n: int) -> bytes:
        assert self.conn is not None
        buf = b""
        while len(buf) < n:
            chunk = self.conn.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("card closed the connection")
            buf += chunk
        return buf

    def closed_by_card(self) -> bool:
        assert self.conn is not None
        try:
            return self.conn.recv(1) == b""
        except ConnectionResetError:
            return True

    def transmit(self, apdu: bytes) -> bytes:
        self.send(apdu)
        return self.recv()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.server.close()


@pytest.fixture
def rig() -> Iterator[tuple[FakeVpcd, CardEmulator]]:
    vpcd = FakeVpcd()
    emu = CardEmulator("127.0.0.1", vpcd.port, silence_s=0.05, absent_s=0.0, retry_s=0.01)
    emu.start()
    yield vpcd, emu
    emu.stop()
    vpcd.close()


def test_no_card_no_connection_then_insert_connects(rig: tuple[FakeVpcd, CardEmulator]) -> None:
    vpcd, emu = rig
    assert not emu.connected
    card = emu.insert("ssc2")
    vpcd.accept()
    vpcd.send(bytes([Control.GET_ATR]))
    assert vpcd.recv() == card.atr


def test_control_bytes_and_apdu(rig: tuple[FakeVpcd, CardEmulator]) -> None:
    vpcd, emu = rig
    card = emu.insert("ssc2")
    vpcd.accept()
    vpcd.send(bytes([Control.POWER_OFF]))
    vpcd.send(bytes([Control.GET_ATR]))  # answered even while powered off
    assert vpcd.recv() == card.atr
    vpcd.send(bytes([Control.POWER_ON]))
    vpcd.send(bytes([Control.RESET]))
    assert vpcd.transmit(SELECT_SSSE)[-2:-1] == b"\x61"
    assert emu.apdu_count == 1


def test_removal_closes_the_connection(rig: tuple[FakeVpcd, CardEmulator]) -> None:
    vpcd, emu = rig
    emu.insert("ssc2")
    vpcd.accept()
    vpcd.transmit(SELECT_SSSE)
    assert emu.remove() is not None
    assert vpcd.closed_by_card()
    assert emu.card is None


def test_swap_reconnects_with_the_new_card(rig: tuple[FakeVpcd, CardEmulator]) -> None:
    vpcd, emu = rig
    emu.insert("ssc2")
    vpcd.accept()
    new = emu.swap("bank_card")
    assert vpcd.closed_by_card()
    vpcd.accept()
    vpcd.send(bytes([Control.GET_ATR]))
    assert vpcd.recv() == new.atr


def test_garbage_fault_after_n(rig: tuple[FakeVpcd, CardEmulator]) -> None:
    vpcd, emu = rig
    emu.insert("ssc2")
    vpcd.accept()
    emu.inject(Fault.GARBAGE, after=2)
    assert vpcd.transmit(SELECT_SSSE)[-2:] == b"\x61\x1b"
    assert vpcd.transmit(SELECT_SSSE)[-2:] == b"\x61\x1b"
    assert vpcd.transmit(SELECT_SSSE) == GARBAGE
    assert vpcd.transmit(SELECT_SSSE)[-2:] == b"\x61\x1b"
    assert emu.fired == [Fault.GARBAGE]


def test_remove_mid_command(rig: tuple[FakeVpcd, CardEmulator]) -> None:
    vpcd, emu = rig
    emu.insert("ssc2")
    vpcd.accept()
    emu.inject(Fault.REMOVE_MID_COMMAND)
    vpcd.send(SELECT_SSSE)
    assert vpcd.closed_by_card()
    assert emu.card is None


def test_silence_then_drop_and_card_comes_back(rig: tuple[FakeVpcd, CardEmulator]) -> None:
    vpcd, emu = rig
    card = emu.insert("ssc2")
    vpcd.accept()
    emu.inject(Fault.SILENCE)
    vpcd.send(SELECT_SSSE)
    assert vpcd.closed_by_card()
    assert emu.card is card and not card.powered
    vpcd.accept()
    vpcd.send(bytes([Control.GET_ATR]))
    assert vpcd.recv() == card.atr


def test_write_faults(rig: tuple[FakeVpcd, CardEmulator]) -> None:
    vpcd, emu = rig
    emu.insert("ssc2")
    vpcd.accept()
    emu.inject(Fault.WRITE_REFUSED)
    assert vpcd.transmit(SELECT_SSSE)[-2:] == b"\x61\x1b"  # not a write: passes
    assert vpcd.transmit(bytes.fromhex("00DC010403600100")) == b"\x65\x81"
    emu.inject(Fault.WRITE_DENIED)
    assert vpcd.transmit(bytes.fromhex("00DC010403600100")) == b"\x69\x82"


def test_power_loss_after_write_answers_then_drops(rig: tuple[FakeVpcd, CardEmulator]) -> None:
    vpcd, emu = rig
    card = emu.insert("ssc2")
    vpcd.accept()
    emu.inject(Fault.POWER_LOSS_AFTER_WRITE)
    vpcd.transmit(SELECT_SSSE)
    # UPDATE without rights: the card answers (6986/6982), then power is lost.
    assert vpcd.transmit(bytes.fromhex("00DC010403600100"))[-2:] in (b"\x69\x86", b"\x69\x82")
    assert vpcd.closed_by_card()
    assert emu.card is card and not card.powered


def test_latency_and_lenient_card(rig: tuple[FakeVpcd, CardEmulator]) -> None:
    vpcd, emu = rig
    emu.latency_s = 0.001
    emu.insert(load_profile("ssc2", t0_strict=False))
    vpcd.accept()
    answer = vpcd.transmit(SELECT_SSSE)
    assert answer[0] == 0x6F and answer[-2:] == b"\x90\x00"


@given(st.lists(st.binary(max_size=300), max_size=8), st.integers(min_value=1, max_value=7))
def test_frame_decoder_reassembles_any_split(payloads: list[bytes], step: int) -> None:
    wire = b"".join(encode_frame(p) for p in payloads)
    dec = FrameDecoder()
    out: list[bytes] = []
    for i in range(0, len(wire), step):
        out.extend(dec.feed(wire[i : i + step]))
    assert out == payloads and dec.pending == 0


def test_frame_too_long() -> None:
    with pytest.raises(FramingError):
        encode_frame(b"\x00" * 0x10000)
    assert encode_frame(b"\x04") == b"\x00\x01\x04"


def test_cipher_known_answers() -> None:
    # SM4, GB/T 32907-2016 appendix A example 1, and the zero-key check of the reference.
    key = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
    assert ecb_encrypt(Algorithm.SM4, key, key).hex() == "681edf34d206965e86b3e94f536e4246"
    zero = ecb_encrypt(Algorithm.SM4, bytes(16), bytes(16))
    assert zero.hex() == "9f1f7bff6f5511384d9430531e538fd3"
    # Two-key 3DES with K1 = K2 is single DES: the classic DES example.
    des_key = bytes.fromhex("133457799BBCDFF1") * 2
    out = ecb_encrypt(Algorithm.TDES, des_key, bytes.fromhex("0123456789ABCDEF"))
    assert out.hex().upper() == "85E813540F0AB405"
    # Short input padding (ISO 9797-1 M2) to one block.
    assert cryptogram(Algorithm.SM4, key, b"\x01" * 8) == ecb_encrypt(
        Algorithm.SM4, key, b"\x01" * 8 + b"\x80" + bytes(7)
    )
