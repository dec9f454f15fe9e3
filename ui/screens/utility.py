"""Utility payment: kind, account number on the keypad, the bill, confirm, result."""

from __future__ import annotations

from ui.screens.base import ViewScreen


class UtilityScreen(ViewScreen):
    """Kinds and bills are the view's choices; the account number is its text input."""

    def on_choice(self, option: str) -> None:
        self.app.intent("Choose", option=option)
