"""Card-side data encodings: packed BCD, GBK text fields, ASCII fields, simple TLV records.

The emulator encodes the human values of a profile itself (the card's point of view), so these
helpers are its own and not the driver's parsers.
"""

from __future__ import annotations

__all__ = ["ascii_field", "bcd", "gbk_field", "split_gbk_name", "tlv"]


def bcd(digits: str, size: int | None = None, *, pad: str = "F") -> bytes:
    """Packed BCD of a digit string, right-padded with `pad` nibbles to `size` bytes.

    '20200226' -> 20 20 02 26; '3303' with size 3 -> 33 03 FF. Raises ValueError on non-digits
    or when the digits do not fit.
    """
    if not digits.isdigit() and digits != "":
        raise ValueError(f"BCD needs digits, got {digits!r}")
    nibbles = digits
    if size is None:
        size = (len(nibbles) + 1) // 2
    if len(nibbles) > size * 2:
        raise ValueError(f"{len(nibbles)} digits do not fit in {size} BCD bytes")
    nibbles = nibbles + pad * (size * 2 - len(nibbles))
    return bytes.fromhex(nibbles)


def ascii_field(text: str, size: int, *, pad: bytes = b" ") -> bytes:
    """ASCII text right-padded to exactly `size` bytes; ValueError if longer."""
    raw = text.encode("ascii")
    if len(raw) > size:
        raise ValueError(f"{text!r} is longer than {size} bytes")
    return raw + pad * (size - len(raw))


def gbk_field(text: str, size: int) -> bytes:
    """GBK text zero-padded to exactly `size` bytes; ValueError if longer."""
    raw = text.encode("gbk")
    if len(raw) > size:
        raise ValueError(f"name of {len(raw)} GBK bytes does not fit {size} bytes")
    return raw + b"\x00" * (size - len(raw))


def split_gbk_name(name: str, first: int = 30) -> tuple[bytes, bytes]:
    """Split a name's GBK bytes at a character boundary: at most `first` bytes, then the rest.

    The rest goes into the 4E extension (empty when the name fits tag 09).
    """
    head = b""
    rest = b""
    for i, ch in enumerate(name):
        enc = ch.encode("gbk")
        if len(head) + len(enc) > first:
            rest = name[i:].encode("gbk")
            break
        head += enc
    return head, rest


def tlv(tag: int, value: bytes) -> bytes:
    """One simple TLV record: T(1) L(1) V (V at most 255 bytes)."""
    if len(value) > 0xFF:
        raise ValueError("simple TLV value longer than 255 bytes")
    return bytes([tag, len(value)]) + value
