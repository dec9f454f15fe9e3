"""The `Device` protocol every hardware adapter of the core implements."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from drivers.vocabulary import DeviceHealth, DeviceKind

__all__ = ["Device"]


@runtime_checkable
class Device(Protocol):
    """A device the composition root starts and stops; health uses the shared vocabulary."""

    name: str
    kind: DeviceKind

    @property
    def health(self) -> DeviceHealth:
        """Current health; changes are also posted as `DeviceHealthChanged` events."""
        ...

    def start(self) -> None:
        """Open the device and start its thread(s). Must not raise for a missing device:
        report `no_device` instead, so the kiosk degrades rather than crashes."""
        ...

    def stop(self) -> None:
        """Stop threads and release the device. Idempotent."""
        ...
