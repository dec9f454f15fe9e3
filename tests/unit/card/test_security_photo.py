"""EF08 photo reading: FCP size, chunked READ BINARY, JPEG checks, 6982 without RKSSSE."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.card.apdu import CommandApdu, ResponseApdu
from drivers.card.errors import CardDataError, SecurityStatusError
from drivers.card.photo import jpeg_payload, parse_fcp_size, read_photo
from tests.unit.card.test_psam import FakeChannel, _ok, _sw

H = bytes.fromhex
JPEG = H("FFD8FFE0") + bytes(range(256)) * 3 + H("FFD9")


class PhotoCard:
    def __init__(self, content: bytes, authenticated: bool = True) -> None:
        self.content = content
        self.authenticated = authenticated
        self.reads: list[int] = []

    def __call__(self, c: CommandApdu) -> ResponseApdu:
        if c.ins == 0xA4:
            size = len(self.content).to_bytes(2, "big")
            return _ok(H("620B8002") + size + H("820101830 2EF08".replace(" ", "")))
        if c.ins == 0xB0:
            if not self.authenticated:
                return _sw(0x6982)
            off = (c.p1 << 8) | c.p2
            self.reads.append(c.le or 0)
            return _ok(self.content[off : off + (c.le or 256)])
        return _sw(0x6D00)


def test_reads_in_chunks_and_strips_padding() -> None:
    card = PhotoCard(JPEG + bytes(100))
    photo = read_photo(FakeChannel(card))
    assert photo.jpeg == JPEG
    assert max(card.reads) == 0xF0 and sum(card.reads) == len(JPEG) + 100
    assert "HolderPhoto" in repr(photo) and "FFD8" not in repr(photo)
    photo.wipe()
    assert len(photo) == 0


def test_without_rksse_the_card_says_6982() -> None:
    with pytest.raises(SecurityStatusError):
        read_photo(FakeChannel(PhotoCard(JPEG, authenticated=False)))


def test_jpeg_and_fcp_checks() -> None:
    with pytest.raises(CardDataError):
        jpeg_payload(b"\x89PNG" + bytes(10))
    with pytest.raises(CardDataError):
        jpeg_payload(JPEG[:-2] + bytes(4))
    with pytest.raises(CardDataError):
        parse_fcp_size(H("6F03820101"))
    with pytest.raises(CardDataError):
        parse_fcp_size(H("6203820101"))
    assert parse_fcp_size(H("62048002 1000".replace(" ", ""))) == 0x1000


@given(st.binary(max_size=64))
def test_photo_parsers_raise_only_card_data_errors(data: bytes) -> None:
    with contextlib.suppress(CardDataError):
        parse_fcp_size(data)
    with contextlib.suppress(CardDataError):
        out = jpeg_payload(data)
        assert out[:2] == b"\xff\xd8" and out[-2:] == b"\xff\xd9"


@pytest.mark.parametrize("blank", [bytes(64), b"\xff" * 64])
def test_blank_ef08_says_the_card_holds_no_photo(blank: bytes) -> None:
    with pytest.raises(CardDataError, match="holds no photo"):
        jpeg_payload(blank)
