"""TLV (pure): the simple `T(1) L(1) V` records of the SSSE files and BER-TLV for FCIs.

Depends on nothing else of the driver (the emulator encodes with its own helpers). Raises
`TlvError` (a `ValueError`); the record parsers turn that into `CardDataError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "Tlv",
    "TlvError",
    "encode_ber",
    "encode_simple",
    "find_ber",
    "parse_ber",
    "parse_record",
    "parse_simple",
]


class TlvError(ValueError):
    """Bytes that are not well-formed TLV (length past the end, wrong tag, trailing bytes)."""


@dataclass(frozen=True, slots=True)
class Tlv:
    """One data object: `tag` (1-3 bytes as an int, e.g. 0x9F0C), `value`; `children` for a
    constructed BER object (empty otherwise)."""

    tag: int
    value: bytes
    children: tuple[Tlv, ...] = ()

    @property
    def constructed(self) -> bool:
        """Bit 6 of the tag's first byte (ISO 7816-4 §5.2.2): the value holds more objects."""
        first = self.tag >> (8 * ((self.tag.bit_length() - 1) // 8)) if self.tag else 0
        return bool(first & 0x20)


def encode_simple(tag: int, value: bytes) -> bytes:
    """One simple TLV: tag and length one byte each (records of EF05/EF06)."""
    if not 0 <= tag <= 0xFF:
        raise TlvError("a simple TLV tag is one byte")
    if len(value) > 0xFF:
        raise TlvError("a simple TLV value is at most 255 bytes")
    return bytes((tag, len(value))) + value


def parse_simple(data: bytes) -> list[Tlv]:
    """Every simple TLV in `data`, in order; raises `TlvError` if a length runs past the end."""
    out: list[Tlv] = []
    i = 0
    while i < len(data):
        if i + 2 > len(data):
            raise TlvError("truncated TLV header")
        tag, length = data[i], data[i + 1]
        end = i + 2 + length
        if end > len(data):
            raise TlvError(f"tag {tag:02X} claims {length} bytes, {len(data) - i - 2} left")
        out.append(Tlv(tag, bytes(data[i + 2 : end])))
        i = end
    return out


def parse_record(data: bytes, tag: int) -> bytes:
    """The value of a record that must be exactly one simple TLV with `tag` (docs/card.md §2.3).

    Raises `TlvError` on a different tag, a length that disagrees with the data, or trailing
    bytes: a record is never guessed at.
    """
    if len(data) < 2:
        raise TlvError("a record holds at least T and L")
    if data[0] != tag:
        raise TlvError(f"expected tag {tag:02X}, the record holds {data[0]:02X}")
    if data[1] != len(data) - 2:
        raise TlvError(f"tag {tag:02X} length {data[1]} but {len(data) - 2} value bytes")
    return bytes(data[2:])


def read_ber_tag(data: bytes, i: int) -> tuple[int, bool, int]:
    """(tag, constructed, next index) of the BER tag at `i`. Raises `TlvError`."""
    if i >= len(data):
        raise TlvError("truncated tag")
    first = data[i]
    constructed = bool(first & 0x20)
    tag = first
    i += 1
    if first & 0x1F == 0x1F:
        while True:
            if i >= len(data):
                raise TlvError("truncated multi-byte tag")
            b = data[i]
            tag = (tag << 8) | b
            i += 1
            if not b & 0x80:
                break
            if tag > 0xFFFFFF:
                raise TlvError("tag longer than 3 bytes")
    return tag, constructed, i


def read_ber_length(data: bytes, i: int) -> tuple[int, int]:
    """(length, next index) of the BER length at `i` (1-3 length bytes). Raises `TlvError`."""
    if i >= len(data):
        raise TlvError("truncated length")
    first = data[i]
    i += 1
    if first < 0x80:
        return first, i
    n = first & 0x7F
    if n == 0 or n > 3:
        raise TlvError(f"unsupported length form {first:02X}")
    if i + n > len(data):
        raise TlvError("truncated long length")
    return int.from_bytes(data[i : i + n], "big"), i + n


MAX_DEPTH = 8  # real FCI and EMV templates nest 3-4 deep; hostile data must not recurse more


def parse_ber(data: bytes, _depth: int = 0) -> list[Tlv]:
    """BER-TLV objects (ISO 7816-4 / EMV), constructed ones parsed recursively. 00 and FF
    padding between objects is skipped (EMV Book 3 annex B). Raises `TlvError`."""
    if _depth > MAX_DEPTH:
        raise TlvError("TLV nested too deeply")
    out: list[Tlv] = []
    i = 0
    while i < len(data):
        if data[i] in (0x00, 0xFF):
            i += 1
            continue
        tag, constructed, i = read_ber_tag(data, i)
        length, i = read_ber_length(data, i)
        end = i + length
        if end > len(data):
            raise TlvError(f"tag {tag:X} claims {length} bytes, {len(data) - i} left")
        value = bytes(data[i:end])
        children = tuple(parse_ber(value, _depth + 1)) if constructed else ()
        out.append(Tlv(tag, value, children))
        i = end
    return out


def find_ber(objects: Iterable[Tlv], tag: int) -> Tlv | None:
    """The first object with `tag`, searching constructed objects depth first."""
    for obj in objects:
        if obj.tag == tag:
            return obj
        found = find_ber(obj.children, tag)
        if found is not None:
            return found
    return None


def encode_ber(tag: int, value: bytes) -> bytes:
    """One BER-TLV object (tag of 1-3 bytes, definite length)."""
    tag_bytes = tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")
    n = len(value)
    if n < 0x80:
        length = bytes((n,))
    elif n <= 0xFF:
        length = bytes((0x81, n))
    elif n <= 0xFFFF:
        length = bytes((0x82,)) + n.to_bytes(2, "big")
    else:
        raise TlvError("value too long")
    return tag_bytes + length + value
