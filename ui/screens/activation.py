"""Activation wizard: steps with a progress indicator (ID, bank card swap, form, consent, face,
fingerprint, submit, card write, result); the form validates field by field (the view's
text input and its validation message)."""

from __future__ import annotations

from ui.screens.base import ViewScreen


class ActivationScreen(ViewScreen):
    def on_choice(self, option: str) -> None:
        self.app.intent("Choose", option=option)
