"""Take your card: the card is given back; the timer and the staff alert are the session's."""

from __future__ import annotations

from ui.screens.base import ViewScreen


class TakeCardScreen(ViewScreen):
    """Rendered from the view's title, text, fields, choices and error (see take_card.kv)."""

    def on_choice(self, option: str) -> None:
        self.app.intent("Choose", option=option)
