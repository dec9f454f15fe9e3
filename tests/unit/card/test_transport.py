"""PcscChannel at the pyscard boundary (autospec connection): error mapping keeps the hresult,
the deadline turns a silent card into CardTimeoutError, the tracer logs headers only."""

from __future__ import annotations

import logging
import threading
from typing import Any
from unittest import mock

import pytest
from smartcard import scard
from smartcard.CardConnectionEvent import CardConnectionEvent
from smartcard.Exceptions import CardConnectionException
from smartcard.pcsc.PCSCCardConnection import PCSCCardConnection

from drivers.card import apdu
from drivers.card.errors import CardRemovedError, CardTimeoutError, ReaderError
from drivers.card.settings import CardSettings
from drivers.card.transport import ApduTracer, PcscChannel, map_pcsc_error


def connection(transmit: Any) -> Any:
    conn = mock.create_autospec(PCSCCardConnection, instance=True)
    conn.transmit.side_effect = transmit
    conn.hcard = 1
    conn.hcontext = None  # no presence probe in unit tests
    return conn


def test_removed_card_maps_with_hresult() -> None:
    def transmit(cmd: list[int]) -> Any:
        raise CardConnectionException("gone", hresult=scard.SCARD_W_REMOVED_CARD)

    ch = PcscChannel(connection(transmit), reader="R", settings=CardSettings(apdu_timeout_s=0))
    with pytest.raises(CardRemovedError) as info:
        ch.transmit(apdu.select_fid(0xEF05))
    assert info.value.hresult == scard.SCARD_W_REMOVED_CARD
    assert "0x80100069" in str(info.value)


def test_service_gone_is_reader_error() -> None:
    err = map_pcsc_error(CardConnectionException("x", hresult=scard.SCARD_E_NO_SERVICE), "op")
    assert isinstance(err, ReaderError)


def test_t0_through_channel() -> None:
    answers = iter([([], 0x61, 0x03), ([1, 2, 3], 0x90, 0x00)])
    sent: list[list[int]] = []

    def transmit(cmd: list[int]) -> Any:
        sent.append(cmd)
        return next(answers)

    ch = PcscChannel(connection(transmit), reader="R", settings=CardSettings())
    try:
        resp = ch.transmit(apdu.select_by_name(apdu.SSSE_AID))
    finally:
        ch.close()
    assert resp.data == b"\x01\x02\x03" and resp.ok
    assert sent[1] == [0x00, 0xC0, 0x00, 0x00, 0x03]


def test_silent_card_hits_the_deadline() -> None:
    release = threading.Event()

    def transmit(cmd: list[int]) -> Any:
        release.wait(30)
        raise CardConnectionException("late", hresult=scard.SCARD_E_NOT_TRANSACTED)

    ch = PcscChannel(connection(transmit), reader="R", settings=CardSettings(apdu_timeout_s=0.05))
    with pytest.raises(CardTimeoutError):
        ch.transmit(apdu.select_fid(0xEF05))
    with pytest.raises(CardTimeoutError):  # unusable afterwards: the card state is unknown
        ch.transmit(apdu.select_fid(0xEF05))
    ch.close()  # does not block behind the stuck call
    release.set()


def test_operation_deadline() -> None:
    release = threading.Event()
    ch = PcscChannel(
        connection(lambda c: ([], 0x90, 0)),
        reader="R",
        settings=CardSettings(operation_timeout_s=0.05),
    )
    with pytest.raises(CardTimeoutError):
        ch.run(lambda: release.wait(30), "slow operation")
    release.set()
    ch.close()


def test_sensitive_command_list_is_zeroed() -> None:
    seen: list[list[int]] = []

    def transmit(cmd: list[int]) -> Any:
        seen.append(cmd)
        return ([], 0x90, 0x00)

    ch = PcscChannel(connection(transmit), reader="R", settings=CardSettings(apdu_timeout_s=0))
    ch.transmit(apdu.verify(bytearray(b"\x12\x34\x56")))
    assert seen[0] == [0] * 8  # the list pyscard got is wiped after the exchange


def test_tracer_logs_headers_and_status_only(caplog: pytest.LogCaptureFixture) -> None:
    tracer = ApduTracer(logging.getLogger("t.apdu"))
    caplog.set_level(logging.DEBUG, logger="t.apdu")
    verify = [0x00, 0x20, 0x00, 0x00, 0x03, 0x12, 0x34, 0x56]
    tracer.update(None, CardConnectionEvent("command", [verify, 1]))
    tracer.update(None, CardConnectionEvent("response", [[0x41, 0x42], 0x63, 0xC2]))
    tracer.update(None, CardConnectionEvent("command", [0x42000DAC, [1, 2]]))
    tracer.update(None, object())  # never raises
    text = caplog.text
    assert "00 20 00 00" in text and "SW 63C2" in text and "control 0x42000DAC" in text
    assert "12 34 56" not in text and "123456" not in text
    assert "34 56" not in text and "3456" not in text and "41 42" not in text
