"""Resident ID card reader entry points: the SAM_A frame parser (never raises: a bad frame is a
`BadFrame` value), and the read reply's payload split and text decoding (`IdCardFrameError` /
`IdCardDataError`, both `IdCardError`)."""

from __future__ import annotations

import datetime as dt

from drivers.idcard.codec import (
    FrameParser,
    Reply,
    build_read_payload,
    build_reply,
    parse_read_payload,
)
from drivers.idcard.emulator.profiles import PROFILES
from drivers.idcard.errors import IdCardError
from drivers.idcard.layouts import decode_text
from tests.fuzz.target import EscapeError, Target

__all__ = ["idcard_targets"]

TOKENS = [
    b"\xaa\xaa\xaa\x96\x69",
    b"\x09\x0a",
    b"\x05\x08",
    b"\x01\x00",
    b"\x04\x00",
    b"\x90",
    b"\x00\x00",
    b"\xff\xff",
]
TODAY = dt.date(2026, 1, 1)  # fixed, so a seed's validity does not change with the calendar


def _run_stream(data: bytes) -> None:
    parser = FrameParser()
    for i in range(0, len(data), 11):  # bytes arrive in pieces, as from a serial port
        parser.feed(data[i : i + 11])
    if parser.pending > 7 + 0x0A00:
        raise EscapeError(f"parser holds {parser.pending} bytes, past one frame's bound")


def _run_read(data: bytes) -> None:
    """What the driver does with a read reply: split the payload, decode the holder's text."""
    with_fp = bool(data) and data[0] & 1 == 1
    payload = parse_read_payload(data[1:], with_fingerprints=with_fp)
    decode_text(payload.text, today=TODAY)


def idcard_targets() -> list[Target]:
    profiles = list(PROFILES.values())
    reads = [bytes([0]) + build_read_payload(p.text(), p.photo()) for p in profiles] + [
        bytes([1]) + build_read_payload(p.text(), p.photo(), bytes(1024)) for p in profiles[:2]
    ]
    frames = [build_reply(0x90, r[1:]) for r in reads[:2]] + [build_reply(0x9F), build_reply(0x80)]
    stream = [b"".join(frames), b"\x00\xaa" + frames[2] + frames[0][:-5] + frames[3]]
    assert isinstance(FrameParser().feed(frames[2])[0], Reply)  # the seeds are real frames
    return [
        Target("idcard.stream", _run_stream, (), stream, TOKENS),
        Target("idcard.read", _run_read, (IdCardError,), reads, TOKENS),
    ]
