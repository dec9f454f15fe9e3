"""Maintenance: the terminal is being serviced; a technician logs in on the technician screen."""

from __future__ import annotations

from ui.screens.base import ViewScreen


class MaintenanceScreen(ViewScreen):
    """Rendered from the view's title, text, fields, choices and error (see maintenance.kv)."""

    def on_choice(self, option: str) -> None:
        self.app.intent("Choose", option=option)
