"""The 12-key keypad (digits, Enter, Clear, Cancel as a USB keypad sends them) and focus moves.

Digits type on screens that take digits (PIN, account numbers); elsewhere 2/4 move the focus
back, 6/8 forward, 5 repeats the spoken prompt, 7/9 turn the voice down/up. Enter activates the
focused target, Clear goes back (or deletes the last digit), Cancel ends the session.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["Key", "classify"]


class Key(Enum):
    DIGIT = "digit"
    ENTER = "enter"
    CLEAR = "clear"
    CANCEL = "cancel"
    OTHER = "other"


_ENTER = {13, 271}
_CLEAR = {8, 266, 127}  # Backspace, keypad '.', Delete
_CANCEL = {27}  # Escape: swallowed by kiosk mode, it is the keypad's Cancel key


def classify(key: int) -> tuple[Key, int]:
    """Kivy key code -> (kind, digit value or -1)."""
    if 48 <= key <= 57:
        return Key.DIGIT, key - 48
    if 256 <= key <= 265:
        return Key.DIGIT, key - 256
    if key in _ENTER:
        return Key.ENTER, -1
    if key in _CLEAR:
        return Key.CLEAR, -1
    if key in _CANCEL:
        return Key.CANCEL, -1
    return Key.OTHER, -1
