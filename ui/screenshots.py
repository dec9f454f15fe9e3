"""`kiosk screenshots`: every screen with demo data as PNGs, offscreen (no display needed)."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from kiosk.config.ui import UiConfig
from ui.runtime import build_app, start_embedded, start_kivy

__all__ = ["DemoPort", "render_screens", "take_screenshots"]

log = logging.getLogger("ui.screenshots")


class DemoPort:
    """Stands in for the session in screenshots: records intents, follows language and
    elderly switches so the shown view changes like the session's would."""

    def __init__(self) -> None:
        self.sent: list[Any] = []
        self.app: Any = None

    def send(self, intent: Any) -> None:
        self.sent.append(intent)
        name = type(intent).__name__
        app = self.app
        if app is None or app.view is None:
            return
        if name == "SetLanguage":
            app.bridge.post(replace(app.view, language=intent.language))
        elif name == "SetElderly":
            app.bridge.post(replace(app.view, elderly=intent.enabled))


def render_screens(app: Any, views: dict[str, Any], out: Path, pump: Any) -> list[Path]:
    """Show each view, let Kivy lay it out, and write `<screen>.png` into `out`."""
    from kivy.core.window import Window

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, view in views.items():
        app.show(view)
        pump(3)
        path = out / f"{name}.png"
        shot = Window.screenshot(name=str(out / f"{name}-.png"))
        Path(shot).replace(path)
        written.append(path)
        log.info("wrote %s", path)
    return written


def take_screenshots(cfg: UiConfig, out: Path, *, language: str = "zh_CN",
                     elderly: bool = False, preview: Any = None) -> list[Path]:
    """Run the app offscreen for one pass over every screen; returns the PNG paths."""
    start_kivy(cfg, offscreen=True, home=out / ".kivy")
    from ui.demo_views import demo_views

    port = DemoPort()
    app = build_app(cfg, port, preview=preview)
    port.app = app
    pump = start_embedded(app)

    try:
        return render_screens(app, demo_views(language, elderly), out, pump)
    finally:
        app.dispatch("on_stop")
