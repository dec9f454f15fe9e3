"""Affairs: registrations and applications (the choices and fields of the view)."""

from __future__ import annotations

from ui.screens.base import ViewScreen


class AffairsScreen(ViewScreen):
    """Rendered from the view's title, text, fields, choices and error (see affairs.kv)."""

    def on_choice(self, option: str) -> None:
        self.app.intent("Choose", option=option)
