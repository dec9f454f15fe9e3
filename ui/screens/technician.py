"""Technician screen, behind the technician credential: the secret typed on the keypad
(`TechnicianLogin`), then device health and audited actions (`TechnicianAction`)."""

from __future__ import annotations

from ui.screens.base import ViewScreen


class TechnicianScreen(ViewScreen):
    def on_choice(self, option: str) -> None:
        self.app.intent("TechnicianAction", action=option)

    def submit_entry(self, value: str) -> None:
        self.app.intent("TechnicianLogin", secret=value)
