"""The base of every config section: strict (unknown keys are errors), frozen once loaded."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["ConfigSection"]


class ConfigSection(BaseModel):
    """Base model: `extra="forbid"` so a typo is an error naming the key, frozen after load."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)
