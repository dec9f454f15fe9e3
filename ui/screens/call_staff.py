"""Staff called: help is coming; the citizen can carry on or wait."""

from __future__ import annotations

from ui.screens.base import ViewScreen


class CallStaffScreen(ViewScreen):
    """Rendered from the view's title, text, fields, choices and error (see call_staff.kv)."""

    def on_choice(self, option: str) -> None:
        self.app.intent("Choose", option=option)
