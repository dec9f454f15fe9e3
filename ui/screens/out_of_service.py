"""Out of service: why in plain words and where to get help (also for an invalid config)."""

from __future__ import annotations

from ui.screens.base import ViewScreen


class OutOfServiceScreen(ViewScreen):
    """Rendered from the view's title, text, fields, choices and error (see out_of_service.kv)."""

    def on_choice(self, option: str) -> None:
        self.app.intent("Choose", option=option)
