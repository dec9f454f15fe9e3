"""Hostile EMV cards: every answer a card can give ends in a `CardError` or a PAN, within a
bounded number of commands, bytes and time (issue 8, "Hostile input")."""

from __future__ import annotations

import contextlib
import datetime as dt
import tracemalloc
from collections.abc import Callable, Iterator

from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.card.apdu import CommandApdu, ResponseApdu
from drivers.card.bank import MAX_BANK_APDUS, read_bank_card
from drivers.card.emv import (
    MAX_DOL_DATA,
    PSE_NAME,
    UNIONPAY_DEBIT_AID,
    EmvFormatError,
    build_dol_data,
    encode_tlv,
    gpo_command_data,
    parse_dol,
    parse_fci,
)
from drivers.card.errors import CardDataError, CardError, CardTimeoutError
from drivers.card.photo import MAX_CHUNK, read_photo

H = bytes.fromhex
TODAY = dt.date(2026, 12, 3)


def _ok(data: bytes = b"") -> ResponseApdu:
    return ResponseApdu(data, 0x90, 0x00)


def _sw(sw: int) -> ResponseApdu:
    return ResponseApdu(b"", sw >> 8, sw & 0xFF)


class CountingChannel:
    """A card channel over a handler that counts the commands a read costs."""

    def __init__(self, handler: Callable[[CommandApdu], ResponseApdu]) -> None:
        self.handler = handler
        self.sent = 0

    def transmit(self, apdu: CommandApdu) -> ResponseApdu:
        self.sent += 1
        return self.handler(apdu)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        yield


def _app_fci(pdol: bytes | None = None) -> bytes:
    prop = encode_tlv(0x50, b"UnionPay Debit")
    if pdol is not None:
        prop += encode_tlv(0x9F38, pdol)
    return encode_tlv(0x6F, encode_tlv(0x84, UNIONPAY_DEBIT_AID) + encode_tlv(0xA5, prop))


def _read(handler: Callable[[CommandApdu], ResponseApdu]) -> CountingChannel:
    channel = CountingChannel(handler)
    with contextlib.suppress(CardError):
        read_bank_card(channel, today=TODAY, random=lambda n: b"\x11" * n)
    return channel


def _pse_fci(sfi: int) -> bytes:
    directory = encode_tlv(0xA5, encode_tlv(0x88, bytes([sfi])))
    return encode_tlv(0x6F, encode_tlv(0x84, PSE_NAME) + directory)


@given(sfi=st.integers(min_value=0x1F, max_value=0xFF))
def test_pse_with_an_impossible_sfi_falls_back_to_the_aids(sfi: int) -> None:
    """SFI >= 0x20 made READ RECORD's P2 overflow (ApduFormatError escaped the bank read)."""
    selected: list[bytes] = []

    def card(c: CommandApdu) -> ResponseApdu:
        if c.ins == 0xA4:
            selected.append(bytes(c.data))
            if bytes(c.data) == PSE_NAME:
                return _ok(
                    encode_tlv(
                        0x6F,
                        encode_tlv(0x84, PSE_NAME)
                        + encode_tlv(0xA5, encode_tlv(0x88, bytes([sfi]))),
                    )
                )
            return _sw(0x6A82)
        return _sw(0x6D00)

    _read(card)
    assert UNIONPAY_DEBIT_AID in selected  # the PSE was refused, the AIDs still tried


@given(sfi=st.integers(min_value=0x1F, max_value=0xFF))
def test_fci_refuses_an_sfi_outside_1_to_30(sfi: int) -> None:
    fci = encode_tlv(
        0x6F, encode_tlv(0x84, PSE_NAME) + encode_tlv(0xA5, encode_tlv(0x88, bytes([sfi])))
    )
    try:
        parse_fci(fci)
    except EmvFormatError:
        return
    raise AssertionError("an SFI outside 1..30 was accepted")


@given(lengths=st.lists(st.integers(min_value=1, max_value=0xFF), min_size=1, max_size=12))
def test_pdol_asking_too_much_is_card_data_error(lengths: list[int]) -> None:
    """A PDOL whose data would not fit one short APDU is the card's fault: CardDataError."""
    pdol = b"".join(H("9F66") + (bytes((n,)) if n < 0x80 else bytes((0x81, n))) for n in lengths)
    raised: list[BaseException] = []

    def card(c: CommandApdu) -> ResponseApdu:
        if c.ins == 0xA4:
            return _ok(_app_fci(pdol)) if bytes(c.data) == UNIONPAY_DEBIT_AID else _sw(0x6A82)
        if c.ins == 0xA8:
            assert len(c.data) <= 255
            return _sw(0x6985)
        return _sw(0x6D00)

    channel = CountingChannel(card)
    try:
        read_bank_card(channel, today=TODAY, use_pse=False, random=lambda n: b"\x11" * n)
    except CardError as e:
        raised.append(e)
    assert raised, "a refused GPO must raise"
    if sum(lengths) > MAX_DOL_DATA:
        assert isinstance(raised[0], CardDataError)


@given(length=st.integers(min_value=MAX_DOL_DATA + 1, max_value=0xFFFFFF))
@settings(max_examples=30)
def test_dol_lengths_are_refused_before_anything_is_allocated(length: int) -> None:
    """One crafted PDOL entry of 0xFFFFFF bytes used to allocate it (1.4 GiB for a few)."""
    pdol = H("9F02") + b"\x83" + length.to_bytes(3, "big")
    tracemalloc.start()
    try:
        try:
            gpo_command_data(pdol, {})
        except EmvFormatError:
            pass
        else:
            raise AssertionError("an oversized DOL was accepted")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024


def test_dol_total_is_bounded_across_entries() -> None:
    two = H("9F0281C8") + H("9F0381C8")  # 200 + 200 bytes: each fine, not together
    for attempt in (lambda: parse_dol(two), lambda: build_dol_data([(0x9F02, 200)] * 2, {})):
        try:
            attempt()
        except EmvFormatError:
            continue
        raise AssertionError("a DOL of 400 bytes was accepted")


def test_zero_length_numeric_entry_sends_nothing() -> None:
    """value[-0:] is the whole value: a 0-length numeric entry sent the whole amount."""
    assert build_dol_data([(0x9F02, 0)], {0x9F02: H("000000000100")}) == b""


@given(
    entries=st.integers(min_value=1, max_value=60),
    per_entry=st.integers(min_value=1, max_value=255),
)
@settings(max_examples=25, deadline=None)
def test_afl_without_pan_costs_bounded_commands(entries: int, per_entry: int) -> None:
    """An AFL naming thousands of records without a PAN was read to its end (quadratic)."""
    afl = bytes((0x10, 1, per_entry, 0)) * entries
    record = encode_tlv(0x70, encode_tlv(0x5F24, H("301231")) + encode_tlv(0xDF01, bytes(200)))

    def card(c: CommandApdu) -> ResponseApdu:
        if c.ins == 0xA4:
            return _ok(_app_fci()) if bytes(c.data) == UNIONPAY_DEBIT_AID else _sw(0x6A82)
        if c.ins == 0xA8:
            return _ok(encode_tlv(0x77, encode_tlv(0x82, H("7C00")) + encode_tlv(0x94, afl)))
        if c.ins == 0xB2:
            return _ok(record)
        return _sw(0x6D00)

    channel = _read(card)
    assert channel.sent <= MAX_BANK_APDUS


def test_a_slow_card_meets_the_operation_deadline() -> None:
    """Each answer is cheap but the card never ends: the read stops at its deadline."""
    now = [0.0]

    def card(c: CommandApdu) -> ResponseApdu:
        now[0] += 1.0  # every command costs the card one second
        if c.ins == 0xA4:
            return _ok(_app_fci()) if bytes(c.data) == UNIONPAY_DEBIT_AID else _sw(0x6A82)
        if c.ins == 0xA8:
            return _ok(encode_tlv(0x80, H("7C00") + bytes((0x10, 1, 255, 0))))
        return _ok(encode_tlv(0x70, encode_tlv(0x5F24, H("301231"))))

    channel = CountingChannel(card)
    try:
        read_bank_card(channel, today=TODAY, deadline_s=5.0, clock=lambda: now[0])
    except CardTimeoutError:
        assert channel.sent <= 6
        return
    raise AssertionError("the read did not stop at its deadline")


_answers = st.one_of(
    st.builds(_ok, st.binary(max_size=260)),
    st.builds(ResponseApdu, st.binary(max_size=40), st.integers(0, 255), st.integers(0, 255)),
)


def _structured_answer() -> st.SearchStrategy[bytes]:
    tags = st.sampled_from(
        [
            0x6F,
            0x84,
            0xA5,
            0x88,
            0x9F38,
            0x50,
            0x61,
            0x4F,
            0x87,
            0x70,
            0x80,
            0x77,
            0x82,
            0x94,
            0x57,
            0x5A,
            0x9F6B,
            0xBF0C,
        ]
    )
    leaf = st.builds(encode_tlv, tags, st.binary(max_size=24))
    return st.recursive(
        leaf,
        lambda kids: st.builds(
            lambda t, parts: encode_tlv(t, b"".join(parts)[:250]), tags, st.lists(kids, max_size=4)
        ),
        max_leaves=10,
    )


@given(data=st.data())
@settings(max_examples=200, deadline=None)
def test_any_card_answers_end_in_a_card_error_or_a_pan(data: st.DataObject) -> None:
    """Whatever a card answers (random or EMV-shaped), only `CardError`s leave the bank read."""
    structured = _structured_answer().map(_ok)

    def card(c: CommandApdu) -> ResponseApdu:
        return data.draw(st.one_of(_answers, structured))

    channel = CountingChannel(card)
    with contextlib.suppress(CardError):
        read_bank_card(channel, today=TODAY, random=lambda n: b"\x11" * n)
    assert channel.sent <= MAX_BANK_APDUS


def test_a_photo_answered_a_byte_at_a_time_costs_bounded_reads() -> None:
    """EF08 of 32 KiB answered one byte per READ BINARY cost 32,767 commands."""
    size = 0x7FFF

    def card(c: CommandApdu) -> ResponseApdu:
        if c.ins == 0xA4:
            return _ok(encode_tlv(0x62, encode_tlv(0x80, size.to_bytes(2, "big"))))
        return _ok(b"\xff")

    channel = CountingChannel(card)
    try:
        read_photo(channel)
    except CardDataError:
        assert channel.sent <= 1 + 2 * -(-size // MAX_CHUNK) + 2
        return
    raise AssertionError("a photo read one byte at a time was accepted")
