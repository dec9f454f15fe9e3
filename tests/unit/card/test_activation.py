"""Activation record codec and the write / read-back flow against a docs/card-security.md §4
card."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.card.activation import (
    ActivationRecord,
    ActivationWriteFailedError,
    ActivationWriteRefusedError,
    ActivationWriteUnconfirmed,
    key_digest,
    read_activation_record,
    write_activation_record,
)
from drivers.card.apdu import CommandApdu, ResponseApdu
from drivers.card.crypto import Algorithm
from drivers.card.cryptogram import SoftwareCryptogramProvider
from drivers.card.errors import (
    CardDataError,
    CardRemovedError,
    CardTimeoutError,
    ReaderError,
    SecurityStatusError,
)
from drivers.card.security import CardAuthenticator, card_factor_from_id
from tests.unit.card.test_psam import MASTERS, FakeChannel, _ok, _sw
from tests.unit.card.test_security import CARD_ID, FakeCard

H = bytes.fromhex
RECORD = ActivationRecord.for_activation(
    date=dt.date(2026, 11, 27), terminal_number="410100813475", idempotency_key="k-1"
)


def test_codec_layout() -> None:
    raw = RECORD.encode()
    assert raw[:2] == H("6013") and len(raw) == 21
    assert raw[2:7] == H("0120261127")
    assert raw[7:13] == H("410100813475")
    assert raw[13:] == key_digest("k-1")
    assert ActivationRecord.decode(raw) == RECORD
    assert RECORD.matches_key("k-1") and not RECORD.matches_key("k-2")
    blank = ActivationRecord.decode(H("6013") + bytes(19))
    assert not blank.activated and blank.date is None


@pytest.mark.parametrize(
    "bad",
    [
        H("6012") + bytes(18),
        H("6113") + bytes(19),
        H("601302") + bytes(18),
        H("60130120261341") + bytes(14),
        H("6013012026112A") + bytes(14),
    ],
)
def test_codec_refuses_impossible_records(bad: bytes) -> None:
    with pytest.raises(CardDataError):
        ActivationRecord.decode(bad)


@given(
    st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31)),
    st.from_regex(r"\A[0-9]{12}\Z"),
    st.text(min_size=1, max_size=40),
)
def test_codec_round_trip(date: dt.date, terminal: str, key: str) -> None:
    rec = ActivationRecord.for_activation(date=date, terminal_number=terminal, idempotency_key=key)
    assert ActivationRecord.decode(rec.encode()) == rec


@given(st.binary(max_size=30))
def test_decode_raises_only_card_data_errors(data: bytes) -> None:
    with contextlib.suppress(CardDataError):
        ActivationRecord.decode(data)


class Df04Card(FakeCard):
    """FakeCard plus DF04/EF05 record 1, PIN state and the write faults."""

    def __init__(self, fault: str = "") -> None:
        super().__init__(Algorithm.SM4, MASTERS)
        self.record = H("6013") + bytes(19)
        self.pin_ok = False
        self.fault = fault
        self.gone = False

    def __call__(self, c: CommandApdu) -> ResponseApdu:
        if self.gone:
            raise CardRemovedError("card removed")
        if self.fault == "timeout_update" and c.ins == 0xDC:
            self.record = bytes(c.data)  # committed, but the answer never comes
            raise CardTimeoutError("no answer from the card")
        if self.fault == "reader_gone_read" and c.ins == 0xB2 and self.record[2] == 1:
            raise ReaderError("the reader went away")
        if self.fault == "removed_before" and c.ins == 0x82:
            raise CardRemovedError("card removed")
        if c.ins == 0xA4:
            if c.p1 == 0x00:
                self.state.clear()  # a DF selection resets the key states
            return _ok()
        if c.ins == 0x20:
            self.pin_ok = bytes(c.data) == H("123456")
            return _ok() if self.pin_ok else _sw(0x63C2)
        if c.ins == 0xDC:
            if not self.pin_ok or 0x0B not in self.state or self.fault == "refuse":
                return _sw(0x6982)
            if self.fault != "lose_write":
                self.record = bytes(c.data)
            if self.fault in ("power_loss", "lose_write"):
                self.gone = True
            return _ok()
        if c.ins == 0xB2:
            return _ok(self.record) if self.pin_ok else _sw(0x6982)
        return super().__call__(c)


def _run(card: Df04Card, pin: bytes = H("123456")) -> ActivationRecord:
    channel = FakeChannel(card)
    auth = CardAuthenticator(
        channel,
        SoftwareCryptogramProvider(MASTERS),
        algorithm=Algorithm.SM4,
        card_factor=card_factor_from_id(CARD_ID),
    )

    def verify() -> None:
        resp = channel.transmit(CommandApdu(0x00, 0x20, 0x00, 0x00, pin))
        assert resp.ok

    return write_activation_record(channel, auth, RECORD, verify)


def test_write_and_read_back() -> None:
    card = Df04Card()
    assert _run(card) == RECORD
    assert card.record == RECORD.encode()
    channel = FakeChannel(card)
    card.pin_ok = False

    def verify() -> None:
        channel.transmit(CommandApdu(0x00, 0x20, 0x00, 0x00, H("123456")))

    assert read_activation_record(channel, verify) == RECORD
    card.pin_ok = False
    with pytest.raises(SecurityStatusError):
        read_activation_record(channel, lambda: None)


def test_write_refused() -> None:
    with pytest.raises(ActivationWriteRefusedError) as e:
        _run(Df04Card("refuse"))
    assert e.value.sw == 0x6982 and e.value.code == "card.write_failed"


@pytest.mark.parametrize("fault", ["power_loss", "lose_write"])
def test_power_lost_between_write_and_read_back_is_unconfirmed(fault: str) -> None:
    card = Df04Card(fault)
    with pytest.raises(ActivationWriteUnconfirmed) as e:
        _run(card)
    assert e.value.expected == RECORD
    # The saga's probe, once the card is back, tells which way it went.
    card.gone = False
    card.pin_ok = True
    channel = FakeChannel(card)
    probed = read_activation_record(channel, lambda: None)
    assert probed.matches_key("k-1") is (fault == "power_loss")


@pytest.mark.parametrize("fault", ["timeout_update", "reader_gone_read"])
def test_any_silence_after_the_update_is_unconfirmed(fault: str) -> None:
    # Not only a removal: a timeout on the UPDATE or a reader error on the read-back leave the
    # outcome unknown too (the record did land here), never "failed".
    card = Df04Card(fault)
    with pytest.raises(ActivationWriteUnconfirmed) as e:
        _run(card)
    assert e.value.expected == RECORD and e.value.code == "card.write_failed"
    assert card.record == RECORD.encode()


def test_removed_before_the_update_is_not_unconfirmed() -> None:
    # Gone during EXTERNAL AUTHENTICATE: nothing was sent to write, the plain error says so.
    card = Df04Card("removed_before")
    with pytest.raises(CardRemovedError):
        _run(card)
    assert card.record == H("6013") + bytes(19)


def test_read_back_differs() -> None:
    card = Df04Card()
    real = card.__call__

    def corrupt(c: CommandApdu) -> ResponseApdu:
        r = real(c)
        if c.ins == 0xB2:
            return _ok(r.data[:-1] + b"\x00")
        return r

    channel = FakeChannel(corrupt)
    auth = CardAuthenticator(
        channel,
        SoftwareCryptogramProvider(MASTERS),
        algorithm=Algorithm.SM4,
        card_factor=card_factor_from_id(CARD_ID),
    )
    card.pin_ok = True
    with pytest.raises(ActivationWriteFailedError):
        write_activation_record(channel, auth, RECORD, lambda: None)
