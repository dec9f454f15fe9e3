"""T=0 response handling: 61xx chains and 6Cxx Le corrections on any command, bounded."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.card.apdu import CommandApdu, ResponseApdu, read_record, select_fid
from drivers.card.errors import CardProtocolError
from drivers.card.transport import exchange_t0


class StrictT0Card:
    """Answers `payload` the way a strict T=0 card does: 6Cxx on a wrong Le, then 61xx chunks."""

    def __init__(self, payload: bytes, chunks: list[int], wrong_le_first: bool) -> None:
        self.payload = payload
        self.chunks = chunks
        self.wrong_le_first = wrong_le_first
        self.pending = b""
        self.sent: list[CommandApdu] = []

    def __call__(self, cmd: CommandApdu) -> ResponseApdu:
        self.sent.append(cmd)
        if cmd.ins == 0xC0:
            want = cmd.le or 0
            if want != min(len(self.pending), self.chunks[0] if self.chunks else 256):
                return ResponseApdu(b"", 0x6C, min(len(self.pending), 256) & 0xFF)
            part, self.pending = self.pending[:want], self.pending[want:]
            if self.chunks:
                self.chunks.pop(0)
            if self.pending:
                nxt = min(len(self.pending), self.chunks[0] if self.chunks else 256)
                return ResponseApdu(part, 0x61, nxt & 0xFF)
            return ResponseApdu(part, 0x90, 0x00)
        if self.wrong_le_first and cmd.le != len(self.payload):
            return ResponseApdu(b"", 0x6C, len(self.payload) & 0xFF)
        if not self.payload:
            return ResponseApdu(b"", 0x90, 0x00)
        self.pending = self.payload
        nxt = min(len(self.pending), self.chunks[0] if self.chunks else 256)
        return ResponseApdu(b"", 0x61, nxt & 0xFF)


@given(
    st.binary(min_size=1, max_size=300),
    st.lists(st.integers(1, 256), max_size=6),
    st.booleans(),
)
def test_chains_and_corrections(payload: bytes, chunks: list[int], wrong_le: bool) -> None:
    card = StrictT0Card(payload, list(chunks), wrong_le)
    resp = exchange_t0(card, read_record(0x09, 0, 0x10), max_rounds=64)
    assert resp.sw == 0x9000
    assert resp.data == payload


def test_6c_on_case3_command_and_9000() -> None:
    answers = iter([ResponseApdu(b"", 0x6C, 0x05), ResponseApdu(b"12345", 0x90, 0)])
    sent: list[CommandApdu] = []

    def send(c: CommandApdu) -> ResponseApdu:
        sent.append(c)
        return next(answers)

    resp = exchange_t0(send, select_fid(0xEF05), 8)
    assert resp.data == b"12345"
    assert sent[1].le == 5 and sent[1].data == b"\xef\x05"


def test_error_status_passes_through() -> None:
    resp = exchange_t0(lambda c: ResponseApdu(b"", 0x6A, 0x82), select_fid(0xEF09), 8)
    assert resp.sw == 0x6A82


def test_endless_61_is_bounded() -> None:
    with pytest.raises(CardProtocolError):
        exchange_t0(lambda c: ResponseApdu(b"x", 0x61, 0x01), select_fid(0xEF05), 8)


def test_6c_repeating_same_le_is_an_error() -> None:
    with pytest.raises(CardProtocolError):
        exchange_t0(lambda c: ResponseApdu(b"", 0x6C, 0x10), read_record(1, 0, 0x10), 8)
