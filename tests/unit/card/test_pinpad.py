"""Secure PIN entry at the pyscard boundary: a fake (autospec) PCSCCardConnection answers the
part 10 feature TLVs; the structures sent to the reader are checked byte by byte."""

from __future__ import annotations

import struct
from typing import Any
from unittest import mock

import pytest
from smartcard.Exceptions import SmartcardException
from smartcard.pcsc.PCSCCardConnection import PCSCCardConnection
from smartcard.pcsc.PCSCPart10 import CM_IOCTL_GET_FEATURE_REQUEST

from drivers.card import apdu
from drivers.card.errors import (
    CardTimeoutError,
    PinBlockedError,
    PinEntryCancelledError,
    PinWrongError,
    ReaderError,
)
from drivers.card.pinpad import ReaderPinPad, build_modify_structure, build_verify_structure
from drivers.card.settings import CardSettings
from drivers.card.ssc import SscApplication
from drivers.card.transport import exchange_t0

VERIFY_CODE = 0x42330006
MODIFY_CODE = 0x42330007
SETTINGS = CardSettings(pin_pad_timeout_s=30, pin_length=6, pin_pad_lang_id=0x0804)


def feature_tlvs(*features: tuple[int, int]) -> list[int]:
    out: list[int] = []
    for tag, code in features:
        out += [tag, 4, *code.to_bytes(4, "big")]
    return out


def fake_connection(answer: list[int], features: list[int]) -> Any:
    conn = mock.create_autospec(PCSCCardConnection, instance=True)
    sent: list[tuple[int, list[int]]] = []

    def control(code: int, data: list[int] | None = None) -> list[int]:
        sent.append((code, list(data or [])))
        if code == CM_IOCTL_GET_FEATURE_REQUEST:
            return features
        return answer

    conn.control.side_effect = control
    conn.sent = sent
    return conn


class NoTransmit:
    """A CardChannel that must not be used: the PIN goes through the pad only."""

    def transmit(self, cmd: apdu.CommandApdu) -> apdu.ResponseApdu:
        raise AssertionError("keypad path used")

    def transaction(self) -> Any:
        raise AssertionError


def test_verify_structure_bytes() -> None:
    s = build_verify_structure(SETTINGS)
    head = struct.unpack("<BBBBBHBBHB3sI", s[:19])
    assert head == (30, 30, 0x81, 3, 0, 0x0606, 0x02, 1, 0x0804, 0, b"\0\0\0", 8)
    assert s[19:] == bytes.fromhex("0020000003FFFFFF")
    assert len(s) == 19 + 8


def test_modify_structure_bytes() -> None:
    s = build_modify_structure(SETTINGS)
    head = struct.unpack("<BBBBBBBHBBBHBBB3sI", s[:24])
    assert head[:7] == (30, 30, 0x81, 3, 0, 0, 4)
    assert head[7:11] == (0x0606, 0x03, 0x02, 3)
    assert head[11] == 0x0804
    assert head[16] == 12
    assert s[24:] == bytes.fromhex("805E010007FFFFFFFFFFFFFF")


def test_detect_and_verify_success() -> None:
    conn = fake_connection([0x90, 0x00], feature_tlvs((0x06, VERIFY_CODE), (0x07, MODIFY_CODE)))
    pad = ReaderPinPad.detect(conn, SETTINGS)
    assert pad is not None and pad.verify_code == VERIFY_CODE and pad.modify_code == MODIFY_CODE
    SscApplication(NoTransmit()).verify_pin(pad)
    code, data = conn.sent[-1]
    assert code == VERIFY_CODE
    assert bytes(data) == build_verify_structure(SETTINGS)


def test_verify_wrong_pin_and_blocked() -> None:
    conn = fake_connection([0x63, 0xC1], feature_tlvs((0x06, VERIFY_CODE)))
    pad = ReaderPinPad.detect(conn, SETTINGS)
    assert pad is not None
    with pytest.raises(PinWrongError) as info:
        SscApplication(NoTransmit()).verify_pin(pad)
    assert info.value.tries_left == 1
    conn = fake_connection([0x69, 0x83], feature_tlvs((0x06, VERIFY_CODE)))
    pad = ReaderPinPad.detect(conn, SETTINGS)
    assert pad is not None
    with pytest.raises(PinBlockedError):
        SscApplication(NoTransmit()).verify_pin(pad)


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ([0x64, 0x00], CardTimeoutError),
        ([0x64, 0x01], PinEntryCancelledError),
        ([0x6B, 0x80], ReaderError),
    ],
)
def test_reader_side_failures(answer: list[int], error: type[Exception]) -> None:
    conn = fake_connection(answer, feature_tlvs((0x06, VERIFY_CODE)))
    pad = ReaderPinPad.detect(conn, SETTINGS)
    assert pad is not None
    with pytest.raises(error):
        pad.verify()


def test_modify_on_pad() -> None:
    conn = fake_connection([0x90, 0x00], feature_tlvs((0x06, VERIFY_CODE), (0x07, MODIFY_CODE)))
    pad = ReaderPinPad.detect(conn, SETTINGS)
    assert pad is not None
    SscApplication(NoTransmit()).change_pin(pad)
    assert conn.sent[-1] == (MODIFY_CODE, list(build_modify_structure(SETTINGS)))


def test_no_pin_pad_features() -> None:
    conn = fake_connection([0x90, 0x00], feature_tlvs((0x12, 0x42330012)))
    assert ReaderPinPad.detect(conn, SETTINGS) is None
    conn = mock.create_autospec(PCSCCardConnection, instance=True)
    conn.control.side_effect = SmartcardException("IFDHControl not supported", hresult=0x80100001)
    assert ReaderPinPad.detect(conn, SETTINGS) is None


def test_modify_needs_feature() -> None:
    conn = fake_connection([0x90, 0x00], feature_tlvs((0x06, VERIFY_CODE)))
    pad = ReaderPinPad.detect(conn, SETTINGS)
    assert pad is not None
    with pytest.raises(ReaderError):
        pad.modify()


def test_keypad_pin_is_bcd_and_wiped() -> None:
    from drivers.personal import PinBuffer

    seen: list[bytes] = []

    class Card:
        def transmit(self, cmd: apdu.CommandApdu) -> apdu.ResponseApdu:
            def send(c: apdu.CommandApdu) -> apdu.ResponseApdu:
                seen.append(bytes(c.to_bytes()))
                return apdu.ResponseApdu(b"", 0x63, 0xC2)

            return exchange_t0(send, cmd, 4)

        def transaction(self) -> Any:
            raise AssertionError

    pin = PinBuffer.from_bytes(b"123456")
    with pytest.raises(PinWrongError) as info:
        SscApplication(Card()).verify_pin(pin)
    assert info.value.tries_left == 2
    assert seen == [bytes.fromhex("0020000003123456")]  # sent once: never retried
    assert len(pin) == 0
