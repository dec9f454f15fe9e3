"""Building the app: Kivy configured from the `[ui]` config, fonts, catalogs and voice.

`kiosk ui`, `kiosk screenshots`, the UI tests and the benchmark all start the app through
`start_kivy()` + `build_app()`, so what is tested is what runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.config.ui import UiConfig
from ui.boot import KivySettings, configure
from ui.fonts import ensure_fonts
from ui.i18n import Catalogs
from ui.voice import Voice

if TYPE_CHECKING:
    from ui.app import KioskUi, SessionPort

__all__ = ["build_app", "start_embedded", "start_kivy"]


def start_kivy(
    cfg: UiConfig, *, offscreen: bool = False, home: Path | None = None,
    size: tuple[int, int] | None = None,
) -> None:
    """Configure Kivy for this panel (before anything imports Kivy's window)."""
    width, height = size or (cfg.width, cfg.height)
    configure(KivySettings(
        width=width, height=height, dpi=cfg.screen_dpi,
        fullscreen=cfg.fullscreen and not offscreen,
        video_driver="offscreen" if offscreen else cfg.video_driver,
        home=home or Path("var/kivy"),
    ))


def build_app(
    cfg: UiConfig, port: SessionPort, *, voice: Voice | None = None,
    heartbeat: Callable[[], None] | None = None, heartbeat_interval_s: float = 1.0,
    preview: Any = None,
) -> KioskUi:
    """The app object (not yet running): call after `start_kivy`."""
    from ui.app import KioskUi

    return KioskUi(
        port=port, catalogs=Catalogs(), fonts=ensure_fonts(),
        voice=voice or Voice(enabled=cfg.voice, volume=cfg.voice_volume, espeak=cfg.espeak),
        elderly_fontscale=cfg.elderly_fontscale, heartbeat=heartbeat,
        heartbeat_interval_s=heartbeat_interval_s, preview=preview,
        required_video_driver=cfg.video_driver if cfg.require_video_driver else "",
    )


def start_embedded(app: KioskUi) -> Callable[[int], None]:
    """Start `app` without entering Kivy's loop (screenshots, tests, benchmark): returns a
    `pump(n)` that runs n frames (clock, input, layout, drawing)."""
    from kivy.base import EventLoop, runTouchApp

    app._run_prepare()
    runTouchApp(embedded=True)

    def pump(n: int = 1) -> None:
        for _ in range(n):
            EventLoop.idle()

    return pump
