"""vpcd wire framing (vsmartcard): 2-byte big-endian length prefix, control bytes; pure codec.

Every message between vpcd (inside pcscd) and a virtual card is `len(2, big endian) || payload`.
A one-byte payload from vpcd is a control byte (power off/on, reset, get ATR); a longer one is a
command APDU, answered by the card with the response APDU (data || SW1 SW2). An empty answer to
GET ATR means "no card" to vpcd. No I/O here: the emulator owns the socket.
"""

from __future__ import annotations

import enum
import struct

__all__ = [
    "MAX_PAYLOAD",
    "Control",
    "FrameDecoder",
    "FramingError",
    "encode_frame",
]

MAX_PAYLOAD = 0xFFFF
_HEADER = struct.Struct("!H")


class FramingError(ValueError):
    """A frame that vpcd could not send or accept (payload longer than 0xFFFF bytes)."""


class Control(enum.IntEnum):
    """Control bytes vpcd sends as one-byte payloads."""

    POWER_OFF = 0x00
    POWER_ON = 0x01
    RESET = 0x02
    GET_ATR = 0x04


def encode_frame(payload: bytes) -> bytes:
    """Prefix `payload` with its 2-byte big-endian length; raises FramingError above 0xFFFF."""
    if len(payload) > MAX_PAYLOAD:
        raise FramingError(f"vpcd payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    return _HEADER.pack(len(payload)) + payload


class FrameDecoder:
    """Incremental decoder: feed received bytes, take complete payloads out in order.

    Not thread-safe; one decoder per connection.
    """

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return every payload completed by them (possibly none)."""
        self._buf += data
        out: list[bytes] = []
        while len(self._buf) >= 2:
            (size,) = _HEADER.unpack_from(self._buf, 0)
            if len(self._buf) < 2 + size:
                break
            out.append(bytes(self._buf[2 : 2 + size]))
            del self._buf[: 2 + size]
        return out

    @property
    def pending(self) -> int:
        """Bytes received but not yet part of a complete frame."""
        return len(self._buf)
