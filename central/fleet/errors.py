"""Errors of the fleet monitor: one root with a stable `code` and a human message."""

from __future__ import annotations

__all__ = ["CommandRefusedError", "FleetError", "MalformedMessageError", "PublishError"]


class FleetError(Exception):
    """Root of the fleet monitor's errors. `code` is stable (counted, shown to operators)."""

    code = "fleet.error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class MalformedMessageError(FleetError):
    """A terminal's message could not be used (bad JSON, wrong schema, too large, bad topic)."""

    code = "fleet.malformed"


class CommandRefusedError(FleetError):
    """The operator's command was refused before sending (unknown terminal or command, bad args)."""

    code = "fleet.command_refused"


class PublishError(FleetError):
    """The command could not be handed to the broker (not connected, queue full)."""

    code = "fleet.publish_failed"
