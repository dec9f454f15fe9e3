"""Card entry points: the pure codecs (EMV, BER/simple TLV, APDUs, FCP, activation record) and
the two reads over a card whose every answer comes from the fuzz input (bank number, holder
and photo). Seeds are the answers of our own emulated cards, recorded."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from drivers.card import emv, tlv
from drivers.card.activation import ActivationRecord
from drivers.card.apdu import ApduFormatError, CommandApdu, ResponseApdu
from drivers.card.bank import MAX_BANK_APDUS, read_bank_card
from drivers.card.emulator.profiles import load_profile
from drivers.card.errors import CardDataError, CardError
from drivers.card.photo import jpeg_payload, parse_fcp_size, read_photo
from drivers.card.ssc import SscApplication
from drivers.card.transport import exchange_t0
from tests.fuzz.target import EscapeError, Target

__all__ = ["card_targets", "decode_script", "encode_script"]

TODAY = dt.date(2026, 12, 3)
VALUES = emv.terminal_values(unpredictable=b"\x11" * 4, today=TODAY)
TOKENS = [
    bytes.fromhex(h)
    for h in (
        "6F",
        "77",
        "80",
        "94",
        "A5",
        "BF0C",
        "8801 20",
        "9F3883FFFFFF",
        "9F3881FD",
        "81FF",
        "83FFFFFF",
        "5A08",
        "57",
        "9000",
        "6100",
        "6C10",
        "6A83",
        "6982",
        "70",
        "61",
        "4F",
        "1001FF00",
        "F8FFFF00",
        "62",
        "8002 7FFF",
        "FFD8",
        "FFD9",
        "60 13",
    )
]


def encode_script(answers: list[ResponseApdu]) -> bytes:
    """A card's answers as fuzz bytes: each a 2-byte length, then data ‖ SW1 SW2."""
    out = bytearray()
    for answer in answers:
        raw = answer.to_bytes()
        out += len(raw).to_bytes(2, "big") + raw
    return bytes(out)


def decode_script(data: bytes) -> list[ResponseApdu]:
    answers, i = [], 0
    while i + 2 <= len(data):
        n = int.from_bytes(data[i : i + 2], "big")
        raw = data[i + 2 : i + 2 + n]
        i += 2 + n
        answers.append(
            ResponseApdu.from_bytes(raw) if len(raw) >= 2 else ResponseApdu(b"", 0x6A, 0x82)
        )
    return answers


class ScriptedCard:
    """A card channel answering from a script; past its end it repeats the last answer (a card
    that never stops offering records). More than `limit` commands is an `EscapeError`."""

    def __init__(self, answers: list[ResponseApdu], limit: int) -> None:
        self._answers = answers or [ResponseApdu(b"", 0x6A, 0x82)]
        self._limit = limit
        self.sent = 0

    def transmit(self, apdu: CommandApdu) -> ResponseApdu:
        self.sent += 1
        if self.sent > self._limit:
            raise EscapeError(f"more than {self._limit} commands for one card operation")
        return self._answers[min(self.sent, len(self._answers)) - 1]

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        yield


class _Recorder:
    """A channel to an emulated card that records every final answer (the seed script)."""

    def __init__(self, card: Any) -> None:
        self._card = card
        self.answers: list[ResponseApdu] = []

    def _send(self, apdu: CommandApdu) -> ResponseApdu:
        return ResponseApdu.from_bytes(self._card.execute(bytes(apdu.to_bytes())))

    def transmit(self, apdu: CommandApdu) -> ResponseApdu:
        resp = exchange_t0(self._send, apdu, 16)
        self.answers.append(resp)
        return resp

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        yield


def _recorded(profile: str, flow: Callable[[Any], object]) -> list[ResponseApdu]:
    card = load_profile(profile)
    card.power_on()
    recorder = _Recorder(card)
    with contextlib.suppress(CardError):
        flow(recorder)
    return recorder.answers


def _bank(channel: Any) -> object:
    return read_bank_card(channel, today=TODAY, random=lambda n: b"\x11" * n)


def _holder_and_photo(channel: Any) -> object:
    SscApplication(channel).read_holder()
    return read_photo(channel)


def _run_bank(data: bytes) -> None:
    _bank(ScriptedCard(decode_script(data), MAX_BANK_APDUS))


def _run_ssc(data: bytes) -> None:
    # The holder read is 17 commands; the photo at most 1 + 2 x 137 + 2 (photo.py's bound).
    _holder_and_photo(ScriptedCard(decode_script(data), 17 + 277))


CODECS: list[Callable[[bytes], object]] = [
    emv.parse_tlv,
    emv.parse_fci,
    emv.parse_gpo_response,
    emv.parse_pse_record,
    emv.parse_dol,
    lambda d: emv.gpo_command_data(d, VALUES),
    emv.parse_afl,
    emv.pan_from_track2,
    lambda d: emv.pan_from_record_data(emv.parse_tlv(d)),
    tlv.parse_simple,
    lambda d: tlv.parse_record(d, d[0] if d else 0),
    tlv.parse_ber,
    CommandApdu.from_bytes,
    ResponseApdu.from_bytes,
    parse_fcp_size,
    jpeg_payload,
    ActivationRecord.decode,
]


def _run_codecs(data: bytes) -> None:
    if data:
        CODECS[data[0] % len(CODECS)](data[1:])


def _photo_answers() -> list[ResponseApdu]:
    """EF08 as a card would give it after RKSSSE: FCP, then READ BINARY chunks of a JPEG."""
    content = b"\xff\xd8" + bytes(range(256)) * 2 + b"\xff\xd9" + bytes(100)
    fcp = emv.encode_tlv(0x62, emv.encode_tlv(0x80, len(content).to_bytes(2, "big")))
    chunks = [content[i : i + 0xF0] for i in range(0, len(content), 0xF0)]
    return [ResponseApdu(fcp, 0x90, 0x00)] + [ResponseApdu(c, 0x90, 0x00) for c in chunks]


def _seeds() -> tuple[list[bytes], list[bytes], list[bytes]]:
    bank = [_recorded(p, _bank) for p in ("bank_card", "ssc3_financial")]
    ssc = [
        _recorded(p, lambda ch: SscApplication(ch).read_holder()) + _photo_answers()
        for p in ("ssc2", "ssc2_ext", "rare_gbk")
    ]
    codec_seeds = [
        bytes([i]) + a.data for i in range(len(CODECS)) for s in bank + ssc for a in s[:6] if a.data
    ]
    return [encode_script(s) for s in bank], [encode_script(s) for s in ssc], codec_seeds


def card_targets() -> list[Target]:
    bank, ssc, codecs = _seeds()
    codec_errors = (emv.EmvFormatError, tlv.TlvError, ApduFormatError, CardDataError)
    return [
        Target("card.codecs", _run_codecs, codec_errors, codecs, TOKENS),
        Target("card.bank_read", _run_bank, (CardError,), bank, TOKENS),
        Target("card.holder_read", _run_ssc, (CardError,), ssc, TOKENS),
    ]
