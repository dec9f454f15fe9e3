"""GB 11643-1999 citizen ID numbers: the ISO 7064 MOD 11-2 check digit and validation.

Pure. The weights are 2^(17-i) mod 11 for the digits i = 0..16 (left to right); the weighted
sum mod 11 indexes the check character table `10X98765432`.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["check_digit", "id_number_problem", "is_valid_id_number"]

_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
_CHECK = "10X98765432"


def check_digit(first17: str) -> str:
    """The 18th character for 17 digits; ValueError on anything else."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("an ID number body is 17 digits")
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def id_number_problem(value: str) -> str | None:
    """Why `value` is not a valid 18-character ID number, or None when it is."""
    if len(value) != 18:
        return f"an ID number has 18 characters, this one {len(value)}"
    body, last = value[:17], value[17]
    if not body.isascii() or not body.isdigit():
        return "the first 17 characters of an ID number are digits"
    try:
        dt.date(int(body[6:10]), int(body[10:12]), int(body[12:14]))
    except ValueError:
        return "the ID number holds no real birth date"
    if check_digit(body) != last.upper():
        return "the ID number's check digit is wrong"
    return None


def is_valid_id_number(value: str) -> bool:
    """True for 18 characters with a real birth date and a correct check digit."""
    return id_number_problem(value) is None
