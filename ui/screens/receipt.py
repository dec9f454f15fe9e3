"""Result and receipt: what was done, the reference, masked personal values."""

from __future__ import annotations

from ui.screens.base import ViewScreen


class ReceiptScreen(ViewScreen):
    """Rendered from the view's title, text, fields, choices and error (see receipt.kv)."""

    def on_choice(self, option: str) -> None:
        self.app.intent("Choose", option=option)
