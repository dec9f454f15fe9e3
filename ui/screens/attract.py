"""Attract: insert the card; language and elderly mode before anything else."""

from __future__ import annotations

from ui.screens.base import ViewScreen


class AttractScreen(ViewScreen):
    """Idle screen. The language and large-print buttons work without a card."""
