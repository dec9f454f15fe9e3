"""Kivy settings that must be in place before Kivy is imported (environment and Config).

Kivy reads its environment (DPI, density, home, logging) at import and its window settings
when `kivy.core.window` is imported, so `configure()` runs first, exactly once per process.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["KivySettings", "configure"]

_done = False


@dataclass(frozen=True, slots=True)
class KivySettings:
    """What the window needs: panel size and DPI, kiosk mode, SDL driver, Kivy's home folder."""

    width: int = 1920
    height: int = 1080
    dpi: float = 102.5
    fullscreen: bool = False
    video_driver: str = ""
    home: Path = Path("var/kivy")
    console_log: bool = False


def configure(s: KivySettings) -> None:
    """Set the environment and Kivy's Config; a second call is an error (Kivy is loaded)."""
    global _done
    if _done or "kivy.core.window" in sys.modules:
        raise RuntimeError("Kivy is configured once, before its window is imported")
    _done = True
    s.home.mkdir(parents=True, exist_ok=True)
    env = os.environ
    env["KIVY_HOME"] = str(s.home.resolve())
    env["KIVY_NO_ARGS"] = "1"
    env["KIVY_NO_FILELOG"] = "1"
    env.setdefault("KIVY_LOG_MODE", "PYTHON")  # Kivy logs through our logging (privacy filter)
    if not s.console_log:
        env["KIVY_NO_CONSOLELOG"] = "1"
    # 1 dp = 1/96 inch on every panel: sizes in dp are physical sizes (ui.theme).
    env["KIVY_DPI"] = str(s.dpi)
    env["KIVY_METRICS_DENSITY"] = str(s.dpi / 96.0)
    env.setdefault("KIVY_WINDOW", "sdl2")
    env.setdefault("KIVY_CLIPBOARD", "sdl2")
    # SIGTERM must stop the app (systemd stop) even though close requests are refused: SDL
    # would turn it into a close request, so Python keeps the signals (ui.host).
    env["SDL_NO_SIGNAL_HANDLERS"] = "1"  # not xclip/xsel: no desktop tools on a kiosk
    if s.video_driver:
        env["SDL_VIDEODRIVER"] = s.video_driver
    env.setdefault("SDL_AUDIODRIVER", "dummy" if env.get("SDL_VIDEODRIVER") == "offscreen"
                   else "pulseaudio,alsa,dummy")

    from kivy.config import Config

    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "log_level", "info")
    Config.set("kivy", "keyboard_mode", "system")
    Config.set("graphics", "width", str(s.width))
    Config.set("graphics", "height", str(s.height))
    Config.set("graphics", "resizable", "0")
    Config.set("graphics", "allow_screensaver", "0")
    Config.set("graphics", "multisamples", "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    if s.fullscreen:
        Config.set("graphics", "fullscreen", "auto")
        Config.set("graphics", "borderless", "1")
        Config.set("graphics", "show_cursor", "0")
    else:
        Config.set("graphics", "fullscreen", "0")
        Config.set("graphics", "position", "custom")
        Config.set("graphics", "left", "0")
        Config.set("graphics", "top", "0")
