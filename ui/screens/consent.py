"""Consent before any biometric step: purpose, what is kept and for how long, the alternative."""

from __future__ import annotations

from ui.screens.base import ViewScreen


class ConsentScreen(ViewScreen):
    """Rendered from the view's title, text, fields, choices and error (see consent.kv)."""

    def on_choice(self, option: str) -> None:
        self.app.intent("Choose", option=option)
