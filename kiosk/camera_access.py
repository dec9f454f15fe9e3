"""Which frame sources a terminal may use: the production rule on camera sources (issue 8).

Generated streams (`synthetic:...`) and video files are how the demo and the tests stand in
for a citizen; on a production terminal they would let anyone feed the face check a recorded
or rendered face without a camera in between. Like the emulated card reader
(kiosk/card_access.py), a production terminal refuses them: `camera_settings` marks the
settings `devices_only` (the frame source then refuses to open anything else) and raises
`CameraSourceRefusedError` at once for a refused source; `camera_findings` is the doctor's line.
"""

from __future__ import annotations

from dataclasses import replace

from drivers.camera.errors import CameraSourceRefusedError
from drivers.camera.settings import SourceSettings
from drivers.camera.source import classify_source
from drivers.card.security import ProductionFinding
from kiosk.config import KioskConfig
from kiosk.config.terminal import Mode

__all__ = ["camera_findings", "camera_settings", "refusal"]

HINT = "set camera.source to the camera device (e.g. /dev/video0 or 0); generated and file "
HINT += "sources are for demos and tests"


def refusal(config: KioskConfig, source: str | None = None) -> str:
    """Why `source` (default: the configured one) is refused here, or "" when it is not."""
    spec = config.camera.source if source is None else source
    kind = classify_source(spec)
    if config.terminal.mode is not Mode.PRODUCTION or kind == "device":
        return ""
    return f"camera.source {spec!r} is a {kind} source: a production terminal takes a camera only"


def camera_settings(
    config: KioskConfig, source: str | None = None, *, raise_refused: bool = True
) -> SourceSettings:
    """The frame source settings for this terminal; `source` overrides the configured one.
    Raises `CameraSourceRefusedError` for a generated or file source on a production
    terminal (with `raise_refused` False the settings come back and the frame source refuses
    to open it, its health and last error saying why: for a long-running app)."""
    why = refusal(config, source)
    if why and raise_refused:
        raise CameraSourceRefusedError("camera source refused", detail=why)
    settings = config.camera.to_settings(source=source)
    if config.terminal.mode is Mode.PRODUCTION:
        settings = replace(settings, devices_only=True)
    return settings


def camera_findings(config: KioskConfig) -> list[ProductionFinding]:
    """The production check of the camera source (the doctor prints it)."""
    why = refusal(config)
    detail = why or f"camera.source {config.camera.source!r} is a camera device"
    return [ProductionFinding("camera_source", not why, detail)]
