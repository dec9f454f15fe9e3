"""The SAM_A frame codec: reference frames, round trips, and a parser that survives anything."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.idcard.codec import (
    MAX_LEN,
    PREAMBLE,
    BadFrame,
    Command,
    FrameParser,
    Reply,
    Request,
    build_read_payload,
    build_reply,
    build_request,
    parse_read_payload,
)
from drivers.idcard.errors import IdCardFrameError


def test_request_frames_match_the_published_constants() -> None:
    # docs/idcard-reader.md, command table (bytes after the preamble).
    expected = {
        Command.RESET_SAM: "000310ffec",
        Command.SAM_STATUS: "000311ffed",
        Command.SAM_ID: "000312ffee",
        Command.FIND_CARD: "0003200122",
        Command.SELECT_CARD: "0003200221",
        Command.READ_TEXT_PHOTO: "0003300132",
        Command.READ_NEW_ADDRESS: "0003300330",
        Command.READ_WITH_FINGERPRINTS: "0003301023",
    }
    for command, tail in expected.items():
        assert build_request(command) == PREAMBLE + bytes.fromhex(tail), command.name
    assert build_request(Command.MAX_RF_BYTES, b"\x50") == PREAMBLE + bytes.fromhex("000461ff50ca")


def test_error_reply_is_eleven_bytes() -> None:
    assert build_reply(0x80) == PREAMBLE + bytes.fromhex("00040000 8084".replace(" ", ""))


@given(st.integers(0, 255), st.binary(max_size=600))
def test_reply_round_trip(sw3: int, data: bytes) -> None:
    parser = FrameParser()
    (item,) = parser.feed(build_reply(sw3, data))
    assert item == Reply(0, 0, sw3, data)


@given(st.binary(max_size=200), st.binary(max_size=200), st.integers(1, 50))
def test_resync_after_garbage_and_split_reads(junk: bytes, data: bytes, cut: int) -> None:
    frame = build_reply(0x90, data)
    stream = junk + frame
    parser = FrameParser()
    items: list[object] = []
    for i in range(0, len(stream), cut):
        items += parser.feed(stream[i : i + cut])
    replies = [i for i in items if isinstance(i, Reply)]
    # Garbage may hide a frame only if it contains the preamble itself; the real frame is last.
    assert replies and replies[-1] == Reply(0, 0, 0x90, data)


def test_bad_xor_is_reported_and_the_next_frame_still_found() -> None:
    good = build_reply(0x90, b"abc")
    bad = good[:-1] + bytes([good[-1] ^ 1])
    items = FrameParser().feed(bad + good)
    assert BadFrame("checksum") in items
    assert items[-1] == Reply(0, 0, 0x90, b"abc")


def test_absurd_length_is_refused_without_buffering() -> None:
    parser = FrameParser()
    items = parser.feed(PREAMBLE + b"\xff\xff" + b"\x00" * 100)
    assert BadFrame("length") in items
    assert parser.pending < 16


@given(st.binary(max_size=4000))
def test_parser_never_raises_and_stays_bounded(noise: bytes) -> None:
    parser = FrameParser()
    for item in parser.feed(noise):
        assert isinstance(item, Reply | BadFrame)
    assert parser.pending <= 7 + MAX_LEN


def test_request_parser_hears_host_frames() -> None:
    (item,) = FrameParser(replies=False).feed(build_request(Command.FIND_CARD))
    assert isinstance(item, Request) and item.command is Command.FIND_CARD


def test_read_payload_round_trip_and_refusals() -> None:
    text, photo = b"t" * 256, b"p" * 1024
    payload = parse_read_payload(build_read_payload(text, photo))
    assert (payload.text, payload.photo, payload.fingerprints) == (text, photo, None)
    fp = parse_read_payload(build_read_payload(text, photo, b"f" * 1024), with_fingerprints=True)
    assert fp.fingerprints == b"f" * 1024
    with pytest.raises(IdCardFrameError):
        parse_read_payload(build_read_payload(text[:200], photo))
    with pytest.raises(IdCardFrameError):
        parse_read_payload(build_read_payload(text, photo) + b"x")
    with pytest.raises(IdCardFrameError):
        parse_read_payload(b"\x01")


@given(st.binary(max_size=3000))
def test_read_payload_of_garbage_is_a_typed_error(data: bytes) -> None:
    with contextlib.suppress(IdCardFrameError):
        parse_read_payload(data)
