"""The holder's photo in SSSE/EF08 (docs/card-security.md §4): SELECT → FCP size, READ BINARY in
chunks, JPEG check.

EF08 needs RKSSSE (KID 0A) in the current SSSE selection, so call `read_photo` right after
`CardAuthenticator.authenticate_read()`. The photo is biometric data: it is returned in a
`HolderPhoto` whose bytes can be wiped once the face check is done, and is never logged.
"""

from __future__ import annotations

import logging

from drivers.card.apdu import read_binary, select_fid
from drivers.card.emv import EmvFormatError, find_tag, parse_tlv
from drivers.card.errors import CardDataError
from drivers.card.psam import ApduChannel
from drivers.card.status import Context, check
from drivers.personal import wipe_bytes

__all__ = ["EF08", "MAX_CHUNK", "HolderPhoto", "jpeg_payload", "parse_fcp_size", "read_photo"]

EF08 = 0xEF08
MAX_CHUNK = 0xF0  # docs/card-security.md §4: READ BINARY chunks of at most 0xF0 bytes
MAX_PHOTO = 0x7FFF  # READ BINARY offsets are 15 bits
_log = logging.getLogger("drivers.card.photo")


class HolderPhoto:
    """One JPEG (SOI..EOI) of the card holder; `wipe()` zeroes it. repr shows only its size."""

    __slots__ = ("_data",)

    def __init__(self, data: bytes | bytearray) -> None:
        self._data = bytearray(data)

    @property
    def jpeg(self) -> bytes:
        """A copy of the JPEG bytes (for the face matcher or `kiosk card read --photo`)."""
        return bytes(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def wipe(self) -> None:
        """Zero and drop the image (call when the identity check no longer needs it)."""
        wipe_bytes(self._data)
        self._data.clear()

    def __repr__(self) -> str:
        return f"<HolderPhoto {len(self._data)} bytes>"


def parse_fcp_size(fcp: bytes) -> int:
    """The file size of an FCP `62 L 80 02 <size> …`; raises `CardDataError` if absent."""
    try:
        nodes = parse_tlv(fcp)
    except EmvFormatError as e:
        raise CardDataError(f"EF08 FCP is malformed: {e}") from None
    if not nodes or nodes[0].tag != 0x62:
        raise CardDataError("EF08 SELECT answer is not an FCP template (62)")
    size = find_tag(nodes, 0x80) or find_tag(nodes, 0x81)
    if size is None or not 1 <= len(size) <= 2:
        raise CardDataError("EF08 FCP has no file size (80)")
    return int.from_bytes(size, "big")


def jpeg_payload(content: bytes | bytearray) -> bytearray:
    """The JPEG at the start of `content`, without the `00` padding after its EOI.

    Raises `CardDataError` unless the content starts with SOI (FFD8) and ends, before padding,
    with EOI (FFD9).
    """
    end = len(content)
    while end and content[end - 1] == 0x00:
        end -= 1
    if end == 0 or content.count(0xFF) == len(content):
        # A blank EF08 (all 00 or all FF): the issuer stored no photo on this card.
        raise CardDataError("this card holds no photo (EF08 is blank)")
    if content[:2] != b"\xff\xd8":
        raise CardDataError("EF08 does not hold a JPEG (no SOI)")
    if end < 4 or content[end - 2 : end] != b"\xff\xd9":
        raise CardDataError("EF08 JPEG is truncated (no EOI before the padding)")
    return bytearray(content[:end])


def read_photo(channel: ApduChannel, *, chunk: int = MAX_CHUNK) -> HolderPhoto:
    """SELECT EF08 under the selected SSSE and read the photo in one card transaction.

    Raises `SecurityStatusError` (6982) without RKSSSE, `CardDataError` for a bad FCP or JPEG,
    and the channel's `CardError`s.
    """
    if not 1 <= chunk <= MAX_CHUNK:
        raise ValueError("chunk is 1..0xF0 bytes")
    buf = bytearray()
    with channel.transaction():
        resp = channel.transmit(select_fid(EF08))
        check(resp.sw1, resp.sw2, Context.SELECT)
        size = parse_fcp_size(resp.data)
        if size > MAX_PHOTO:
            raise CardDataError(f"EF08 size {size} exceeds READ BINARY's reach")
        try:
            while len(buf) < size:
                want = min(chunk, size - len(buf))
                part = channel.transmit(read_binary(len(buf), want))
                check(part.sw1, part.sw2, Context.READ)
                if not part.data:
                    raise CardDataError(f"EF08 READ BINARY at {len(buf)} returned nothing")
                buf += part.data[:want]
            photo = HolderPhoto(jpeg_payload(buf))
        finally:
            wipe_bytes(buf)
    _log.info("holder photo read: %d bytes", len(photo))
    return photo
