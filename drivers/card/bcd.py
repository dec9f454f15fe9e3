"""Packed BCD (pure): digits, F-padded region codes and YYYYMMDD dates as the card stores them.

Depends on nothing else of the driver (the emulator encodes with its own helpers). Raises
`BcdError` (a `ValueError`); the record parsers turn that into `CardDataError`.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["BcdError", "decode_date", "decode_digits", "encode_date", "encode_digits"]


class BcdError(ValueError):
    """Bytes that are not valid packed BCD, or digits that are not a date."""


def encode_digits(digits: str, length: int | None = None) -> bytes:
    """ "123456" → 12 34 56; an odd count is padded with F; `length` pads with FF bytes on the
    right (birthplace codes are FF-padded, docs/card.md §2.5)."""
    if digits and not (digits.isascii() and digits.isdigit()):
        raise BcdError("BCD holds decimal digits only")
    nibbles = [int(c) for c in digits]
    if len(nibbles) % 2:
        nibbles.append(0xF)
    out = bytes((nibbles[i] << 4) | nibbles[i + 1] for i in range(0, len(nibbles), 2))
    if length is not None:
        if len(out) > length:
            raise BcdError(f"{len(digits)} digits do not fit {length} bytes")
        out += b"\xff" * (length - len(out))
    return out


def decode_digits(data: bytes, *, allow_padding: bool = False) -> str:
    """12 34 56 → "123456". With `allow_padding`, trailing F nibbles end the digits (and nothing
    but F may follow); otherwise every nibble must be 0-9. Raises `BcdError`."""
    out: list[str] = []
    ended = False
    for b in data:
        for nib in (b >> 4, b & 0x0F):
            if nib <= 9:
                if ended:
                    raise BcdError("digit after F padding")
                out.append(chr(0x30 + nib))
            elif nib == 0xF and allow_padding:
                ended = True
            else:
                raise BcdError(f"nibble {nib:X} is not a decimal digit")
    return "".join(out)


def decode_date(data: bytes) -> dt.date:
    """4 bytes YYYYMMDD → date; raises `BcdError` for a wrong length or an impossible date."""
    if len(data) != 4:
        raise BcdError(f"a BCD date is 4 bytes, got {len(data)}")
    digits = decode_digits(data)
    try:
        return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise BcdError(f"{digits} is not a calendar date") from None


def encode_date(date: dt.date) -> bytes:
    """date → 4 bytes BCD YYYYMMDD."""
    return encode_digits(f"{date.year:04d}{date.month:02d}{date.day:02d}")
