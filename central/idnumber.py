"""GB 11643-1999 citizen ID numbers: the ISO 7064 MOD 11-2 check digit, validation, generation."""

from __future__ import annotations

import datetime as dt

__all__ = ["check_digit", "is_valid_id_number", "make_id_number", "mask_id"]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"  # index = weighted sum mod 11 (GB 11643 table)


def check_digit(first17: str) -> str:
    """The 18th character for 17 digits; raises ValueError on anything else."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("an ID number body is 17 digits")
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def is_valid_id_number(value: str) -> bool:
    """True for 18 characters with a correct check digit and a real birth date."""
    if len(value) != 18 or not value[:17].isascii() or not value[:17].isdigit():
        return False
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return check_digit(value[:17]) == value[17].upper()


def make_id_number(region: str, birth: dt.date, serial: int) -> str:
    """Region code (6 digits) + birth date + a 3-digit serial (odd = male) + check digit."""
    if len(region) != 6 or not region.isdigit() or not 0 <= serial <= 999:
        raise ValueError("region is 6 digits and serial 0..999")
    body = f"{region}{birth:%Y%m%d}{serial:03d}"
    return body + check_digit(body)


def mask_id(value: str) -> str:
    """First 3 and last 4 characters shown (docs/architecture.md §9), for logs of the central
    system."""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
