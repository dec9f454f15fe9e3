"""Bank number reading (PSE and AID, both GPO formats) and the swap step, on an in-test EMV card."""

from __future__ import annotations

import datetime as dt

import pytest

from drivers.card.apdu import SSSE_AID, CommandApdu, ResponseApdu
from drivers.card.bank import (
    CardIdentity,
    CardSwappedError,
    NoBankApplicationError,
    SwapStep,
    read_bank_card,
    read_card_identity,
)
from drivers.card.emv import PSE_NAME, UNIONPAY_DEBIT_AID, encode_tlv
from tests.unit.card.test_psam import FakeChannel, _ok, _sw

H = bytes.fromhex
PAN = "6217000010001234567"


class EmvCard:
    """A UnionPay debit application with a PDOL; optional PSE; GPO format 1 or 2; 5A or 57."""

    def __init__(self, *, pse: bool, fmt: int, track2: bool = False) -> None:
        self.pse, self.fmt, self.track2 = pse, fmt, track2
        self.selected = b""
        self.gpo_data = b""

    def __call__(self, c: CommandApdu) -> ResponseApdu:
        if c.ins == 0xA4:
            self.selected = bytes(c.data)
            if self.selected == PSE_NAME and self.pse:
                fci = encode_tlv(0x84, PSE_NAME) + encode_tlv(0xA5, encode_tlv(0x88, b"\x01"))
                return _ok(encode_tlv(0x6F, fci))
            if self.selected == UNIONPAY_DEBIT_AID:
                prop = encode_tlv(0x50, b"UnionPay Debit") + encode_tlv(0x9F38, H("9F66049F0206"))
                fci = encode_tlv(0x84, UNIONPAY_DEBIT_AID) + encode_tlv(0xA5, prop)
                return _ok(encode_tlv(0x6F, fci))
            return _sw(0x6A82)
        if c.ins == 0xB2:
            sfi, number = c.p2 >> 3, c.p1
            if sfi == 1 and self.selected == PSE_NAME:
                if number > 1:
                    return _sw(0x6A83)
                entry = encode_tlv(0x4F, UNIONPAY_DEBIT_AID) + encode_tlv(0x87, b"\x01")
                return _ok(encode_tlv(0x70, encode_tlv(0x61, entry)))
            if sfi == 2 and number == 1:
                return _ok(encode_tlv(0x70, encode_tlv(0x5F24, H("301231"))))
            if sfi == 2 and number == 2:
                if self.track2:
                    return _ok(encode_tlv(0x70, encode_tlv(0x57, H(PAN + "D30122201000F"))))
                return _ok(encode_tlv(0x70, encode_tlv(0x5A, H(PAN + "F"))))
            return _sw(0x6A83)
        if c.ins == 0xA8:
            self.gpo_data = bytes(c.data)
            afl = H("10010200")
            if self.fmt == 1:
                return _ok(encode_tlv(0x80, H("7C00") + afl))
            return _ok(encode_tlv(0x77, encode_tlv(0x82, H("7C00")) + encode_tlv(0x94, afl)))
        return _sw(0x6D00)


@pytest.mark.parametrize(
    ("pse", "fmt", "track2"), [(True, 1, False), (False, 2, True), (True, 2, False)]
)
def test_bank_number_by_pse_and_by_aid(pse: bool, fmt: int, track2: bool) -> None:
    card = EmvCard(pse=pse, fmt=fmt, track2=track2)
    channel = FakeChannel(card)
    bank = read_bank_card(channel, today=dt.date(2026, 11, 27), random=lambda n: b"\x11" * n)
    assert bank.pan.reveal() == PAN
    assert PAN not in str(bank) and PAN not in repr(bank)
    assert bank.found_by == ("pse" if pse else "aid")
    assert bank.gpo_format == fmt
    assert bank.aid == UNIONPAY_DEBIT_AID
    # GPO data = 83 0A TTQ(4) amount(6), built from the card's PDOL.
    assert card.gpo_data == H("830A46000000000000000000")
    assert channel.transactions == 1


def test_no_payment_application() -> None:
    with pytest.raises(NoBankApplicationError):
        read_bank_card(FakeChannel(lambda c: _sw(0x6A82)))


def _ssc(card_id: bytes) -> FakeChannel:
    def handler(c: CommandApdu) -> ResponseApdu:
        if c.ins == 0xA4:
            return _ok() if bytes(c.data) in (SSSE_AID, H("EF05")) else _sw(0x6A82)
        if c.ins == 0xB2 and c.p1 == 1:
            return _ok(b"\x01\x10" + card_id)
        return _sw(0x6D00)

    return FakeChannel(handler)


def test_swap_step_same_card_required() -> None:
    atr = H("3B6D00000087CF20018649618B00930612")
    ssc_id = H("330300D15600000599110145AABBCCDD")
    ssc = read_card_identity(_ssc(ssc_id), atr)
    step = SwapStep(ssc)
    bank = read_bank_card(FakeChannel(EmvCard(pse=True, fmt=1)))
    step.record_bank_card(bank)
    assert step.bank_card is bank
    step.check_return(read_card_identity(_ssc(ssc_id), atr))
    other = read_card_identity(_ssc(H("330300D15600000599110145AABBCCDE")), atr)
    with pytest.raises(CardSwappedError):
        step.check_return(other)
    with pytest.raises(CardSwappedError):
        step.check_return(CardIdentity(H("3B00"), ssc_id))
    with pytest.raises(CardSwappedError):
        step.check_return(None)
    assert "AABBCCDD" not in repr(ssc).upper()
