"""An error in plain words and what to do next; never a code alone, never a traceback."""

from __future__ import annotations

from ui.screens.base import ViewScreen


class ErrorScreen(ViewScreen):
    """Rendered from the view's title, text, fields, choices and error (see error.kv)."""

    def on_choice(self, option: str) -> None:
        self.app.intent("Choose", option=option)
