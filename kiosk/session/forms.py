"""Field-by-field validation of what citizens type (activation form, ID check, accounts)."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["id_number_ok", "validate_field"]

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_PHONE = re.compile(r"^1[3-9][0-9]{9}$")


def id_number_ok(value: str) -> bool:
    """An 18-character resident ID with a valid GB 11643 (ISO 7064 MOD 11-2) check character."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    total = sum(int(c) * w for c, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17].upper()


def validate_field(field: str, value: str) -> str:
    """'' when `value` is acceptable for `field`, else the message key saying what to fix."""
    if field == "phone":
        return "" if _PHONE.match(value) else "validation.phone"
    if field == "address":
        cleaned = value.strip()
        if not 4 <= len(cleaned) <= 100:
            return "validation.address_length"
        if any(unicodedata.category(c).startswith("C") for c in cleaned):
            return "validation.address_chars"
        return ""
    if field == "id_number":
        return "" if id_number_ok(value.strip().upper()) else "validation.id_number"
    return "validation.unknown_field"
