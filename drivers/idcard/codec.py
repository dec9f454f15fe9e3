"""The SAM_A module's serial frame (GA/T 467 business-terminal interface): bytes in, values out.

Host → module: `AA AA AA 96 69 | LEN (2, big-endian) | CMD PARA [data] | XOR`.
Module → host: `AA AA AA 96 69 | LEN | SW1 SW2 SW3 [data] | XOR`.
LEN counts every byte after itself, the XOR included; the XOR runs over LEN up to the last data
byte. See docs/idcard-reader.md for the command table and status codes.

Pure: no I/O. `FrameParser` is incremental and resynchronises on the preamble after garbage, a
bad LEN or a bad XOR, dropping only the first preamble byte of a bad frame so that a real frame
hidden behind it is still found.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from drivers.idcard.errors import IdCardFrameError

__all__ = [
    "MAX_LEN",
    "PHOTO_LEN",
    "PREAMBLE",
    "TEXT_LEN",
    "BadFrame",
    "Command",
    "FrameParser",
    "ReadPayload",
    "Reply",
    "Request",
    "Status",
    "build_read_payload",
    "build_reply",
    "build_request",
    "parse_read_payload",
    "status_meaning",
    "xor",
]

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
# The longest real reply is the read with fingerprints: LEN 0x090A (2314). Anything above this
# bound is garbage, and refusing it early keeps a hostile line from making us buffer megabytes.
MAX_LEN = 0x0A00


class Command(IntEnum):
    """CMD and PARA packed as one 16-bit value (CMD in the high byte)."""

    RESET_SAM = 0x10FF
    SAM_STATUS = 0x11FF
    SAM_ID = 0x12FF
    FIND_CARD = 0x2001
    SELECT_CARD = 0x2002
    READ_TEXT_PHOTO = 0x3001
    READ_NEW_ADDRESS = 0x3003
    READ_WITH_FINGERPRINTS = 0x3010
    MAX_RF_BYTES = 0x61FF

    @property
    def cmd(self) -> int:
        return self.value >> 8

    @property
    def para(self) -> int:
        return self.value & 0xFF


class Status(IntEnum):
    """SW3 (SW1 and SW2 are 00 00 on every module seen)."""

    OK = 0x90
    EMPTY = 0x91
    CARD_FOUND = 0x9F
    CHECKSUM_ERROR = 0x10
    LENGTH_ERROR = 0x11
    COMMAND_ERROR = 0x21
    UNAUTHORISED = 0x23
    UNRECOGNISED = 0x24
    CARD_AUTH_SAM_FAILED = 0x31
    SAM_AUTH_CARD_FAILED = 0x32
    INFO_CHECK_ERROR = 0x33
    UNKNOWN_CARD_TYPE = 0x40
    READ_FAILED = 0x41
    RANDOM_ERROR = 0x47
    SAM_SELF_TEST_FAILED = 0x60
    SAM_NOT_AUTHORISED = 0x66
    NO_CARD = 0x80
    SELECT_FAILED = 0x81


_MEANING: dict[int, str] = {
    Status.OK: "success",
    Status.EMPTY: "no such item",
    Status.CARD_FOUND: "card found",
    Status.CHECKSUM_ERROR: "the module saw a checksum error",
    Status.LENGTH_ERROR: "the module saw a length error",
    Status.COMMAND_ERROR: "the module does not know the command",
    Status.UNAUTHORISED: "operation not authorised",
    Status.UNRECOGNISED: "unrecognised error",
    Status.CARD_AUTH_SAM_FAILED: "the card failed to authenticate the SAM",
    Status.SAM_AUTH_CARD_FAILED: "the SAM failed to authenticate the card",
    Status.INFO_CHECK_ERROR: "information check error",
    Status.UNKNOWN_CARD_TYPE: "unknown card type",
    Status.READ_FAILED: "reading the card failed",
    Status.RANDOM_ERROR: "random number error",
    Status.SAM_SELF_TEST_FAILED: "the SAM failed its self-test",
    Status.SAM_NOT_AUTHORISED: "the SAM is not authorised",
    Status.NO_CARD: "no card",
    Status.SELECT_FAILED: "selecting the card failed",
}


def status_meaning(sw3: int) -> str:
    """Plain words for a status byte (for technicians' logs and errors)."""
    return _MEANING.get(sw3, f"unknown status 0x{sw3:02X}")


def xor(data: bytes | bytearray | memoryview) -> int:
    """XOR of every byte (the frame's check byte)."""
    acc = 0
    for b in data:
        acc ^= b
    return acc


def _frame(body: bytes) -> bytes:
    length = len(body) + 1
    if length > MAX_LEN:
        raise IdCardFrameError(f"frame body of {len(body)} bytes exceeds LEN {MAX_LEN}")
    head = struct.pack(">H", length)
    return PREAMBLE + head + body + bytes([xor(head + body)])


def build_request(command: Command, data: bytes = b"") -> bytes:
    """The host's frame for `command` (with optional data, e.g. MAX_RF_BYTES' one byte)."""
    return _frame(bytes([command.cmd, command.para]) + data)


def build_reply(sw3: int, data: bytes = b"", *, sw1: int = 0, sw2: int = 0) -> bytes:
    """The module's frame (used by the emulator, written from the module's side)."""
    if not (0 <= sw1 <= 0xFF and 0 <= sw2 <= 0xFF and 0 <= sw3 <= 0xFF):
        raise IdCardFrameError("status bytes are 0..255")
    return _frame(bytes([sw1, sw2, sw3]) + data)


@dataclass(frozen=True, slots=True)
class Reply:
    """One checked module frame: its status bytes and data."""

    sw1: int
    sw2: int
    sw3: int
    data: bytes

    @property
    def ok(self) -> bool:
        return self.sw1 == 0 and self.sw2 == 0 and self.sw3 in (Status.OK, Status.CARD_FOUND)


@dataclass(frozen=True, slots=True)
class Request:
    """One checked host frame (what the emulator hears)."""

    cmd: int
    para: int
    data: bytes

    @property
    def command(self) -> Command | None:
        try:
            return Command((self.cmd << 8) | self.para)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class BadFrame:
    """A frame that started with the preamble but failed its LEN or XOR."""

    reason: str  # "length" or "checksum"


class FrameParser:
    """Incremental parser of frames in either direction.

    `feed()` returns every complete item found: `Reply` (module side, `replies=True`) or
    `Request` (host side), and `BadFrame` for a frame that failed. Garbage before a preamble is
    counted in `garbage_bytes` and dropped. Memory is bounded by MAX_LEN + header.
    """

    def __init__(self, *, replies: bool = True) -> None:
        self._buf = bytearray()
        self._replies = replies
        self.garbage_bytes = 0

    def reset(self) -> None:
        self._buf.clear()

    @property
    def pending(self) -> int:
        """Bytes held waiting for the rest of a frame."""
        return len(self._buf)

    def feed(self, chunk: bytes | bytearray | memoryview) -> list[Reply | Request | BadFrame]:
        self._buf += chunk
        out: list[Reply | Request | BadFrame] = []
        buf = self._buf
        minimum = 4 if self._replies else 3  # status bytes + XOR, or CMD PARA + XOR
        while True:
            start = buf.find(PREAMBLE)
            if start < 0:
                # Keep a tail that may be the beginning of a preamble split across reads.
                keep = next(
                    (n for n in range(min(len(buf), 4), 0, -1) if PREAMBLE.startswith(buf[-n:])),
                    0,
                )
                self.garbage_bytes += len(buf) - keep
                del buf[: len(buf) - keep]
                return out
            if start:
                self.garbage_bytes += start
                del buf[:start]
            if len(buf) < 7:
                return out
            (length,) = struct.unpack_from(">H", buf, 5)
            if not minimum <= length <= MAX_LEN:
                out.append(BadFrame("length"))
                del buf[:1]
                continue
            end = 7 + length
            if len(buf) < end:
                return out
            if xor(memoryview(buf)[5 : end - 1]) != buf[end - 1]:
                out.append(BadFrame("checksum"))
                del buf[:1]
                continue
            body = bytes(buf[7 : end - 1])
            del buf[:end]
            if self._replies:
                out.append(Reply(body[0], body[1], body[2], body[3:]))
            else:
                out.append(Request(body[0], body[1], body[2:]))


TEXT_LEN = 256
PHOTO_LEN = 1024
FINGERPRINTS_LEN = 1024


@dataclass(frozen=True, slots=True)
class ReadPayload:
    """The data of a successful read: the 256-byte text, the WLT photo, optional fingerprints."""

    text: bytes
    photo: bytes
    fingerprints: bytes | None


def parse_read_payload(data: bytes, *, with_fingerprints: bool = False) -> ReadPayload:
    """Split a read reply's data: textLen, photoLen [, fpLen] (2 bytes each), then the parts.

    The lengths must be the fixed ones of GA/T 490 (256 / 1024 / 1024): a module that says
    otherwise is answering something else, and guessing would turn garbage into a person.
    """
    heads = 3 if with_fingerprints else 2
    if len(data) < 2 * heads:
        raise IdCardFrameError(f"read reply of {len(data)} bytes has no length fields")
    lengths = struct.unpack_from(">" + "H" * heads, data, 0)
    expected = (TEXT_LEN, PHOTO_LEN, FINGERPRINTS_LEN)[:heads]
    if lengths != expected:
        raise IdCardFrameError(f"read reply lengths {lengths}, expected {expected}")
    total = 2 * heads + sum(lengths)
    if len(data) != total:
        raise IdCardFrameError(f"read reply of {len(data)} bytes, expected {total}")
    pos = 2 * heads
    text = data[pos : pos + TEXT_LEN]
    photo = data[pos + TEXT_LEN : pos + TEXT_LEN + PHOTO_LEN]
    fps = data[pos + TEXT_LEN + PHOTO_LEN :] if with_fingerprints else None
    return ReadPayload(text, photo, fps)


def build_read_payload(text: bytes, photo: bytes, fingerprints: bytes | None = None) -> bytes:
    """The module's side of `parse_read_payload` (emulator)."""
    parts = [text, photo] + ([fingerprints] if fingerprints is not None else [])
    return struct.pack(">" + "H" * len(parts), *(len(p) for p in parts)) + b"".join(parts)
