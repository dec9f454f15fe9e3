"""Pension qualification (survival authentication): what it is, the result, the next date."""

from __future__ import annotations

from ui.screens.base import ViewScreen


class PensionScreen(ViewScreen):
    """Rendered from the view's title, text, fields, choices and error (see pension.kv)."""

    def on_choice(self, option: str) -> None:
        self.app.intent("Choose", option=option)
