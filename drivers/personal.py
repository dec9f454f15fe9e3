"""Personal values that mask themselves: ID numbers, names, card, bank and phone numbers, PINs.

A dependency-free leaf (drivers return these types, so they cannot live in `kiosk`). `str()` and
`repr()` always show the mask; the raw value comes only from an explicit `reveal()`, so an
f-string, a log line or an exception message cannot leak it by accident. A PIN is never a `str`:
it lives in a `PinBuffer` (a bytearray) that is zeroed after use.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NoReturn

__all__ = [
    "MaskPolicy",
    "Masked",
    "PersonalKind",
    "PinBuffer",
    "PinFormatError",
    "active_mask_policy",
    "mask_value",
    "set_mask_policy",
    "wipe_bytes",
]


class PersonalKind(StrEnum):
    """What a personal value is; decides how it is masked."""

    ID_NUMBER = "id_number"
    NAME = "name"
    CARD_NUMBER = "card_number"
    BANK_NUMBER = "bank_number"
    PHONE = "phone"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class MaskPolicy:
    """How many characters of each kind stay visible (defaults: docs/architecture.md, Privacy)."""

    id_head: int = 3
    id_tail: int = 4
    card_head: int = 1
    card_tail: int = 2
    bank_head: int = 6
    bank_tail: int = 4
    name_visible: int = 1  # the family name (first character of a Chinese name)
    phone_head: int = 3  # mobile numbers: the carrier prefix ...
    phone_tail: int = 4  # ... and the last four, as Chinese bank and carrier receipts show them
    mask_char: str = "*"


_policy = MaskPolicy()


def set_mask_policy(policy: MaskPolicy) -> None:
    """Set the process-wide mask policy; called once by the composition root from config."""
    global _policy
    _policy = policy


def active_mask_policy() -> MaskPolicy:
    """The mask policy in force."""
    return _policy


def _keep_ends(value: str, head: int, tail: int, char: str) -> str:
    if len(value) <= head + tail:
        # Too short to show both ends without revealing everything: show the head only.
        keep = min(head, len(value) - 1)
        return value[:keep] + char * (len(value) - keep)
    return value[:head] + char * (len(value) - head - tail) + value[len(value) - tail :]


def mask_value(kind: PersonalKind, value: str, policy: MaskPolicy | None = None) -> str:
    """Mask `value` as the policy says for `kind`; never returns the whole value."""
    p = policy or _policy
    if not value:
        return ""
    if kind is PersonalKind.ID_NUMBER:
        return _keep_ends(value, p.id_head, p.id_tail, p.mask_char)
    if kind is PersonalKind.BANK_NUMBER:
        return _keep_ends(value, p.bank_head, p.bank_tail, p.mask_char)
    if kind is PersonalKind.CARD_NUMBER:
        return _keep_ends(value, p.card_head, p.card_tail, p.mask_char)
    if kind is PersonalKind.PHONE:
        return _keep_ends(value, p.phone_head, p.phone_tail, p.mask_char)
    if kind is PersonalKind.NAME:
        if value.isascii() and " " in value.strip():
            # Latin names: keep the family name (last word), hide the given names.
            *given, family = value.split()
            return " ".join(p.mask_char * len(g) for g in given) + " " + family
        visible = min(p.name_visible, max(len(value) - 1, 1))
        return value[:visible] + p.mask_char * max(len(value) - visible, 1)
    return p.mask_char * len(value)


class Masked:
    """A personal string value whose str/repr are masked; `reveal()` gives the raw value.

    Equality and hashing use the raw value, so two reads of one card compare equal. The JSON
    encoder of `kiosk.privacy` refuses a `Masked` unless the caller asks to reveal it.
    """

    __slots__ = ("_kind", "_value")

    def __init__(self, value: str, kind: PersonalKind = PersonalKind.OTHER) -> None:
        if not isinstance(value, str):
            raise TypeError("Masked wraps a str")
        self._value = value
        self._kind = kind

    @property
    def kind(self) -> PersonalKind:
        return self._kind

    def reveal(self) -> str:
        """The raw value. Call only where the value must leave masking (card write, RPC body)."""
        return self._value

    @property
    def masked(self) -> str:
        return mask_value(self._kind, self._value)

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"Masked({self._kind.value}:{self.masked})"

    def __format__(self, spec: str) -> str:
        return format(self.masked, spec)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Masked):
            return self._kind == other._kind and self._value == other._value
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self._kind, self._value))

    def __len__(self) -> int:
        return len(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Masked value cannot be pickled")


class PinFormatError(ValueError):
    """The PIN is not 4 to 16 decimal digits (LD/T 32 PIN length, docs/card.md §3.1)."""

    code = "card.pin_invalid_format"


class PinBuffer:
    """A PIN held in a bytearray of ASCII digits, zeroed by `wipe()` (or leaving `using()`).

    Never a `str`, never logged: str/repr show only the length. Build it digit by digit from a
    keypad (`push`), and wipe it in a `finally` after VERIFY.
    """

    __slots__ = ("_digits",)

    MIN_LEN = 4
    MAX_LEN = 16

    def __init__(self) -> None:
        self._digits = bytearray()

    @classmethod
    def from_bytes(cls, digits: bytes | bytearray) -> PinBuffer:
        """Copy ASCII digits into a new buffer (the caller should wipe its own copy)."""
        buf = cls()
        for b in digits:
            buf.push(b)
        return buf

    def push(self, digit: int) -> None:
        """Append one ASCII digit (0x30..0x39)."""
        if not 0x30 <= digit <= 0x39:
            raise PinFormatError("a PIN holds decimal digits only")
        if len(self._digits) >= self.MAX_LEN:
            raise PinFormatError("a PIN has at most 16 digits")
        self._digits.append(digit)

    def pop(self) -> None:
        """Remove the last digit (keypad backspace), zeroing it first."""
        if self._digits:
            self._digits[-1] = 0
            del self._digits[-1]

    def __len__(self) -> int:
        return len(self._digits)

    def validate(self) -> None:
        """Raise `PinFormatError` unless 4..16 digits."""
        if not self.MIN_LEN <= len(self._digits) <= self.MAX_LEN:
            raise PinFormatError("a PIN has 4 to 16 digits")

    def packed_bcd(self) -> bytearray:
        """The PIN as packed BCD, padded with F for an odd length ("123456" → 12 34 56).

        The caller owns the returned bytearray and must wipe it (zero every byte) after use.
        """
        self.validate()
        nibbles = [d - 0x30 for d in self._digits]
        if len(nibbles) % 2:
            nibbles.append(0xF)
        out = bytearray(len(nibbles) // 2)
        for i in range(len(out)):
            out[i] = (nibbles[2 * i] << 4) | nibbles[2 * i + 1]
        for i in range(len(nibbles)):
            nibbles[i] = 0
        return out

    def wipe(self) -> None:
        """Zero every byte, then empty the buffer."""
        for i in range(len(self._digits)):
            self._digits[i] = 0
        self._digits.clear()

    @contextmanager
    def using(self) -> Iterator[PinBuffer]:
        """`with pin.using(): ...` wipes the PIN when the block ends, whatever happens."""
        try:
            yield self
        finally:
            self.wipe()

    def __str__(self) -> str:
        return f"<PIN of {len(self._digits)} digits>"

    __repr__ = __str__

    def __reduce__(self) -> NoReturn:
        raise TypeError("a PIN cannot be pickled")

    def __eq__(self, other: Any) -> bool:
        # Comparing PINs in Python would invite timing leaks and logging; the card compares.
        return self is other

    __hash__ = object.__hash__


def wipe_bytes(buf: bytearray) -> None:
    """Zero a bytearray in place (for PIN blocks and key material)."""
    for i in range(len(buf)):
        buf[i] = 0
